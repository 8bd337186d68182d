// test/unit/test_support.hpp: helpers shared by the core unit tests.
//
// The byte builder and hex helpers here are written independently of src/core (plain
// shifts and lookup), so the tests compare the core against a second implementation of
// the specification rather than against itself.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json_value.hpp"
#include "core/sha256.hpp"
#include "core/views.hpp"

namespace audit_chain::test {

using core::ErrorCode;
using core::Hash;
using core::JsonKind;
using core::JsonToken;
using core::TextView;

inline std::string
ToHex(const void *data, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const auto *p = static_cast<const unsigned char *>(data);
	std::string out;
	for (size_t i = 0; i < size; i++) {
		out += digits[p[i] >> 4];
		out += digits[p[i] & 15];
	}
	return out;
}

inline std::string
ToHex(std::string_view bytes)
{
	return ToHex(bytes.data(), bytes.size());
}

inline std::string
ToHex(const Hash &h)
{
	return ToHex(h.bytes, sizeof h.bytes);
}

// Decodes lower- or upper-case hex; a test bug (odd length, bad digit) aborts the test.
inline std::string
FromHex(std::string_view hex)
{
	auto nibble = [](char c) -> int {
		if (c >= '0' && c <= '9')
			return c - '0';
		if (c >= 'a' && c <= 'f')
			return c - 'a' + 10;
		if (c >= 'A' && c <= 'F')
			return c - 'A' + 10;
		return -1;
	};
	std::string out;
	if (hex.size() % 2 != 0) {
		ADD_FAILURE() << "odd-length hex in test: " << hex;
		return out;
	}
	for (size_t i = 0; i < hex.size(); i += 2) {
		int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
		if (hi < 0 || lo < 0) {
			ADD_FAILURE() << "bad hex in test: " << hex;
			return out;
		}
		out += char(hi << 4 | lo);
	}
	return out;
}

inline const uint8_t *
U8(const std::string &s)
{
	return reinterpret_cast<const uint8_t *>(s.data());
}

inline Hash
HashFromBytes(std::string_view bytes)
{
	Hash h{};
	EXPECT_EQ(bytes.size(), sizeof h.bytes);
	std::memcpy(h.bytes, bytes.data(), std::min(bytes.size(), sizeof h.bytes));
	return h;
}

inline std::string
Sha(std::string_view bytes)
{
	Hash h = core::Sha256::Of(bytes.data(), bytes.size());
	return std::string(reinterpret_cast<const char *>(h.bytes), sizeof h.bytes);
}

inline std::string
HashBytes(const Hash &h)
{
	return std::string(reinterpret_cast<const char *>(h.bytes), sizeof h.bytes);
}

// Builds canonical bytes by hand, following the hash specification in README.md literally.
class Bytes {
public:
	Bytes &raw(std::string_view s)
	{
		s_.append(s.data(), s.size());
		return *this;
	}
	Bytes &u8(unsigned v)
	{
		s_ += char(v & 0xff);
		return *this;
	}
	Bytes &u32(uint32_t v)
	{
		for (int shift = 24; shift >= 0; shift -= 8)
			s_ += char((v >> shift) & 0xff);
		return *this;
	}
	Bytes &u64(uint64_t v)
	{
		for (int shift = 56; shift >= 0; shift -= 8)
			s_ += char((v >> shift) & 0xff);
		return *this;
	}
	Bytes &i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
	Bytes &str(std::string_view s)
	{
		u32(static_cast<uint32_t>(s.size()));
		return raw(s);
	}
	const std::string &bytes() const { return s_; }
	std::string sha() const { return Sha(s_); }

private:
	std::string s_;
};

// Owns the text that tokens point to, so tests can build token streams inline.
class Tokens {
public:
	Tokens() = default;
	Tokens(Tokens &&) = default;
	Tokens &operator=(Tokens &&) = default;
	Tokens(const Tokens &) = delete;  // tokens point into store_
	Tokens &operator=(const Tokens &) = delete;

