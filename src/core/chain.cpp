// src/core/chain.cpp: genesis, chain link checks and digests.
#include "core/chain.hpp"

#include <cstring>

#include "core/byte_sink.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/core_only.hpp"

namespace audit_chain::core {

Hash
GenesisHash(const uint8_t *ledger_id, uint32_t chain_id)
{
	Sha256 h;
	h.Update("ACG1", 4);
	h.Update(ledger_id, kUuidSize);
	PutU32(h, chain_id);
	return h.Final();
}

ChainCursor
StartOfChain(const uint8_t *ledger_id, uint32_t chain_id)
{
	ChainCursor c{};
	c.chain_id = chain_id;
	c.next_seq = 1;
	c.last_committed_at = INT64_MIN;
	c.previous = GenesisHash(ledger_id, chain_id);
	return c;
}

ChainCursor
ResumeChain(uint32_t chain_id, uint64_t seq, int64_t committed_at, const Hash &hash)
{
	ChainCursor c{};
	c.chain_id = chain_id;
	c.next_seq = seq + 1;
	c.last_committed_at = committed_at;
	c.previous = hash;
	return c;
}

LinkStatus
CheckNext(ChainCursor &cursor, const EventView &event, const uint8_t *stored_hash, Hash &computed)
{
	if (event.chain_id != cursor.chain_id)
		throw Error(ErrorCode::kInternal, "event of another chain passed to chain check");
	if (event.seq > cursor.next_seq)
		return LinkStatus::kMissing;
	if (event.seq < cursor.next_seq)
		return LinkStatus::kUnexpected;
	computed = HashEvent(cursor.previous, event);
	if (std::memcmp(computed.bytes, stored_hash, kHashSize) != 0)
		return LinkStatus::kHashMismatch;
	if (event.committed_at < cursor.last_committed_at)
		return LinkStatus::kTimeReversed;
	cursor.next_seq++;
	cursor.last_committed_at = event.committed_at;
	cursor.previous = computed;
	return LinkStatus::kOk;
}

template <typename Sink>
void
WriteDigest(Sink &sink, const uint8_t *ledger_id, const ChainHead *heads, uint32_t count)
{
	sink.Update("ACD1", 4);
	sink.Update(ledger_id, kUuidSize);
	PutU32(sink, count);
	for (uint32_t i = 0; i < count; i++) {
		if (i > 0 && heads[i - 1].chain_id >= heads[i].chain_id)
			throw Error(ErrorCode::kInvalidParameter, "digest heads are not in ascending chain order");
		PutU32(sink, heads[i].chain_id);
		PutU64(sink, heads[i].seq);
		PutI64(sink, heads[i].committed_at);
		PutBytes(sink, heads[i].hash.bytes, kHashSize);
	}
}

Hash
HashDigest(const uint8_t *ledger_id, const ChainHead *heads, uint32_t count)
{
	Sha256 h;
	WriteDigest(h, ledger_id, heads, count);
	return h.Final();
}

template void WriteDigest<Sha256>(Sha256 &, const uint8_t *, const ChainHead *, uint32_t);
template void WriteDigest<ByteSink>(ByteSink &, const uint8_t *, const ChainHead *, uint32_t);

}  // namespace audit_chain::core
