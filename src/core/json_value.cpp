// src/core/json_value.cpp: canonical encoding of JSON values (see README, "Hash specification").
#include "core/json_value.hpp"

#include "core/byte_sink.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/core_only.hpp"

namespace audit_chain::core {

namespace {

// Bounds nesting so hostile input cannot exhaust the stack (jsonb itself allows more).
constexpr int kMaxDepth = 10000;

[[noreturn]] void
Truncated()
{
	throw Error(ErrorCode::kDataCorrupted, "truncated JSON token stream");
}

uint32_t
CountFrom(const JsonToken *t, uint32_t available, int depth)
{
	if (available == 0)
		Truncated();
	if (depth > kMaxDepth)
		throw Error(ErrorCode::kInvalidParameter, "JSON value nested too deeply");
	switch (t[0].kind) {
	case JsonKind::kArray: {
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++)
			used += CountFrom(t + used, available - used, depth + 1);
		return used;
	}
	case JsonKind::kObject: {
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++) {
			if (used >= available)
				Truncated();
			if (t[used].kind != JsonKind::kString)
				throw Error(ErrorCode::kDataCorrupted, "JSON object key is not a string");
			used++;
			used += CountFrom(t + used, available - used, depth + 1);
		}
		return used;
	}
	default:
		return 1;
	}
}

template <typename Sink>
uint32_t
EncodeFrom(Sink &sink, const JsonToken *t, uint32_t available, int depth)
{
	if (available == 0)
		Truncated();
	if (depth > kMaxDepth)
		throw Error(ErrorCode::kInvalidParameter, "JSON value nested too deeply");
	switch (t[0].kind) {
	case JsonKind::kNull:
		PutU8(sink, 'n');
		return 1;
	case JsonKind::kFalse:
		PutU8(sink, 'f');
		return 1;
	case JsonKind::kTrue:
		PutU8(sink, 't');
		return 1;
	case JsonKind::kNumber:
		PutU8(sink, 'd');
		PutStr(sink, t[0].text.str());
		return 1;
	case JsonKind::kString:
		PutU8(sink, 's');
		PutStr(sink, t[0].text.str());
		return 1;
	case JsonKind::kArray: {
		PutU8(sink, 'a');
		PutU32(sink, t[0].count);
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++)
			used += EncodeFrom(sink, t + used, available - used, depth + 1);
		return used;
	}
	case JsonKind::kObject: {
		PutU8(sink, 'o');
		PutU32(sink, t[0].count);
		uint32_t used = 1;
		std::string_view previous;
		for (uint32_t i = 0; i < t[0].count; i++) {
			if (used >= available)
				Truncated();
			const JsonToken &key = t[used];
			if (key.kind != JsonKind::kString)
				throw Error(ErrorCode::kDataCorrupted, "JSON object key is not a string");
			if (i > 0 && !KeyLess(previous, key.text.str()))
				throw Error(ErrorCode::kInvalidParameter, "JSON object keys are not in canonical order",
							"Keys must be unique and ordered by byte length, then bytewise.");
			previous = key.text.str();
			PutStr(sink, key.text.str());
			used++;
			used += EncodeFrom(sink, t + used, available - used, depth + 1);
		}
		return used;
	}
	}
	throw Error(ErrorCode::kDataCorrupted, "unknown JSON token kind");
}

}  // namespace

uint32_t
JsonValueTokenCount(const JsonToken *tokens, uint32_t available)
{
	return CountFrom(tokens, available, 0);
}

template <typename Sink>
uint32_t
EncodeJsonValue(Sink &sink, const JsonToken *tokens, uint32_t available)
{
	return EncodeFrom(sink, tokens, available, 0);
}

template uint32_t EncodeJsonValue<Sha256>(Sha256 &, const JsonToken *, uint32_t);
template uint32_t EncodeJsonValue<ByteSink>(ByteSink &, const JsonToken *, uint32_t);

}  // namespace audit_chain::core
