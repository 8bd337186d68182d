// src/core/json_text.cpp: a small strict JSON parser producing canonical token streams.
#include "core/json_text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "core/core_only.hpp"

namespace audit_chain::core {

namespace {

// Parsed tree, used only to reorder object members before flattening.
struct Node {
	JsonKind kind = JsonKind::kNull;
	std::string text;                                     // number literal or string
	std::vector<std::unique_ptr<Node>> elements;          // array
	std::vector<std::pair<std::string, std::unique_ptr<Node>>> members;  // object, canonical order
};

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool
IsValidUtf8(std::string_view s)
{
	size_t i = 0;
	while (i < s.size()) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c < 0x80) {
			i++;
			continue;
		}
		int n;
		uint32_t cp;
		if ((c & 0xE0) == 0xC0) {
			n = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (int k = 1; k <= n; k++) {
			if (i + k >= s.size())
				return false;
			unsigned char cc = static_cast<unsigned char>(s[i + k]);
			if ((cc & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3F);
		}
		static const uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
		if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

[[noreturn]] void
Fail(const std::string &what, size_t pos)
{
	throw Error(ErrorCode::kInvalidText, "invalid JSON text", what + " at byte " + std::to_string(pos) + ".");
}

}  // namespace

class JsonTextParser {
public:
	explicit JsonTextParser(std::string_view text) : s_(text) {}

	std::unique_ptr<Node> ParseRoot()
	{
		auto node = ParseValue(0);
		SkipSpace();
		if (pos_ != s_.size())
			Fail("unexpected trailing characters", pos_);
		return node;
	}

	static void Flatten(const Node &node, JsonDocument &doc)
	{
		JsonToken t{node.kind, 0, {}};
		switch (node.kind) {
		case JsonKind::kNumber:
		case JsonKind::kString:
			doc.strings_.push_back(node.text);
			t.text = {doc.strings_.back().data(), static_cast<uint32_t>(doc.strings_.back().size())};
			doc.tokens_.push_back(t);
			break;
		case JsonKind::kArray:
			t.count = static_cast<uint32_t>(node.elements.size());
			doc.tokens_.push_back(t);
			for (const auto &e : node.elements)
				Flatten(*e, doc);
			break;
		case JsonKind::kObject:
			t.count = static_cast<uint32_t>(node.members.size());
			doc.tokens_.push_back(t);
			for (const auto &[key, value] : node.members) {
				doc.strings_.push_back(key);
				doc.tokens_.push_back({JsonKind::kString, 0,
									   {doc.strings_.back().data(), static_cast<uint32_t>(key.size())}});
				Flatten(*value, doc);
			}
			break;
		default:
			doc.tokens_.push_back(t);
		}
	}

private:
	static constexpr int kMaxDepth = 10000;

	void SkipSpace()
	{
		while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
			pos_++;
	}

	bool Consume(std::string_view lit)
	{
		if (s_.substr(pos_, lit.size()) == lit) {
			pos_ += lit.size();
			return true;
		}
		return false;
	}

	std::unique_ptr<Node> ParseValue(int depth)
	{
		if (depth > kMaxDepth)
			Fail("nesting too deep", pos_);
		SkipSpace();
		if (pos_ >= s_.size())
			Fail("unexpected end of input", pos_);
		auto node = std::make_unique<Node>();
		char c = s_[pos_];
		if (c == '{') {
			pos_++;
			node->kind = JsonKind::kObject;
			std::map<std::string, std::unique_ptr<Node>, bool (*)(const std::string &, const std::string &)> members(
				[](const std::string &a, const std::string &b) { return KeyLess(a, b); });
			SkipSpace();
			if (pos_ < s_.size() && s_[pos_] == '}') {
				pos_++;
				return node;
			}
			for (;;) {
				SkipSpace();
				if (pos_ >= s_.size() || s_[pos_] != '"')
					Fail("expected a string key", pos_);
				std::string key = ParseString();
				SkipSpace();
				if (!Consume(":"))
					Fail("expected ':'", pos_);
				members[key] = ParseValue(depth + 1);  // a repeated key keeps its last value
				SkipSpace();
				if (Consume(","))
					continue;
				if (Consume("}"))
					break;
				Fail("expected ',' or '}'", pos_);
			}
			for (auto &m : members)
				node->members.emplace_back(m.first, std::move(m.second));
			return node;
		}
		if (c == '[') {
			pos_++;
			node->kind = JsonKind::kArray;
			SkipSpace();
			if (pos_ < s_.size() && s_[pos_] == ']') {
				pos_++;
				return node;
			}
			for (;;) {
				node->elements.push_back(ParseValue(depth + 1));
				SkipSpace();
				if (Consume(","))
					continue;
				if (Consume("]"))
					break;
				Fail("expected ',' or ']'", pos_);
			}
			return node;
		}
		if (c == '"') {
			node->kind = JsonKind::kString;
			node->text = ParseString();
			return node;
		}
		if (Consume("null")) {
			node->kind = JsonKind::kNull;
			return node;
		}
		if (Consume("true")) {
			node->kind = JsonKind::kTrue;
			return node;
		}
		if (Consume("false")) {
			node->kind = JsonKind::kFalse;
			return node;
		}
		node->kind = JsonKind::kNumber;
		node->text = ParseNumber();
		return node;
	}

	std::string ParseNumber()
	{
		size_t start = pos_;
		if (pos_ < s_.size() && s_[pos_] == '-')
			pos_++;
		size_t int_start = pos_;
		while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_])))
			pos_++;
		if (pos_ == int_start || (s_[int_start] == '0' && pos_ - int_start > 1))
			Fail("invalid number", start);
		if (pos_ < s_.size() && s_[pos_] == '.') {
			pos_++;
			size_t frac = pos_;
			while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_])))
				pos_++;
			if (pos_ == frac)
				Fail("invalid number", start);
		}
		if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
			pos_++;
			if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-'))
				pos_++;
			size_t exp = pos_;
			while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_])))
				pos_++;
			if (pos_ == exp)
				Fail("invalid number", start);
		}
		return std::string(s_.substr(start, pos_ - start));
	}

	static void AppendUtf8(std::string &out, uint32_t cp)
	{
		if (cp < 0x80) {
			out += char(cp);
		} else if (cp < 0x800) {
			out += char(0xC0 | (cp >> 6));
			out += char(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out += char(0xE0 | (cp >> 12));
			out += char(0x80 | ((cp >> 6) & 0x3F));
			out += char(0x80 | (cp & 0x3F));
		} else {
			out += char(0xF0 | (cp >> 18));
			out += char(0x80 | ((cp >> 12) & 0x3F));
			out += char(0x80 | ((cp >> 6) & 0x3F));
			out += char(0x80 | (cp & 0x3F));
		}
	}

	uint32_t ParseHex4()
	{
		if (pos_ + 4 > s_.size())
			Fail("truncated \\u escape", pos_);
		uint32_t v = 0;
		for (int i = 0; i < 4; i++) {
			char c = s_[pos_++];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				Fail("invalid \\u escape", pos_ - 1);
		}
		return v;
	}

	std::string ParseString()
	{
		pos_++;  // opening quote
		std::string out;
		for (;;) {
			if (pos_ >= s_.size())
				Fail("unterminated string", pos_);
			char c = s_[pos_++];
			if (c == '"') {
				if (!IsValidUtf8(out))
					Fail("string is not valid UTF-8", pos_ - 1);
				return out;
			}
			if (static_cast<unsigned char>(c) < 0x20)
				Fail("control character in string", pos_ - 1);
			if (c != '\\') {
				out += c;
				continue;
			}
			if (pos_ >= s_.size())
				Fail("unterminated escape", pos_);
			char e = s_[pos_++];
			switch (e) {
			case '"': out += '"'; break;
			case '\\': out += '\\'; break;
			case '/': out += '/'; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u': {
				uint32_t cp = ParseHex4();
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (!Consume("\\u"))
						Fail("unpaired surrogate", pos_);
					uint32_t lo = ParseHex4();
					if (lo < 0xDC00 || lo > 0xDFFF)
						Fail("unpaired surrogate", pos_);
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					Fail("unpaired surrogate", pos_);
				} else if (cp == 0) {
					Fail("\\u0000 is not allowed (PostgreSQL text cannot hold it)", pos_);
				}
				AppendUtf8(out, cp);
				break;
			}
			default:
				Fail("invalid escape", pos_ - 1);
			}
		}
	}

	std::string_view s_;
	size_t pos_ = 0;
};

JsonDocument
JsonDocument::Parse(std::string_view text)
{
	JsonTextParser parser(text);
	std::unique_ptr<Node> root = parser.ParseRoot();
	JsonDocument doc;
	JsonTextParser::Flatten(*root, doc);
	return doc;
}

std::vector<JsonDocument::Member>
JsonDocument::Members() const
{
	if (tokens_.empty() || tokens_[0].kind != JsonKind::kObject)
		throw Error(ErrorCode::kInvalidText, "JSON value is not an object");
	std::vector<Member> members;
	uint32_t pos = 1;
	uint32_t total = static_cast<uint32_t>(tokens_.size());
	for (uint32_t i = 0; i < tokens_[0].count; i++) {
		std::string_view key = tokens_[pos].text.str();
		pos++;
		uint32_t n = JsonValueTokenCount(&tokens_[pos], total - pos);
		members.push_back({key, pos, n});
		pos += n;
	}
	return members;
}

}  // namespace audit_chain::core
