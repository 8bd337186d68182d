// src/core/sha256.cpp: SHA-256 through OpenSSL's block function.
//
// OpenSSL 3 marks SHA256_Init/Transform deprecated in favour of EVP, but EVP costs 40-70 ns
// of dispatch per digest and SHA256_Final clears its whole context each time; the chain
// hashes several short inputs per event and verify() must check a million events a second.
// So the block compression (SHA256_Transform: OpenSSL's implementation, SHA-NI or AVX where
// the CPU has them) is driven from here, with the standard padding done here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "core/sha256.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstring>

#include "core/error.hpp"
#include "core/core_only.hpp"

namespace audit_chain::core {

static_assert(sizeof(SHA256_CTX) <= 112, "Sha256::state_ too small for SHA256_CTX");
static_assert(alignof(SHA256_CTX) <= 8, "Sha256::state_ under-aligned for SHA256_CTX");

static SHA256_CTX *
Ctx(unsigned char *state)
{
	return reinterpret_cast<SHA256_CTX *>(state);
}

Sha256::Sha256()
{
	if (SHA256_Init(Ctx(state_)) != 1)
		throw Error(ErrorCode::kInternal, "could not initialize SHA-256");
}

void
Sha256::Compress(const unsigned char *block)
{
	SHA256_Transform(Ctx(state_), block);
}

void
Sha256::UpdateSlow(const unsigned char *data, size_t size)
{
	total_size_ += size;
	if (pending_size_ > 0) {
		uint32_t take = kBlockSize - pending_size_;
		std::memcpy(block_ + pending_size_, data, take);
		Compress(block_);
		data += take;
		size -= take;
		pending_size_ = 0;
	}
	for (; size >= kBlockSize; data += kBlockSize, size -= kBlockSize)
		Compress(data);
	std::memcpy(block_, data, size);
	pending_size_ = static_cast<uint32_t>(size);
}

Hash
Sha256::Final()
{
	// 0x80, zeros, then the message length in bits as a big-endian 64-bit number.
	uint64_t bits = total_size_ * 8;
	block_[pending_size_++] = 0x80;
	if (pending_size_ > kBlockSize - 8) {
		std::memset(block_ + pending_size_, 0, kBlockSize - pending_size_);
		Compress(block_);
		pending_size_ = 0;
	}
	std::memset(block_ + pending_size_, 0, kBlockSize - 8 - pending_size_);
	uint64_t be_bits = __builtin_bswap64(bits);
	std::memcpy(block_ + kBlockSize - 8, &be_bits, 8);
	Compress(block_);
	Hash out;
	const SHA256_CTX *ctx = Ctx(state_);
	for (int i = 0; i < 8; i++) {
		uint32_t be = __builtin_bswap32(ctx->h[i]);
		std::memcpy(out.bytes + 4 * i, &be, 4);
	}
	return out;
}

Hash
Sha256::Of(const void *data, size_t size)
{
	Sha256 h;
	h.Update(data, size);
	return h.Final();
}

Hash
Sha256::Hmac(const void *key, size_t key_size, const void *data, size_t size)
{
	Hash out;
	unsigned int len = 0;
	if (HMAC(EVP_sha256(), key, static_cast<int>(key_size), static_cast<const unsigned char *>(data), size, out.bytes,
			 &len) == nullptr ||
		len != kHashSize)
		throw Error(ErrorCode::kInternal, "could not compute HMAC-SHA256");
	return out;
}

}  // namespace audit_chain::core
