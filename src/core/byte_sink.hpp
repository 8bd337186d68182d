// src/core/byte_sink.hpp: the primitive big-endian field writers of the hash specification.
//
// Every hashed structure is written through these functions into a sink: a Sha256 (the
// normal case, no buffering) or a ByteSink (to show the exact canonical bytes, e.g. in the
// published test vectors). Both sinks see byte-identical input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/views.hpp"

namespace audit_chain::core {

// Collects the canonical bytes instead of hashing them.
class ByteSink {
public:
	void Update(const void *data, size_t size) { bytes_.append(static_cast<const char *>(data), size); }
	const std::string &bytes() const { return bytes_; }

private:
	std::string bytes_;
};

template <typename Sink>
inline void
PutU8(Sink &sink, uint8_t v)
{
	sink.Update(&v, 1);
}

template <typename Sink>
inline void
PutU32(Sink &sink, uint32_t v)
{
	const uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
	sink.Update(b, 4);
}

template <typename Sink>
inline void
PutU64(Sink &sink, uint64_t v)
{
	uint8_t b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = uint8_t(v);
	sink.Update(b, 8);
}

// Signed values are written as their two's complement 64-bit pattern.
template <typename Sink>
inline void
PutI64(Sink &sink, int64_t v)
{
	PutU64(sink, static_cast<uint64_t>(v));
}

// A string: its byte length (u32) then its UTF-8 bytes.
template <typename Sink>
inline void
PutStr(Sink &sink, std::string_view s)
{
	PutU32(sink, static_cast<uint32_t>(s.size()));
	sink.Update(s.data(), s.size());
}

template <typename Sink>
inline void
PutBytes(Sink &sink, const uint8_t *data, size_t size)
{
	sink.Update(data, size);
}

}  // namespace audit_chain::core
