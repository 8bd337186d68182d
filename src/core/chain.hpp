// src/core/chain.hpp: hash chains: the genesis link, checking the next event, digests.
//
// Events are spread over several independent chains so that concurrent commits need not
// wait for one another; each chain is a dense sequence 1, 2, 3, ... of events, each event
// hash covering its predecessor's. A digest binds the heads of all chains into one value
// that a user keeps outside the database.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/event_encoding.hpp"
#include "core/views.hpp"

namespace audit_chain::core {

// The "previous hash" of a chain's first event:
// SHA-256("ACG1" || ledger_id || u32 chain_id). Binding the ledger id keeps a chain from
// being transplanted into another installation.
Hash GenesisHash(const uint8_t *ledger_id, uint32_t chain_id);

// Verification state of one chain; plain data so the glue can keep it in palloc'd memory
// between batches of events.
struct ChainCursor {
	uint32_t chain_id;
	uint64_t next_seq;        // position the next event must have
	int64_t last_committed_at;
	Hash previous;            // hash of the event at next_seq - 1 (or the genesis hash)
};

static_assert(std::is_trivially_destructible_v<ChainCursor>);

ChainCursor StartOfChain(const uint8_t *ledger_id, uint32_t chain_id);

// Resumes after a trusted position (a digest head or a verified checkpoint).
ChainCursor ResumeChain(uint32_t chain_id, uint64_t seq, int64_t committed_at, const Hash &hash);

enum class LinkStatus : uint8_t {
	kOk,
	kMissing,        // the event at next_seq is absent (deleted); a later one came first
	kUnexpected,     // a position already seen, or below the chain's start (duplicate or forged)
	kHashMismatch,   // the stored hash is not the hash of the stored event and its predecessor
	kTimeReversed,   // committed_at decreases along the chain
};

// Checks the next stored event of the chain; advances the cursor only when it is valid.
// computed receives the recomputed hash (meaningful for kOk and kHashMismatch).
LinkStatus CheckNext(ChainCursor &cursor, const EventView &event, const uint8_t *stored_hash, Hash &computed);

struct ChainHead {
	uint32_t chain_id;
	uint64_t seq;
	int64_t committed_at;     // microseconds since the Unix epoch
	Hash hash;
};

static_assert(std::is_trivially_destructible_v<ChainHead>);

// SHA-256("ACD1" || ledger_id || u32 n || (u32 chain || u64 seq || i64 committed_at || hash)*),
// heads in ascending chain order.
template <typename Sink>
void WriteDigest(Sink &sink, const uint8_t *ledger_id, const ChainHead *heads, uint32_t count);
Hash HashDigest(const uint8_t *ledger_id, const ChainHead *heads, uint32_t count);

}  // namespace audit_chain::core
