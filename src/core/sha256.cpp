// src/core/sha256.cpp: SHA-256 through OpenSSL's one-block-at-a-time interface.
//
// OpenSSL 3 marks SHA256_Init/Update/Final deprecated in favour of EVP, but EVP costs
// 40-70 ns of dispatch per digest; the chain hashes several short inputs per event and
// verify() must check a million events a second, so the direct interface is used.
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
Sha256::Update(const void *data, size_t size)
{
	if (size != 0 && SHA256_Update(Ctx(state_), data, size) != 1)
		throw Error(ErrorCode::kInternal, "could not compute SHA-256");
}

Hash
Sha256::Final()
{
	Hash out;
	if (SHA256_Final(out.bytes, Ctx(state_)) != 1)
		throw Error(ErrorCode::kInternal, "could not compute SHA-256");
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
