// test/unit/json_value_test.cpp: canonical encoding of JSON token streams (canon(v)).
#include <gtest/gtest.h>

#include <string>

#include "core/byte_sink.hpp"
#include "core/json_value.hpp"
#include "core/sha256.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::ByteSink;
using core::EncodeJsonValue;
using core::JsonValueTokenCount;
using core::KeyLess;

std::string
Encode(const Tokens &t, uint32_t *consumed = nullptr)
{
	ByteSink s;
	uint32_t n = EncodeJsonValue(s, t.data(), t.size());
	if (consumed)
		*consumed = n;
	return s.bytes();
}

TEST(JsonValue, Scalars)
{
	EXPECT_EQ(Encode(Tokens().null()), "n");
	EXPECT_EQ(Encode(Tokens().boolean(false)), "f");
	EXPECT_EQ(Encode(Tokens().boolean(true)), "t");
	EXPECT_EQ(Encode(Tokens().num("1.50")), Bytes().u8('d').str("1.50").bytes());
	EXPECT_EQ(Encode(Tokens().str("")), Bytes().u8('s').str("").bytes());
	EXPECT_EQ(Encode(Tokens().str("h\xc3\xa9")), Bytes().u8('s').str("h\xc3\xa9").bytes());
}

TEST(JsonValue, NumberLiteralIsNeverReformatted)
{
	for (const char *lit : {"0", "-0", "1.50", "1.5", "100", "1e2", "0.000", "-12345678901234567890123456789.000100"})
		EXPECT_EQ(Encode(Tokens().num(lit)), Bytes().u8('d').str(lit).bytes()) << lit;
	EXPECT_NE(Encode(Tokens().num("1.50")), Encode(Tokens().num("1.5")));
	EXPECT_NE(Encode(Tokens().num("1")), Encode(Tokens().str("1")));
}

TEST(JsonValue, StringWithZeroByteKeepsItsLength)
{
	Tokens t;
	t.str(std::string_view("a\0b", 3));
	EXPECT_EQ(ToHex(Encode(t)), "7300000003610062");
}

TEST(JsonValue, EmptyContainers)
{
	EXPECT_EQ(ToHex(Encode(Tokens().arr(0))), "6100000000");
	EXPECT_EQ(ToHex(Encode(Tokens().obj(0))), "6f00000000");
}

TEST(JsonValue, ArrayKeepsElementOrder)
{
	Tokens t;
	t.arr(3).num("2").null().str("x");
	EXPECT_EQ(Encode(t), Bytes().u8('a').u32(3).u8('d').str("2").u8('n').u8('s').str("x").bytes());
	Tokens swapped;
	swapped.arr(3).null().num("2").str("x");
	EXPECT_NE(Encode(t), Encode(swapped));
}

TEST(JsonValue, NestedObject)
{
	// {"b": [true, {"k": null}], "aa": {}}
	Tokens t;
	t.obj(2).str("b").arr(2).boolean(true).obj(1).str("k").null().str("aa").obj(0);
	uint32_t consumed = 0;
	std::string got = Encode(t, &consumed);
	EXPECT_EQ(consumed, t.size());
	Bytes want;
	want.u8('o').u32(2);
	want.str("b").u8('a').u32(2).u8('t').u8('o').u32(1).str("k").u8('n');
	want.str("aa").u8('o').u32(0);
	EXPECT_EQ(got, want.bytes());
	EXPECT_EQ(JsonValueTokenCount(t.data(), t.size()), t.size());
}

TEST(JsonValue, ConsumesExactlyOneValue)
{
	Tokens t;
	t.arr(1).num("1").str("next value").null();
	uint32_t consumed = 0;
	Encode(t, &consumed);
	EXPECT_EQ(consumed, 2u);
	EXPECT_EQ(JsonValueTokenCount(t.data(), t.size()), 2u);
	EXPECT_EQ(JsonValueTokenCount(t.data() + 2, t.size() - 2), 1u);
}

TEST(JsonValue, KeyOrderIsLengthThenBytes)
{
	EXPECT_TRUE(KeyLess("b", "aa"));
	EXPECT_FALSE(KeyLess("aa", "b"));
	EXPECT_TRUE(KeyLess("ab", "ac"));
	EXPECT_FALSE(KeyLess("ab", "ab"));
	EXPECT_TRUE(KeyLess("", "a"));
	// Bytewise means unsigned: 0x7f sorts before 0x80, ASCII before UTF-8 lead bytes.
	EXPECT_TRUE(KeyLess("a\x7f", "a\x80"));
	EXPECT_TRUE(KeyLess("zz", "\xc3\xa9"));       // "zz" < "é" (both 2 bytes)
	EXPECT_TRUE(KeyLess("\xc3\xa9", "abc"));      // "é" (2 bytes) < "abc" (3 bytes)
	EXPECT_TRUE(KeyLess("\xc3\xa9", "\xc3\xb6"));  // "é" < "ö"
	EXPECT_TRUE(KeyLess(std::string_view("a\0", 2), "a\x01"));
}

TEST(JsonValue, AcceptsCanonicalKeyOrder)
{
	Tokens t;
	t.obj(4).str("z").null().str("ab").null().str("\xc3\xa9").null().str("abc").null();
	Bytes want;
	want.u8('o').u32(4).str("z").u8('n').str("ab").u8('n').str("\xc3\xa9").u8('n').str("abc").u8('n');
	EXPECT_EQ(Encode(t), want.bytes());
}

