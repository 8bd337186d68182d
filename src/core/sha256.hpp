// src/core/sha256.hpp: streaming SHA-256 over OpenSSL's block function.
//
// The state is a plain struct (no heap, no destructor), so a hasher may live anywhere,
// including in palloc'd memory, and costs nothing to create per event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "core/views.hpp"

namespace audit_chain::core {

class Sha256 {
public:
	Sha256();

	// The canonical encodings feed many fields of a few bytes each: they are gathered here
	// and compressed a block at a time, since each call into OpenSSL costs more than a copy.
	void Update(const void *data, size_t size)
	{
		if (size < kBlockSize - pending_size_) {
			std::memcpy(block_ + pending_size_, data, size);
			pending_size_ += static_cast<uint32_t>(size);
			total_size_ += size;
		} else {
			UpdateSlow(static_cast<const unsigned char *>(data), size);
		}
	}
	void Update(std::string_view s) { Update(s.data(), s.size()); }
	Hash Final();

	static Hash Of(const void *data, size_t size);

	// HMAC-SHA256 (RFC 2104) of data under key.
	static Hash Hmac(const void *key, size_t key_size, const void *data, size_t size);

private:
	static constexpr uint32_t kBlockSize = 64;

	void UpdateSlow(const unsigned char *data, size_t size);
	void Compress(const unsigned char *block);

	// Mirrors OpenSSL's SHA256_CTX (checked in sha256.cpp) so this header stays free of
	// OpenSSL's deprecation macros. Only its chaining value is used: padding and buffering
	// are done here (FIPS 180-4, section 5.1.1).
	alignas(8) unsigned char state_[112];
	unsigned char block_[kBlockSize];
	uint32_t pending_size_ = 0;
	uint64_t total_size_ = 0;
};

static_assert(std::is_trivially_destructible_v<Sha256>);

}  // namespace audit_chain::core
