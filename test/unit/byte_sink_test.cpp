// test/unit/byte_sink_test.cpp: the primitive big-endian writers and the two sinks.
#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "core/byte_sink.hpp"
#include "core/sha256.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::ByteSink;

TEST(ByteSink, StartsEmptyAndAppends)
{
	ByteSink s;
	EXPECT_EQ(s.bytes(), "");
	s.Update("ab", 2);
	s.Update(nullptr, 0);
	s.Update("\0c", 2);
	EXPECT_EQ(s.bytes(), std::string("ab\0c", 4));
}

TEST(ByteSink, U8)
{
	ByteSink s;
	core::PutU8(s, 0);
	core::PutU8(s, 0x7f);
	core::PutU8(s, 0xff);
	EXPECT_EQ(ToHex(s.bytes()), "007fff");
}

TEST(ByteSink, U32IsBigEndian)
{
	ByteSink s;
	core::PutU32(s, 0);
	core::PutU32(s, 1);
	core::PutU32(s, 0x01020304);
	core::PutU32(s, UINT32_MAX);
	EXPECT_EQ(ToHex(s.bytes()), "00000000" "00000001" "01020304" "ffffffff");
}

TEST(ByteSink, U64IsBigEndian)
{
	ByteSink s;
	core::PutU64(s, 0x0102030405060708ULL);
	core::PutU64(s, UINT64_MAX);
	core::PutU64(s, 1);
	EXPECT_EQ(ToHex(s.bytes()), "0102030405060708" "ffffffffffffffff" "0000000000000001");
}

TEST(ByteSink, I64IsTwosComplement)
{
	ByteSink s;
	core::PutI64(s, -1);
	core::PutI64(s, INT64_MIN);
	core::PutI64(s, INT64_MAX);
	core::PutI64(s, -946684800000000LL);  // 1940-01-01 in microseconds since 1970
	EXPECT_EQ(ToHex(s.bytes()), "ffffffffffffffff" "8000000000000000" "7fffffffffffffff" "fffca2fec4c82000");
}

TEST(ByteSink, StrIsLengthPrefixedBytes)
{
	ByteSink s;
	core::PutStr(s, "");
	core::PutStr(s, "ab");
	core::PutStr(s, "\xc3\xa9");  // 'é': byte length 2, one character
	EXPECT_EQ(ToHex(s.bytes()), "00000000" "000000026162" "00000002c3a9");
}

TEST(ByteSink, StrKeepsEmbeddedZeroBytes)
{
	ByteSink s;
	core::PutStr(s, std::string_view("a\0b", 3));
	EXPECT_EQ(ToHex(s.bytes()), "00000003610062");
}

TEST(ByteSink, Bytes)
{
	ByteSink s;
	const uint8_t b[] = {9, 8, 7};
	core::PutBytes(s, b, 3);
	core::PutBytes(s, b, 0);
	EXPECT_EQ(ToHex(s.bytes()), "090807");
}

TEST(ByteSink, AgreesWithHandBuiltBytes)
{
	ByteSink s;
	core::PutU8(s, 1);
	core::PutU32(s, 70000);
	core::PutU64(s, 1ULL << 40);
	core::PutI64(s, -5);
	core::PutStr(s, "key");
	Bytes b;
	b.u8(1).u32(70000).u64(1ULL << 40).i64(-5).str("key");
	EXPECT_EQ(s.bytes(), b.bytes());
}

// Both sinks see byte-identical input: hashing through Sha256 equals hashing ByteSink's bytes.
TEST(ByteSink, HashSinkSeesTheSameBytes)
{
	ByteSink s;
	core::Sha256 h;
	auto write = [](auto &sink) {
		core::PutU8(sink, 'o');
		core::PutU32(sink, 2);
		core::PutStr(sink, "a");
		core::PutU64(sink, 123456789012345ULL);
		core::PutI64(sink, -42);
		const uint8_t raw[] = {0xde, 0xad};
		core::PutBytes(sink, raw, 2);
	};
	write(s);
	write(h);
	EXPECT_EQ(ToHex(h.Final()), ToHex(Sha(s.bytes())));
}

}  // namespace
}  // namespace audit_chain::test
