// src/core/json_value.hpp: JSON values as a flat token stream, and their canonical bytes.
//
// The glue flattens a jsonb value into tokens (no copy of string bytes); the core turns the
// tokens into the canonical encoding that value commitments hash. Object members must come
// in canonical key order (shorter keys first, then bytewise), which is jsonb's own order,
// so a jsonb walk yields it for free; anything else is rejected rather than silently sorted.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "core/views.hpp"

namespace audit_chain::core {

enum class JsonKind : uint8_t {
	kNull,
	kFalse,
	kTrue,
	kNumber,  // text: the decimal literal exactly as PostgreSQL prints the numeric
	kString,  // text: the UTF-8 string, unescaped
	kArray,   // count: number of elements that follow
	kObject,  // count: number of members that follow, each a kString key then a value
};

struct JsonToken {
	JsonKind kind;
	uint32_t count;
	TextView text;
};

static_assert(std::is_trivially_destructible_v<JsonToken>);

// Canonical order of object keys: shorter first, then bytewise (jsonb's order).
inline bool
KeyLess(std::string_view a, std::string_view b)
{
	if (a.size() != b.size())
		return a.size() < b.size();
	return a < b;
}

// Number of tokens that make up the value starting at tokens[0] (throws if truncated).
uint32_t JsonValueTokenCount(const JsonToken *tokens, uint32_t available);

// Writes the canonical encoding of one value into sink; returns the tokens consumed.
template <typename Sink>
uint32_t EncodeJsonValue(Sink &sink, const JsonToken *tokens, uint32_t available);

}  // namespace audit_chain::core
