// test/unit/json_text_test.cpp: the strict JSON text parser used by tools and tests.
#include <gtest/gtest.h>

#include <string>

#include "core/byte_sink.hpp"
#include "core/json_text.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::JsonDocument;

std::string
Parsed(std::string_view text)
{
	return Render(JsonDocument::Parse(text).tokens());
}

std::string
StringValue(std::string_view json)
{
	JsonDocument doc = JsonDocument::Parse(json);
	EXPECT_EQ(doc.tokens().size(), 1u);
	EXPECT_EQ(doc.tokens()[0].kind, JsonKind::kString);
	return std::string(doc.tokens()[0].text.str());
}

void
ExpectInvalid(std::string_view text)
{
	EXPECT_CORE_ERROR(JsonDocument::Parse(text), ErrorCode::kInvalidText) << "input: " << text;
}

TEST(JsonText, Scalars)
{
	EXPECT_EQ(Parsed("null"), "null");
	EXPECT_EQ(Parsed("true"), "true");
	EXPECT_EQ(Parsed("false"), "false");
	EXPECT_EQ(Parsed("\"x\""), "\"x\"");
	EXPECT_EQ(Parsed("0"), "0");
	EXPECT_EQ(JsonDocument::Parse("1").tokens()[0].kind, JsonKind::kNumber);
	EXPECT_EQ(JsonDocument::Parse("\"1\"").tokens()[0].kind, JsonKind::kString);
}

TEST(JsonText, WhitespaceAroundEverything)
{
	EXPECT_EQ(Parsed(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] } \n"), "{\"a\":[1,2],\"b\":{},\"c\":[]}");
}

TEST(JsonText, NumbersKeepTheirLiteral)
{
	for (const char *lit : {"0", "-0", "1.50", "100", "0.0", "-0.000", "1e5", "1E+5", "1.25e-7", "-9e0",
							"123456789012345678901234567890.123456789012345678901234567890"}) {
		JsonDocument doc = JsonDocument::Parse(lit);
		ASSERT_EQ(doc.tokens().size(), 1u) << lit;
		EXPECT_EQ(doc.tokens()[0].kind, JsonKind::kNumber) << lit;
		EXPECT_EQ(doc.tokens()[0].text.str(), lit);
	}
	EXPECT_EQ(Parsed("[1.50,2.500,1e2]"), "[1.50,2.500,1e2]");
}

TEST(JsonText, RejectsInvalidNumbers)
{
	for (const char *bad : {"01", "-01", "00", "1.", "-", "+1", ".5", "1.e5", "1e", "1e+", "1E-", "0x10", "1_000",
							"NaN", "Infinity", "-Infinity", "1.5.2", "--1", "1e5.0", "- 1"})
		ExpectInvalid(bad);
	ExpectInvalid("[01]");
	ExpectInvalid("{\"a\": 1.}");
}

