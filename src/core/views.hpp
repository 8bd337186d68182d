// src/core/views.hpp: non-owning views over bytes that the caller owns.
//
// They are trivially destructible on purpose: the PostgreSQL glue builds them over palloc'd
// memory in frames that may longjmp, and hands them to the core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace audit_chain::core {

struct TextView {
	const char *data = nullptr;
	uint32_t size = 0;

	std::string_view str() const { return {data, size}; }
};

constexpr size_t kHashSize = 32;  // SHA-256 output
constexpr size_t kSaltSize = 16;  // secret salt of an event, and of a context
constexpr size_t kValueKeySize = 16;  // per-value commitment key
constexpr size_t kUuidSize = 16;

struct Hash {
	uint8_t bytes[kHashSize];
};

static_assert(std::is_trivially_destructible_v<TextView>);
static_assert(std::is_trivially_destructible_v<Hash>);

}  // namespace audit_chain::core
