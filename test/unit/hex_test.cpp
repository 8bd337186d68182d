// test/unit/hex_test.cpp: hex encoding and strict decoding.
#include <gtest/gtest.h>

#include <string>

#include "core/hex.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::HexDecode;
using core::HexEncode;

TEST(Hex, EncodesLowerCase)
{
	const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
	EXPECT_EQ(HexEncode(bytes, sizeof bytes), "00017f80abcdefff");
	char out[4] = {'x', 'x', 'x', 'x'};
	HexEncode(bytes + 5, 1, out);
	EXPECT_EQ(std::string(out, 4), "cdxx");  // exactly 2 * size characters, no terminator
}

TEST(Hex, EncodesNothing)
{
	EXPECT_EQ(HexEncode(nullptr, 0), "");
}

TEST(Hex, RoundTripsAllByteValues)
{
	std::string all;
	for (int i = 0; i < 256; i++)
		all += char(i);
	std::string hex = HexEncode(U8(all), all.size());
	EXPECT_EQ(hex, ToHex(all));
	std::string back(all.size(), '\0');
	HexDecode(hex, reinterpret_cast<uint8_t *>(back.data()), back.size());
	EXPECT_EQ(back, all);
}

TEST(Hex, DecodesUpperAndMixedCase)
{
	uint8_t out[4];
	HexDecode("DEADbeef", out, 4);
	EXPECT_EQ(ToHex(out, 4), "deadbeef");
	HexDecode("0aF9c3B0", out, 4);
	EXPECT_EQ(ToHex(out, 4), "0af9c3b0");
}

TEST(Hex, DecodesEmpty)
{
	HexDecode("", nullptr, 0);
}

TEST(Hex, RejectsWrongLength)
{
	uint8_t out[4];
	EXPECT_CORE_ERROR(HexDecode("", out, 4), ErrorCode::kInvalidText);
	EXPECT_CORE_ERROR(HexDecode("abcdef", out, 4), ErrorCode::kInvalidText);
	EXPECT_CORE_ERROR(HexDecode("abcdef0", out, 4), ErrorCode::kInvalidText);   // odd
	EXPECT_CORE_ERROR(HexDecode("abcdef012", out, 4), ErrorCode::kInvalidText);  // one digit too many
	EXPECT_CORE_ERROR(HexDecode("abcdef0123", out, 4), ErrorCode::kInvalidText);
	EXPECT_CORE_ERROR(HexDecode("00", nullptr, 0), ErrorCode::kInvalidText);
}

TEST(Hex, RejectsNonDigits)
{
	uint8_t out[2];
	for (const char *bad : {"0g00", "g000", "000G", "00 0", " 000", "0x00", "+000", "-000", "00.0", "zzzz"})
		EXPECT_CORE_ERROR(HexDecode(bad, out, 2), ErrorCode::kInvalidText) << bad;
	EXPECT_CORE_ERROR(HexDecode(std::string_view("00\0" "0", 4), out, 2), ErrorCode::kInvalidText);
	EXPECT_CORE_ERROR(HexDecode("\xc3\xa9" "00", out, 2), ErrorCode::kInvalidText);  // 'é'
	// Characters just outside the digit ranges.
	for (char c : {'/', ':', '@', 'G', '`', 'g', '\x80', '\xff'}) {
		std::string s = "00";
		s += c;
		s += '0';
		EXPECT_CORE_ERROR(HexDecode(s, out, 2), ErrorCode::kInvalidText) << int(c);
	}
}

TEST(Hex, ErrorExplainsTheLength)
{
	uint8_t out[32];
	try {
		HexDecode("abc", out, 32);
		ADD_FAILURE() << "no error";
	} catch (const core::Error &e) {
		EXPECT_EQ(e.code(), ErrorCode::kInvalidText);
		EXPECT_NE(e.detail().find("64"), std::string::npos) << e.detail();
		EXPECT_NE(e.detail().find("3"), std::string::npos) << e.detail();
	}
}

}  // namespace
}  // namespace audit_chain::test
