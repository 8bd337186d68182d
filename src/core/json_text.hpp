// src/core/json_text.hpp: parses JSON text into canonical tokens (for tools and tests).
//
// Inside the server values arrive as jsonb and never pass through here. Exported events
// arrive as text; this parser gives them the token form the hash specification uses:
// numbers keep their literal text, strings are unescaped, object keys are sorted into
// canonical order and a repeated key keeps its last value (as jsonb does).
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_value.hpp"

namespace audit_chain::core {

class JsonDocument {
public:
	// Throws Error(kInvalidText) on malformed JSON, including strings that are not valid UTF-8.
	static JsonDocument Parse(std::string_view text);

	// Tokens point into strings_: a copy would point into the original, so only moves are
	// allowed (moving a deque keeps its elements where they are).
	JsonDocument(const JsonDocument &) = delete;
	JsonDocument &operator=(const JsonDocument &) = delete;
	JsonDocument(JsonDocument &&) = default;
	JsonDocument &operator=(JsonDocument &&) = default;

	const std::vector<JsonToken> &tokens() const { return tokens_; }

	// The tokens of the top-level object's members, in canonical order: for each member
	// its key and the index range of its value tokens. Throws unless the root is an object.
	struct Member {
		std::string_view key;
		uint32_t first;
		uint32_t count;
	};
	std::vector<Member> Members() const;

private:
	JsonDocument() = default;

	std::deque<std::string> strings_;  // owns unescaped strings referenced by tokens_
	std::vector<JsonToken> tokens_;
	friend class JsonTextParser;
};

}  // namespace audit_chain::core
