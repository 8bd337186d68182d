// src/pg/chain_store.cpp: chain heads and chain locks.
#include "pg/chain_store.hpp"

#include "pg/catalog.hpp"
#include "pg/guc.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/lock.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

namespace {

// Chain locks are advisory-method locks keyed (database, 'ACHN', chain, 0x4143); the last
// field keeps them apart from SQL advisory locks, which use 1 and 2 there.
constexpr uint32 kChainLockKey = 0x4143484E;
constexpr uint16 kChainLockKind = 0x4143;

// The position this backend last saw at the head of each chain. A chain only grows, so the
// head is at or after it: the head lookup then reads only the index entries from there on,
// instead of a whole leaf page of the chain. A stale or wrong hint (an aborted commit, a
// damaged trail) only costs the lookup without it.
constexpr int kMaxChains = 1024;
int64 head_hints[kMaxChains + 1];
uint64 hints_generation = 0;

int64
HeadHint(int32 chain_id)
{
	if (hints_generation != CatalogGeneration()) {
		memset(head_hints, 0, sizeof(head_hints));
		hints_generation = CatalogGeneration();
	}
	return chain_id >= 1 && chain_id <= kMaxChains ? head_hints[chain_id] : 0;
}

bool
ScanForHead(Relation rel, Relation index, Snapshot snapshot, int32 chain_id, int64 from_seq, TupleTableSlot *slot)
{
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(chain_id));
	ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(from_seq));
	int nkeys = from_seq > 0 ? 2 : 1;
	IndexScanDesc scan = index_beginscan(rel, index, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	bool found = index_getnext_slot(scan, BackwardScanDirection, slot);
	index_endscan(scan);
	return found;
}

}  // namespace

void
NoteChainHead(int32 chain_id, int64 seq)
{
	(void) HeadHint(chain_id);
	if (chain_id >= 1 && chain_id <= kMaxChains)
		head_hints[chain_id] = seq;
}

bool
ReadChainHeadFrom(Relation rel, Relation index, Snapshot snapshot, int32 chain_id, StoredHead *head)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int64 hint = HeadHint(chain_id);
	bool found = hint > 0 && ScanForHead(rel, index, snapshot, chain_id, hint, slot);
	if (!found)
		found = ScanForHead(rel, index, snapshot, chain_id, 0, slot);
	if (found) {
		slot_getsomeattrs(slot, kEvHash);
		Datum *v = slot->tts_values;
		bool *n = slot->tts_isnull;
		if (n[kEvSeq - 1] || n[kEvCommittedAt - 1] || n[kEvHash - 1])
			ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("malformed audit event at the head of chain %d", chain_id)));
		head->chain_id = chain_id;
		head->seq = DatumGetInt64(v[kEvSeq - 1]);
		head->committed_at = DatumGetTimestampTz(v[kEvCommittedAt - 1]);
		bytea *hash = DatumGetByteaPP(v[kEvHash - 1]);
		if (VARSIZE_ANY_EXHDR(hash) != core::kHashSize)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("hash of event %lld of chain %d has the wrong length", (long long) head->seq, chain_id),
					 errhint("Run audit_chain.verify() to locate the damage.")));
		memcpy(head->hash.bytes, VARDATA_ANY(hash), core::kHashSize);
		NoteChainHead(chain_id, head->seq);
	}
	ExecDropSingleTupleTableSlot(slot);
	return found;
}

bool
ReadChainHead(const CatalogOids *oids, Snapshot snapshot, int32 chain_id, StoredHead *head)
{
	Relation rel = table_open(oids->events, AccessShareLock);
	Relation index = index_open(oids->events_pkey, AccessShareLock);
	bool found = ReadChainHeadFrom(rel, index, snapshot, chain_id, head);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

int32 *
ReadChainIds(const CatalogOids *oids, Snapshot snapshot, int *count)
{
	// Skip-scan by hand: find the first chain id above the last one found.
	int capacity = 16;
	int32 *ids = (int32 *) palloc(sizeof(int32) * capacity);
	*count = 0;
	Relation rel = table_open(oids->events, AccessShareLock);
	Relation index = index_open(oids->events_pkey, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int32 last = INT32_MIN;  // chain ids start at 1
	for (;;) {
		ScanKeyData key;
		ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT4GT, Int32GetDatum(last));
		IndexScanDesc scan = index_beginscan(rel, index, snapshot, 1, 0);
		index_rescan(scan, &key, 1, NULL, 0);
		bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
		int32 id = 0;
		if (found) {
			bool isnull;
			id = DatumGetInt32(slot_getattr(slot, kEvChainId, &isnull));
		}
		index_endscan(scan);
		if (!found)
			break;
		if (*count == capacity) {
			capacity *= 2;
			ids = (int32 *) repalloc(ids, sizeof(int32) * capacity);
		}
		ids[(*count)++] = id;
		last = id;
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return ids;
}

int32
LockSomeChain(void)
{
	int n = guc_chain_count;
	int start = (MyBackendId > 0 ? MyBackendId - 1 : 0) % n;
	LOCKTAG tag;
	for (int i = 0; i < n; i++) {
		int32 chain = (start + i) % n + 1;
		SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kChainLockKey, (uint32) chain, kChainLockKind);
		if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
			return chain;
	}
	int32 chain = start + 1;
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kChainLockKey, (uint32) chain, kChainLockKind);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	return chain;
}

}  // namespace audit_chain::pg
