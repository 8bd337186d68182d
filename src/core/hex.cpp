// src/core/hex.cpp: hexadecimal encoding and strict decoding.
#include "core/hex.hpp"

#include "core/error.hpp"
#include "core/core_only.hpp"

namespace audit_chain::core {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

int
Nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

}  // namespace

void
HexEncode(const uint8_t *data, size_t size, char *out)
{
	for (size_t i = 0; i < size; i++) {
		out[2 * i] = kDigits[data[i] >> 4];
		out[2 * i + 1] = kDigits[data[i] & 15];
	}
}

std::string
HexEncode(const uint8_t *data, size_t size)
{
	std::string s(2 * size, '\0');
	HexEncode(data, size, s.data());
	return s;
}

void
HexDecode(std::string_view text, uint8_t *out, size_t out_size)
{
	if (text.size() != 2 * out_size)
		throw Error(ErrorCode::kInvalidText, "invalid hexadecimal string",
					"Expected " + std::to_string(2 * out_size) + " hexadecimal digits, got " +
						std::to_string(text.size()) + ".");
	for (size_t i = 0; i < out_size; i++) {
		int hi = Nibble(text[2 * i]);
		int lo = Nibble(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			throw Error(ErrorCode::kInvalidText, "invalid hexadecimal string",
						"Only the digits 0-9 and a-f are allowed.");
		out[i] = uint8_t(hi << 4 | lo);
	}
}

}  // namespace audit_chain::core