TEST(JsonValue, RejectsKeysOutOfOrder)
{
	Tokens longer_first;
	longer_first.obj(2).str("aa").null().str("b").null();
	EXPECT_CORE_ERROR(Encode(longer_first), ErrorCode::kInvalidParameter);

	Tokens bytes_reversed;
	bytes_reversed.obj(2).str("\xc3\xa9").null().str("zz").null();
	EXPECT_CORE_ERROR(Encode(bytes_reversed), ErrorCode::kInvalidParameter);

	// Deep inside an array, too.
	Tokens nested;
	nested.arr(2).null().obj(3).str("a").null().str("c").null().str("b").null();
	EXPECT_CORE_ERROR(Encode(nested), ErrorCode::kInvalidParameter);
}

TEST(JsonValue, RejectsDuplicateKeys)
{
	Tokens t;
	t.obj(2).str("k").num("1").str("k").num("2");
	EXPECT_CORE_ERROR(Encode(t), ErrorCode::kInvalidParameter);
	Tokens empty_keys;
	empty_keys.obj(2).str("").null().str("").null();
	EXPECT_CORE_ERROR(Encode(empty_keys), ErrorCode::kInvalidParameter);
}

TEST(JsonValue, RejectsNonStringKeys)
{
	Tokens t;
	t.obj(1).num("1").null();
	EXPECT_CORE_ERROR(Encode(t), ErrorCode::kDataCorrupted);
	EXPECT_CORE_ERROR(JsonValueTokenCount(t.data(), t.size()), ErrorCode::kDataCorrupted);
	Tokens container_key;
	container_key.obj(1).arr(0).null();
	EXPECT_CORE_ERROR(Encode(container_key), ErrorCode::kDataCorrupted);
}

TEST(JsonValue, RejectsTruncatedStreams)
{
	// Each case claims more than the stream holds.
	std::vector<Tokens> cases(6);
	// cases[0]: nothing at all
	cases[1].arr(2).null();                            // second element missing
	cases[2].obj(1);                                   // key missing
	cases[3].obj(1).str("k");                          // value missing
	cases[4].obj(2).str("a").null().str("bb");         // last value missing
	cases[5].arr(1).arr(1).obj(1).str("k").arr(3).null();  // deep
	for (size_t i = 0; i < cases.size(); i++) {
		EXPECT_CORE_ERROR(Encode(cases[i]), ErrorCode::kDataCorrupted) << "case " << i;
		EXPECT_CORE_ERROR(JsonValueTokenCount(cases[i].data(), cases[i].size()), ErrorCode::kDataCorrupted)
			<< "case " << i;
	}
}

TEST(JsonValue, RespectsAvailableEvenWhenMoreTokensFollow)
{
	// The stream goes on, but the caller says only 2 tokens belong to this value.
	Tokens t;
	t.arr(2).null().null();
	core::ByteSink s;
	EXPECT_CORE_ERROR(EncodeJsonValue(s, t.data(), 2), ErrorCode::kDataCorrupted);
	EXPECT_CORE_ERROR(JsonValueTokenCount(t.data(), 2), ErrorCode::kDataCorrupted);
	EXPECT_CORE_ERROR(JsonValueTokenCount(t.data(), 0), ErrorCode::kDataCorrupted);
}

TEST(JsonValue, HugeCountsDoNotOverrun)
{
	Tokens arr;
	arr.arr(UINT32_MAX).null();
	EXPECT_CORE_ERROR(Encode(arr), ErrorCode::kDataCorrupted);
	EXPECT_CORE_ERROR(JsonValueTokenCount(arr.data(), arr.size()), ErrorCode::kDataCorrupted);
	Tokens obj;
	obj.obj(UINT32_MAX).str("a").null();
	EXPECT_CORE_ERROR(Encode(obj), ErrorCode::kDataCorrupted);
	EXPECT_CORE_ERROR(JsonValueTokenCount(obj.data(), obj.size()), ErrorCode::kDataCorrupted);
}

TEST(JsonValue, RejectsUnknownTokenKind)
{
	Tokens t;
	t.raw(JsonToken{static_cast<JsonKind>(99), 0, {}});
	EXPECT_CORE_ERROR(Encode(t), ErrorCode::kDataCorrupted);
}

Tokens
NestedArrays(int levels)
{
	Tokens t;
	for (int i = 0; i < levels - 1; i++)
		t.arr(1);
	t.arr(0);
	return t;
}

TEST(JsonValue, DeepNestingLimit)
{
	// 10001 levels (depth 0..10000) are accepted; one more is refused, not a stack overflow.
	Tokens ok = NestedArrays(10001);
	EXPECT_EQ(JsonValueTokenCount(ok.data(), ok.size()), ok.size());
	std::string bytes = Encode(ok);
	EXPECT_EQ(bytes.size(), 10001u * 5);
	Tokens too_deep = NestedArrays(10002);
	EXPECT_CORE_ERROR(Encode(too_deep), ErrorCode::kInvalidParameter);
	EXPECT_CORE_ERROR(JsonValueTokenCount(too_deep.data(), too_deep.size()), ErrorCode::kInvalidParameter);
	Tokens much_deeper = NestedArrays(200000);
	EXPECT_CORE_ERROR(Encode(much_deeper), ErrorCode::kInvalidParameter);
}

TEST(JsonValue, HashSinkMatchesByteSink)
{
	Tokens t;
	t.obj(2).str("a").arr(2).num("1.0").str("\xe2\x82\xac").str("bb").boolean(false);
	core::Sha256 h;
	EXPECT_EQ(EncodeJsonValue(h, t.data(), t.size()), t.size());
	EXPECT_EQ(ToHex(h.Final()), ToHex(Sha(Encode(t))));
}

}  // namespace
}  // namespace audit_chain::test