TEST(JsonText, StringEscapes)
{
	EXPECT_EQ(StringValue(R"("\" \\ \/ \b \f \n \r \t")"), "\" \\ / \b \f \n \r \t");
	EXPECT_EQ(StringValue(R"("\u0041\u00e9\u20AC")"), "A\xc3\xa9\xe2\x82\xac");
	EXPECT_EQ(StringValue(R"("\u0001\u001f\u007f")"), "\x01\x1f\x7f");
	EXPECT_EQ(StringValue(R"("\u07ff\u0800\uffff")"), "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
	// A surrogate pair is one 4-byte character (U+1F600).
	EXPECT_EQ(StringValue(R"("\ud83d\ude00")"), "\xf0\x9f\x98\x80");
	EXPECT_EQ(StringValue(R"("\uDBFF\uDFFF")"), "\xf4\x8f\xbf\xbf");  // U+10FFFF
	EXPECT_EQ(StringValue(R"("\uD800\uDC00")"), "\xf0\x90\x80\x80");  // U+10000
}

TEST(JsonText, RawUtf8PassesThrough)
{
	EXPECT_EQ(StringValue("\"h\xc3\xa9llo \xf0\x9f\x98\x80\""), "h\xc3\xa9llo \xf0\x9f\x98\x80");
	// Escaped and raw forms give the same string.
	EXPECT_EQ(StringValue(R"("\u00e9")"), StringValue("\"\xc3\xa9\""));
}

TEST(JsonText, RejectsBadEscapes)
{
	for (const char *bad : {R"("\x41")", R"("\a")", R"("\'")", R"("\0")", R"("\U0041")", R"("\u41")",
							R"("\u00g1")", R"("\u 041")", R"("\)", R"("\u12)", R"("\u123)"})
		ExpectInvalid(bad);
}

TEST(JsonText, RejectsLoneSurrogates)
{
	ExpectInvalid(R"("\ud800")");          // high surrogate at the end
	ExpectInvalid(R"("\ud800x")");         // high surrogate followed by a character
	ExpectInvalid(R"("\ud800\u0041")");    // followed by a non-surrogate escape
	ExpectInvalid(R"("\ud800\ud800")");    // two high surrogates
	ExpectInvalid(R"("\udc00")");          // low surrogate alone
	ExpectInvalid(R"("\udfff\ud800")");    // pair in the wrong order
	ExpectInvalid(R"("\ud800\n")");
	ExpectInvalid(R"("\ud800\")");
}

TEST(JsonText, RejectsNulCharacter)
{
	// PostgreSQL text cannot hold U+0000, so no export can contain it.
	ExpectInvalid(R"("\u0000")");
	ExpectInvalid(R"("a\u0000b")");
	ExpectInvalid(R"({"\u0000": 1})");
	ExpectInvalid(std::string_view("\"a\0b\"", 5));  // raw NUL is a control character
}

TEST(JsonText, RejectsControlCharactersInStrings)
{
	ExpectInvalid("\"a\nb\"");
	ExpectInvalid("\"a\tb\"");
	ExpectInvalid("\"\x1f\"");
	EXPECT_EQ(StringValue("\"\x7f\""), "\x7f");  // DEL is not a control character in JSON
}

TEST(JsonText, RejectsInvalidUtf8)
{
	// RFC 8259 requires UTF-8; PostgreSQL never exports anything else, and a verifier
	// must not hash bytes no database could have hashed.
	for (const char *bad : {"\"\xff\"", "\"\xc3\"", "\"\xc3(\"", "\"\x80\"", "\"\xed\xa0\x80\"",  // encoded surrogate
							"\"\xc0\xaf\"",                                                     // overlong '/'
							"\"\xf4\x90\x80\x80\""})                                            // above U+10FFFF
		ExpectInvalid(bad);
}

TEST(JsonText, RejectsTrailingGarbage)
{
	for (const char *bad : {"1 2", "{} {}", "[] x", "null,", "\"a\"\"b\"", "truex", "nulll", "{\"a\":1}}", "[1]]",
							"1/", "0 // comment"})
		ExpectInvalid(bad);
}

TEST(JsonText, RejectsTruncatedAndMalformedInput)
{
	for (const char *bad : {"", " ", "{", "[", "\"abc", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "[1,", "[1",
							"tru", "nul", "fals", "{a:1}", "{'a':1}", "['a']", "{\"a\" 1}", "{\"a\":1,}", "[1,]",
							"[,1]", "{,}", "[1 2]", "{\"a\":1 \"b\":2}", "{1:2}", "{null:1}", "undefined", "True"})
		ExpectInvalid(bad);
}

TEST(JsonText, ErrorNamesTheOffset)
{
	try {
		JsonDocument::Parse("[1, 2, x]");
		ADD_FAILURE() << "no error";
	} catch (const core::Error &e) {
		EXPECT_EQ(e.code(), ErrorCode::kInvalidText);
		EXPECT_STREQ(e.what(), "invalid JSON text");
		EXPECT_NE(e.detail().find("byte 7"), std::string::npos) << e.detail();
	}
}

TEST(JsonText, ObjectKeysAreSortedCanonically)
{
	EXPECT_EQ(Parsed(R"({"bb": 1, "a": 2, "ab": 3, "c": 4})"), R"({"a":2,"c":4,"ab":3,"bb":1})");
	// Equal byte length: bytewise. "é" is 2 bytes, so it sorts with 2-letter keys, after them.
	EXPECT_EQ(Parsed("{\"\xc3\xa9\": 1, \"zz\": 2, \"abc\": 3, \"b\": 4}"),
			  "{\"b\":4,\"zz\":2,\"\xc3\xa9\":1,\"abc\":3}");
	// Escaped keys are compared after unescaping.
	EXPECT_EQ(Parsed(R"({"\u00e9": 1, "\u0041": 2})"), "{\"A\":2,\"\xc3\xa9\":1}");
	// Nested objects too.
	EXPECT_EQ(Parsed(R"([{"yy": 1, "x": {"dd": 1, "c": 2}}])"), R"([{"x":{"c":2,"dd":1},"yy":1}])");
}

TEST(JsonText, RepeatedKeyKeepsItsLastValue)
{
	EXPECT_EQ(Parsed(R"({"a": 1, "b": 2, "a": 3})"), R"({"a":3,"b":2})");
	EXPECT_EQ(Parsed(R"({"a": {"x": 1}, "a": [true]})"), R"({"a":[true]})");
	EXPECT_EQ(Parsed(R"({"\u0061": 1, "a": 2})"), R"({"a":2})");
	JsonDocument doc = JsonDocument::Parse(R"({"k": 1, "k": 2})");
	EXPECT_EQ(doc.tokens()[0].count, 1u);
}

TEST(JsonText, TokensEncodeCanonically)
{
	JsonDocument doc = JsonDocument::Parse(R"({"b": [1.50, "x"], "a": null})");
	core::ByteSink s;
	EXPECT_EQ(core::EncodeJsonValue(s, doc.tokens().data(), static_cast<uint32_t>(doc.tokens().size())),
			  doc.tokens().size());
	Bytes want;
	want.u8('o').u32(2).str("a").u8('n').str("b").u8('a').u32(2).u8('d').str("1.50").u8('s').str("x");
	EXPECT_EQ(ToHex(s.bytes()), ToHex(want.bytes()));
}

TEST(JsonText, Members)
{
	JsonDocument doc = JsonDocument::Parse(R"({"zz": [1, 2], "a": {"k": null}, "m": 7, "e": {}})");
	auto members = doc.Members();
	ASSERT_EQ(members.size(), 4u);
	EXPECT_EQ(members[0].key, "a");
	EXPECT_EQ(members[1].key, "e");
	EXPECT_EQ(members[2].key, "m");
	EXPECT_EQ(members[3].key, "zz");
	auto range = [&](const JsonDocument::Member &m) {
		std::vector<JsonToken> sub(doc.tokens().begin() + m.first, doc.tokens().begin() + m.first + m.count);
		return Render(sub);
	};
	EXPECT_EQ(range(members[0]), R"({"k":null})");
	EXPECT_EQ(range(members[1]), "{}");
	EXPECT_EQ(range(members[2]), "7");
	EXPECT_EQ(range(members[3]), "[1,2]");
	EXPECT_TRUE(JsonDocument::Parse("{}").Members().empty());
}

TEST(JsonText, MembersRequireAnObject)
{
	for (const char *text : {"[]", "[{\"a\":1}]", "1", "\"{}\"", "null"})
		EXPECT_CORE_ERROR(JsonDocument::Parse(text).Members(), ErrorCode::kInvalidText) << text;
}

TEST(JsonText, DocumentsSurviveMoves)
{
	JsonDocument doc = JsonDocument::Parse(R"({"key": "a value long enough to live on the heap", "k": "x"})");
	JsonDocument moved = std::move(doc);
	auto members = moved.Members();
	ASSERT_EQ(members.size(), 2u);
	EXPECT_EQ(members[1].key, "key");
	EXPECT_EQ(moved.tokens()[members[1].first].text.str(), "a value long enough to live on the heap");
}

// Tokens point into strings the document owns, so a copy would dangle as soon as the
// original went away: copying must not compile (moves keep the strings where they are).
TEST(JsonText, CopiesOwnTheirStrings)
{
	static_assert(!std::is_copy_constructible_v<JsonDocument>, "a JsonDocument copy would point into the original");
	static_assert(!std::is_copy_assignable_v<JsonDocument>, "a JsonDocument copy would point into the original");
	static_assert(std::is_move_constructible_v<JsonDocument>);
}

// The natural way to keep many documents: a growing vector (which relocates them).
TEST(JsonText, DocumentsInAGrowingVector)
{
	std::vector<JsonDocument> docs;
	for (int i = 0; i < 50; i++)
		docs.push_back(JsonDocument::Parse("{\"key" + std::to_string(i) + "\": \"a value long enough to live on the heap " +
										   std::to_string(i) + "\", \"k\": \"x\"}"));
	for (int i = 0; i < 50; i++) {
		auto members = docs[i].Members();
		ASSERT_EQ(members.size(), 2u);
		EXPECT_EQ(members[0].key, "k");
		EXPECT_EQ(members[1].key, "key" + std::to_string(i));
		EXPECT_EQ(docs[i].tokens()[members[1].first].text.str(),
				  "a value long enough to live on the heap " + std::to_string(i));
		EXPECT_EQ(docs[i].tokens()[members[0].first].text.str(), "x");
	}
}

std::string
Nested(int levels, const char *open, const char *close, const char *inner)
{
	std::string s;
	for (int i = 0; i < levels; i++)
		s += open;
	s += inner;
	for (int i = 0; i < levels; i++)
		s += close;
	return s;
}

TEST(JsonText, DeepNesting)
{
	// Same limit as the token encoder: 10001 levels parse and encode, deeper is refused.
	JsonDocument ok = JsonDocument::Parse(Nested(10001, "[", "]", ""));
	EXPECT_EQ(ok.tokens().size(), 10001u);
	core::ByteSink s;
	EXPECT_EQ(core::EncodeJsonValue(s, ok.tokens().data(), static_cast<uint32_t>(ok.tokens().size())), 10001u);
	ExpectInvalid(Nested(10002, "[", "]", ""));
	ExpectInvalid(Nested(10002, "{\"a\":", "}", "1"));
	ExpectInvalid(Nested(1000000, "[", "]", ""));
	ExpectInvalid(Nested(1000000, "[", "", ""));  // unbalanced and deep
}

}  // namespace
}  // namespace audit_chain::test
