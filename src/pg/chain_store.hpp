// src/pg/chain_store.hpp: reading chains from audit_chain.events, and the chain locks.
#pragma once

#include "core/views.hpp"

extern "C" {
#include "postgres.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
}

namespace audit_chain::pg {

struct CatalogOids;

struct StoredHead {
	int32 chain_id;
	int64 seq;
	TimestampTz committed_at;
	core::Hash hash;
};

// The last event of chain_id as seen by snapshot; false if the chain is empty.
bool ReadChainHead(const CatalogOids *oids, Snapshot snapshot, int32 chain_id, StoredHead *head);

// The same, through the events table and its primary key index already opened by the caller.
bool ReadChainHeadFrom(Relation events, Relation events_pkey, Snapshot snapshot, int32 chain_id, StoredHead *head);

// Remembers seq as a position at or before the head of chain_id (after writing up to it), so
// that the next head lookup starts there.
void NoteChainHead(int32 chain_id, int64 seq);

// The distinct chain ids present (ascending), as seen by snapshot. palloc'd.
int32 *ReadChainIds(const CatalogOids *oids, Snapshot snapshot, int *count);

// Takes the transaction-level lock of one chain for the rest of the transaction: the first
// free one starting from this backend's preferred chain, else waits for the preferred one.
// A heavyweight lock, so waits show in pg_locks and to the isolation tester.
int32 LockSomeChain(void);

}  // namespace audit_chain::pg
