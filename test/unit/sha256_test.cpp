// test/unit/sha256_test.cpp: SHA-256 against the FIPS 180-2 / NIST example vectors.
#include <gtest/gtest.h>

#include <string>

#include "core/sha256.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::Sha256;

std::string
HexOf(std::string_view msg)
{
	return ToHex(Sha256::Of(msg.data(), msg.size()));
}

TEST(Sha256, KnownVectors)
{
	EXPECT_EQ(HexOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EXPECT_EQ(HexOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	EXPECT_EQ(HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
			  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	EXPECT_EQ(HexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
			  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionAStreamed)
{
	Sha256 h;
	std::string chunk(1000, 'a');
	for (int i = 0; i < 1000; i++)
		h.Update(chunk);
	EXPECT_EQ(ToHex(h.Final()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EmbeddedZeroBytesAreHashed)
{
	std::string with_nul("a\0b", 3);
	Sha256 h;
	h.Update(with_nul);
	EXPECT_NE(ToHex(h.Final()), HexOf("ab"));
}

// Streaming in any split (including around the 55/56/64-byte padding boundaries) gives the
// one-shot digest.
TEST(Sha256, SplitsMatchOneShot)
{
	for (size_t len : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u, 1000u}) {
		std::string msg;
		for (size_t i = 0; i < len; i++)
			msg += char((i * 31 + 7) & 0xff);
		std::string expected = HexOf(msg);
		for (size_t split = 0; split <= len; split += (len < 70 ? 1 : 37)) {
			Sha256 h;
			h.Update(msg.data(), split);
			h.Update(msg.data() + split, len - split);
			EXPECT_EQ(ToHex(h.Final()), expected) << "len " << len << " split " << split;
		}
	}
}

TEST(Sha256, EmptyUpdatesAreNoOps)
{
	Sha256 h;
	h.Update(nullptr, 0);
	h.Update("ab", 2);
	h.Update(nullptr, 0);
	h.Update(std::string_view());
	h.Update("c", 1);
	EXPECT_EQ(ToHex(h.Final()), HexOf("abc"));
}

TEST(Sha256, IndependentHashersDoNotInterfere)
{
	Sha256 a, b;
	a.Update("ab", 2);
	b.Update("xyz", 3);
	a.Update("c", 1);
	EXPECT_EQ(ToHex(a.Final()), HexOf("abc"));
	EXPECT_EQ(ToHex(b.Final()), HexOf("xyz"));
}

TEST(Sha256, IsPlainData)
{
	// The glue keeps hashers in palloc'd memory that is freed without destructors.
	EXPECT_TRUE(std::is_trivially_destructible_v<Sha256>);
	Sha256 a;
	a.Update("ab", 2);
	Sha256 copy = a;  // copies the running state
	a.Update("c", 1);
	copy.Update("c", 1);
	EXPECT_EQ(ToHex(a.Final()), ToHex(copy.Final()));
}

// HMAC-SHA256 against RFC 4231 test cases 1, 2 and 6 (key longer than a block).
TEST(Sha256, HmacKnownVectors)
{
	std::string k1(20, '\x0b');
	EXPECT_EQ(ToHex(Sha256::Hmac(k1.data(), k1.size(), "Hi There", 8)),
			  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	std::string d2 = "what do ya want for nothing?";
	EXPECT_EQ(ToHex(Sha256::Hmac("Jefe", 4, d2.data(), d2.size())),
			  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	std::string k6(131, '\xaa');
	std::string d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	EXPECT_EQ(ToHex(Sha256::Hmac(k6.data(), k6.size(), d6.data(), d6.size())),
			  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Sha256, HmacEmptyKeyAndData)
{
	EXPECT_EQ(ToHex(Sha256::Hmac("", 0, "", 0)), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
	// The key matters, and HMAC is not a plain hash of key || data.
	EXPECT_NE(ToHex(Sha256::Hmac("a", 1, "b", 1)), ToHex(Sha256::Hmac("b", 1, "a", 1)));
	EXPECT_NE(ToHex(Sha256::Hmac("a", 1, "b", 1)), HexOf("ab"));
}

}  // namespace
}  // namespace audit_chain::test
