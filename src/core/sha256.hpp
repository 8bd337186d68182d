// src/core/sha256.hpp: streaming SHA-256 over OpenSSL.
//
// The state is a plain struct (no heap, no destructor), so a hasher may live anywhere,
// including in palloc'd memory, and costs nothing to create per event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "core/views.hpp"

namespace audit_chain::core {

class Sha256 {
public:
	Sha256();
	void Update(const void *data, size_t size);
	void Update(std::string_view s) { Update(s.data(), s.size()); }
	Hash Final();

	static Hash Of(const void *data, size_t size);

	// HMAC-SHA256 (RFC 2104) of data under key.
	static Hash Hmac(const void *key, size_t key_size, const void *data, size_t size);

private:
	// Mirrors OpenSSL's SHA256_CTX (checked in sha256.cpp) so this header stays free of
	// OpenSSL's deprecation macros.
	alignas(8) unsigned char state_[112];
};

static_assert(std::is_trivially_destructible_v<Sha256>);

}  // namespace audit_chain::core