	Tokens &null()
	{
		t_.push_back({JsonKind::kNull, 0, {}});
		return *this;
	}
	Tokens &boolean(bool v)
	{
		t_.push_back({v ? JsonKind::kTrue : JsonKind::kFalse, 0, {}});
		return *this;
	}
	Tokens &num(std::string_view literal) { return text(JsonKind::kNumber, literal); }
	Tokens &str(std::string_view s) { return text(JsonKind::kString, s); }
	Tokens &arr(uint32_t n)
	{
		t_.push_back({JsonKind::kArray, n, {}});
		return *this;
	}
	Tokens &obj(uint32_t n)
	{
		t_.push_back({JsonKind::kObject, n, {}});
		return *this;
	}
	Tokens &raw(JsonToken t)
	{
		t_.push_back(t);
		return *this;
	}

	const JsonToken *data() const { return t_.data(); }
	uint32_t size() const { return static_cast<uint32_t>(t_.size()); }
	std::vector<JsonToken> &tokens() { return t_; }

private:
	Tokens &text(JsonKind kind, std::string_view s)
	{
		store_.emplace_back(s);
		t_.push_back({kind, 0, {store_.back().data(), static_cast<uint32_t>(store_.back().size())}});
		return *this;
	}

	std::deque<std::string> store_;
	std::vector<JsonToken> t_;
};

inline TextView
View(const std::string &s)
{
	return TextView{s.data(), static_cast<uint32_t>(s.size())};
}

inline TextView
View(const char *s)
{
	return TextView{s, static_cast<uint32_t>(std::strlen(s))};
}

}  // namespace audit_chain::test

namespace audit_chain::test {

// Success when fn throws core::Error with the expected code.
template <typename Fn>
::testing::AssertionResult
ThrowsCoreError(Fn &&fn, ErrorCode expected, const char *text)
{
	try {
		fn();
	} catch (const core::Error &e) {
		if (e.code() == expected)
			return ::testing::AssertionSuccess();
		return ::testing::AssertionFailure() << text << " threw code " << static_cast<int>(e.code()) << " (expected "
											 << static_cast<int>(expected) << "): " << e.what() << " / " << e.detail();
	} catch (const std::exception &e) {
		return ::testing::AssertionFailure() << text << " threw a non-core exception: " << e.what();
	}
	return ::testing::AssertionFailure() << text << " did not throw";
}

}  // namespace audit_chain::test

// Expects statement to throw core::Error with the given code; accepts << messages.
#define EXPECT_CORE_ERROR(statement, expected_code) \
	EXPECT_TRUE(::audit_chain::test::ThrowsCoreError([&] { (void) (statement); }, expected_code, #statement))

namespace audit_chain::test {

// Renders a token stream as compact JSON-like text for expectations: strings are shown
// raw between quotes (no escaping), numbers as their literal, object members in stream order.
inline uint32_t
RenderValue(const JsonToken *t, uint32_t available, std::string &out)
{
	if (available == 0) {
		out += "<truncated>";
		return 0;
	}
	switch (t[0].kind) {
	case JsonKind::kNull:
		out += "null";
		return 1;
	case JsonKind::kFalse:
		out += "false";
		return 1;
	case JsonKind::kTrue:
		out += "true";
		return 1;
	case JsonKind::kNumber:
		out += t[0].text.str();
		return 1;
	case JsonKind::kString:
		out += '"';
		out += t[0].text.str();
		out += '"';
		return 1;
	case JsonKind::kArray: {
		out += '[';
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++) {
			if (i)
				out += ',';
			used += RenderValue(t + used, available - used, out);
		}
		out += ']';
		return used;
	}
	case JsonKind::kObject: {
		out += '{';
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++) {
			if (i)
				out += ',';
			used += RenderValue(t + used, available - used, out);
			out += ':';
			used += RenderValue(t + used, available - used, out);
		}
		out += '}';
		return used;
	}
	}
	out += "<bad kind>";
	return 1;
}

inline std::string
Render(const std::vector<JsonToken> &tokens)
{
	std::string out;
	uint32_t used = RenderValue(tokens.data(), static_cast<uint32_t>(tokens.size()), out);
	if (used != tokens.size())
		out += " <+" + std::to_string(tokens.size() - used) + " tokens>";
	return out;
}

}  // namespace audit_chain::test
