// src/core/event_encoding.cpp: canonical bytes and hashes of events and contexts.
#include "core/event_encoding.hpp"

#include <cstring>

#include "core/byte_sink.hpp"
#include "core/error.hpp"
#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "core/core_only.hpp"

namespace audit_chain::core {

namespace {

constexpr char kValueKeyTag[] = "ACK1";
constexpr char kCommitmentTag[] = "ACV1";
constexpr char kEventTag[] = "ACE1";
constexpr char kContextTag[] = "ACC2";

// Derives per-value keys two at a time (one SHA-256 block yields two 16-byte keys).
class ValueKeys {
public:
	explicit ValueKeys(const uint8_t *salt) : salt_(salt) {}

	const uint8_t *For(const ValueUnit &unit, uint32_t index)
	{
		if (unit.value_key != nullptr)
			return unit.value_key;
		if (salt_ == nullptr)
			throw Error(ErrorCode::kDataCorrupted, "a value key is missing where the salt was destroyed",
						"An erased event must keep an explicit key for every value that was not erased.");
		uint32_t block = index / 2;
		if (block != cached_block_) {
			Sha256 h;
			h.Update(kValueKeyTag, 4);
			h.Update(salt_, kSaltSize);
			PutU32(h, block);
			cached_ = h.Final();
			cached_block_ = block;
		}
		return cached_.bytes + (index % 2) * kValueKeySize;
	}

private:
	const uint8_t *salt_;
	uint32_t cached_block_ = UINT32_MAX;
	Hash cached_{};
};

constexpr std::string_view kErasedMarker = "[ERASED]";
constexpr std::string_view kPseudonymPrefix = "[ERASED:";

bool
IsPseudonym(std::string_view s)
{
	if (s.size() != kErasedPseudonymSize || s.substr(0, kPseudonymPrefix.size()) != kPseudonymPrefix ||
		s.back() != ']')
		return false;
	for (size_t i = kPseudonymPrefix.size(); i + 1 < s.size(); i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

}  // namespace

bool
IsErasedValue(const JsonToken *tokens, uint32_t count)
{
	if (tokens == nullptr || count != 1 || tokens[0].kind != JsonKind::kString)
		return false;
	std::string_view s = tokens[0].text.str();
	return s == kErasedMarker || IsPseudonym(s);
}

void
ErasedPseudonym(const uint8_t *secret, size_t secret_size, const char *id, size_t id_size,
				char out[kErasedPseudonymSize + 1])
{
	Hash mac = Sha256::Hmac(secret, secret_size, id, id_size);
	std::memcpy(out, kPseudonymPrefix.data(), kPseudonymPrefix.size());
	HexEncode(mac.bytes, 8, out + kPseudonymPrefix.size());
	out[kErasedPseudonymSize - 1] = ']';
	out[kErasedPseudonymSize] = '\0';
}

namespace {

Hash
CommitmentOf(ValueKeys &keys, const ValueUnit &unit, uint32_t index)
{
	if (unit.commitment != nullptr) {
		// An erased value reads "[ERASED]" (or a pseudonym): anything else in its place would not
		// be covered by the hash.
		if (((unit.flags & kHasOld) && !IsErasedValue(unit.old_value, unit.old_tokens)) ||
			((unit.flags & kHasNew) && !IsErasedValue(unit.new_value, unit.new_tokens)))
			throw Error(ErrorCode::kDataCorrupted, "an erased value is not \"[ERASED]\"");
		Hash stored;
		std::memcpy(stored.bytes, unit.commitment, kHashSize);
		return stored;
	}
	return ComputeCommitment(keys.For(unit, index), unit);
}

template <typename Sink>
void
WriteUnitList(Sink &sink, ValueKeys &keys, const ValueUnit *units, uint32_t count, uint32_t &index)
{
	PutU32(sink, count);
	std::string_view previous;
	for (uint32_t i = 0; i < count; i++, index++) {
		const ValueUnit &unit = units[i];
		if (i > 0 && !KeyLess(previous, unit.key.str()))
			throw Error(ErrorCode::kDataCorrupted, "event data keys are not in canonical order");
		previous = unit.key.str();
		PutStr(sink, unit.key.str());
		PutU8(sink, unit.flags);
		Hash c = CommitmentOf(keys, unit, index);
		PutBytes(sink, c.bytes, kHashSize);
	}
}

}  // namespace

void
DeriveValueKey(const uint8_t *salt, uint32_t index, uint8_t *key_out)
{
	ValueUnit none{};
	ValueKeys keys(salt);
	std::memcpy(key_out, keys.For(none, index), kValueKeySize);
}

Hash
ComputeCommitment(const uint8_t *value_key, const ValueUnit &unit)
{
	Sha256 h;
	h.Update(kCommitmentTag, 4);
	h.Update(value_key, kValueKeySize);
	PutU8(h, unit.flags);
	if (unit.flags & kHasOld) {
		if (unit.old_value == nullptr)
			throw Error(ErrorCode::kDataCorrupted, "old value missing from a unit that has one");
		EncodeJsonValue(h, unit.old_value, unit.old_tokens);
	}
	if (unit.flags & kHasNew) {
		if (unit.new_value == nullptr)
			throw Error(ErrorCode::kDataCorrupted, "new value missing from a unit that has one");
		EncodeJsonValue(h, unit.new_value, unit.new_tokens);
	}
	return h.Final();
}

bool
HasErasureRecord(const ValueUnit &u)
{
	return u.value_key != nullptr || u.commitment != nullptr;
}

// An event keeps either its salt or, once erased, explicit keys and commitments; never both,
// which would let a forged value pass with the commitment of the original.
void
CheckErasureForm(const EventView &e)
{
	if (e.salt == nullptr)
		return;
	bool any = e.resource_id != nullptr && HasErasureRecord(*e.resource_id);
	for (uint32_t i = 0; i < e.column_count && !any; i++)
		any = HasErasureRecord(e.columns[i]);
	for (uint32_t i = 0; i < e.detail_count && !any; i++)
		any = HasErasureRecord(e.details[i]);
	if (any)
		throw Error(ErrorCode::kDataCorrupted, "an event with a salt carries an erasure record");
}

template <typename Sink>
void
WriteEvent(Sink &sink, const Hash &previous, const EventView &e)
{
	CheckErasureForm(e);
	ValueKeys keys(e.salt);
	uint32_t index = 0;

	sink.Update(kEventTag, 4);
	PutBytes(sink, previous.bytes, kHashSize);
	PutU32(sink, e.chain_id);
	PutU64(sink, e.seq);
	PutU64(sink, e.commit_seq);
	PutI64(sink, e.committed_at);
	PutU64(sink, e.xid);
	PutI64(sink, e.event_time);
	PutBytes(sink, e.event_id, kUuidSize);
	PutStr(sink, e.action.str());
	PutStr(sink, e.outcome.str());
	PutStr(sink, e.resource_type.str());
	if (e.resource_id != nullptr) {
		PutU8(sink, 1);
		Hash c = CommitmentOf(keys, *e.resource_id, index++);
		PutBytes(sink, c.bytes, kHashSize);
	} else {
		PutU8(sink, 0);
	}
	PutBytes(sink, e.context_hash, kHashSize);
	PutU8(sink, e.data_flags);
	WriteUnitList(sink, keys, e.columns, e.column_count, index);
	if (e.has_details) {
		PutU8(sink, 1);
		WriteUnitList(sink, keys, e.details, e.detail_count, index);
	} else {
		PutU8(sink, 0);
	}
}

Hash
HashEvent(const Hash &previous, const EventView &event)
{
	Sha256 h;
	WriteEvent(h, previous, event);
	return h.Final();
}

template <typename Sink>
void
WriteContext(Sink &sink, const ContextView &c)
{
	for (uint32_t i = 0; i < c.count; i++) {
		const ValueUnit &f = c.fields[i];
		if (c.salt != nullptr && HasErasureRecord(f))
			throw Error(ErrorCode::kDataCorrupted, "a context with a salt carries an erasure record");
		// An attribute is one string; an erased one reads "[ERASED]" (CommitmentOf checks that).
		if (f.key.size == 0 || f.flags != kHasNew || f.new_value == nullptr || f.new_tokens != 1 ||
			f.new_value[0].kind != JsonKind::kString)
			throw Error(ErrorCode::kDataCorrupted, "a context attribute is not a named string");
	}
	ValueKeys keys(c.salt);
	uint32_t index = 0;
	sink.Update(kContextTag, 4);
	WriteUnitList(sink, keys, c.fields, c.count, index);
}

Hash
HashContext(const ContextView &context)
{
	Sha256 h;
	WriteContext(h, context);
	return h.Final();
}

template void WriteEvent<Sha256>(Sha256 &, const Hash &, const EventView &);
template void WriteEvent<ByteSink>(ByteSink &, const Hash &, const EventView &);
template void WriteContext<Sha256>(Sha256 &, const ContextView &);
template void WriteContext<ByteSink>(ByteSink &, const ContextView &);

}  // namespace audit_chain::core
