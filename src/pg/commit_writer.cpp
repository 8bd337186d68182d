// src/pg/commit_writer.cpp: the commit-time half of capture.
//
// Why at commit: chaining in the trigger would need the chain head while the transaction
// is still open, so an idle transaction would block every other audited writer. Here the
// chain lock is taken only inside COMMIT; with several chains, concurrent commits take
// different chains and still share WAL flushes (group commit).
#include "pg/commit_writer.hpp"

#include "core/chain.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog.hpp"
#include "pg/chain_store.hpp"
#include "pg/context.hpp"
#include "pg/event_view.hpp"
#include "pg/ledger.hpp"
#include "pg/resources.hpp"
#include "pg/row_writer.hpp"
#include "pg/spool.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/xid8.h"
}

namespace audit_chain::pg {

namespace {

constexpr int kInsertBatch = 1000;

// Events by (resource_ref, resource_id), the key of events_resource_idx (resource_id is
// COLLATE "C": bytewise), NULL ids last.
int
ResourceOrder(TupleTableSlot *a, TupleTableSlot *b)
{
	int32 ra = DatumGetInt32(a->tts_values[kEvResourceRef - 1]);
	int32 rb = DatumGetInt32(b->tts_values[kEvResourceRef - 1]);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	bool na = a->tts_isnull[kEvResourceId - 1], nb = b->tts_isnull[kEvResourceId - 1];
	if (na || nb)
		return na == nb ? 0 : na ? 1 : -1;
	text *ta = DatumGetTextPP(a->tts_values[kEvResourceId - 1]);
	text *tb = DatumGetTextPP(b->tts_values[kEvResourceId - 1]);
	size_t la = VARSIZE_ANY_EXHDR(ta), lb = VARSIZE_ANY_EXHDR(tb);
	int c = memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), Min(la, lb));
	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb ? 1 : 0;
}

bytea *
HashDatum(const core::Hash &h)
{
	bytea *b = (bytea *) palloc(VARHDRSZ + core::kHashSize);
	SET_VARSIZE(b, VARHDRSZ + core::kHashSize);
	memcpy(VARDATA(b), h.bytes, core::kHashSize);
	return b;
}

}  // namespace

void
WriteSpooledEvents(void)
{
	if (!SpoolHasEvents())
		return;
	const CatalogOids *oids = GetCatalogOids(true);
	if (oids == NULL) {
		SpoolReset(true);  // the extension was dropped in this transaction: no trail to write to
		return;
	}

	// Rows this transaction wrote earlier (contexts, resources) must be visible below.
	CommandCounterIncrement();

	pg_uuid_t ledger_id;
	GetOrCreateLedgerId(oids, &ledger_id);
	RowWriter writer;
	RowWriterOpen(&writer, oids->events, kInsertBatch);
	writer.index_order = ResourceOrder;
	writer.index_order_column = kEvResourceRef;
	int32 chain_id = LockSomeChain();

	// After the lock the previous holder of the chain has committed, so SnapshotSelf (all
	// committed rows, and ours) sees its events. Unlike an MVCC snapshot it takes no
	// predicate locks, which under SERIALIZABLE would make unrelated commits conflict.
	Snapshot snapshot = SnapshotSelf;
	StoredHead head;
	core::Hash previous;
	int64 seq = 0;
	TimestampTz committed_at = GetCurrentTimestamp();
	if (ReadChainHeadFrom(writer.rel, RowWriterIndex(&writer, oids->events_pkey), snapshot, chain_id, &head)) {
		seq = head.seq;
		previous = head.hash;
		if (committed_at < head.committed_at)
			committed_at = head.committed_at;  // commit times never go backwards along a chain
	} else {
		CallCore([&] { previous = core::GenesisHash(ledger_id.data, (uint32) chain_id); });
	}
	int64 commit_seq = nextval_internal(oids->commit_seq, false);
	FullTransactionId xid = GetTopFullTransactionId();

	MemoryContext event_cxt = AllocSetContextCreate(CurrentMemoryContext, "audit_chain event", ALLOCSET_DEFAULT_SIZES);
	SpoolBeginRead();
	SpooledEvent e;
	for (;;) {
		// Everything read or built for one event goes in event_cxt, reset per event, so
		// committing a million events needs no more memory than committing one.
		MemoryContextReset(event_cxt);
		MemoryContext old = MemoryContextSwitchTo(event_cxt);
		if (!SpoolNext(&e)) {
			MemoryContextSwitchTo(old);
			break;
		}
		// Events of rolled-back savepoints: their subtransaction is no longer part of ours.
		if (!TransactionIdIsCurrentTransactionId(e.subxid)) {
			MemoryContextSwitchTo(old);
			continue;
		}
		CHECK_FOR_INTERRUPTS();

		TupleTableSlot *slot = RowWriterSlot(&writer);
		Datum *v = slot->tts_values;
		bool *n = slot->tts_isnull;
		memset(n, 0, sizeof(bool) * kEvNumAttrs);
		v[kEvSeq - 1] = Int64GetDatum(++seq);
		v[kEvCommitSeq - 1] = Int64GetDatum(commit_seq);
		v[kEvXid - 1] = FullTransactionIdGetDatum(xid);
		v[kEvCommittedAt - 1] = TimestampTzGetDatum(committed_at);
		v[kEvEventTime - 1] = TimestampTzGetDatum(e.event_time);
		v[kEvContextId - 1] = Int64GetDatum(e.context_id);
		v[kEvEventId - 1] = UUIDPGetDatum(&e.event_id);
		v[kEvChainId - 1] = Int32GetDatum(chain_id);
		v[kEvResourceRef - 1] = Int32GetDatum(e.resource_ref);
		v[kEvOutcome - 1] = CharGetDatum(e.outcome);
		v[kEvAction - 1] = PointerGetDatum(e.action);
		v[kEvResourceId - 1] = PointerGetDatum(e.resource_id);
		n[kEvResourceId - 1] = e.resource_id == NULL;
		v[kEvOldData - 1] = PointerGetDatum(e.old_data);
		n[kEvOldData - 1] = e.old_data == NULL;
		v[kEvNewData - 1] = PointerGetDatum(e.new_data);
		n[kEvNewData - 1] = e.new_data == NULL;
		v[kEvDetails - 1] = PointerGetDatum(e.details);
		n[kEvDetails - 1] = e.details == NULL;
		v[kEvSalt - 1] = PointerGetDatum(e.salt);
		n[kEvSalt - 1] = e.salt == NULL;
		n[kEvErasure - 1] = true;

		core::Hash context_hash;
		if (!WriterContextHash(oids, snapshot, e.context_id, &context_hash))
			elog(ERROR, "audit_chain context %lld not found", (long long) e.context_id);
		const char *resource_type = WriterResourceType(oids, snapshot, e.resource_ref);
		if (resource_type == NULL)
			elog(ERROR, "audit_chain resource %d not found", e.resource_ref);

		core::EventView view;
		const char *problem = BuildEventView(v, n, &context_hash, resource_type, &view);
		if (problem != NULL)
			elog(ERROR, "audit_chain could not encode an event: %s", problem);
		core::Hash hash;
		CallCore([&] { hash = core::HashEvent(previous, view); });
		v[kEvHash - 1] = PointerGetDatum(HashDatum(hash));
		previous = hash;

		RowWriterAdd(&writer);  // copies the values into the slot
		MemoryContextSwitchTo(old);
	}
	RowWriterClose(&writer);
	MemoryContextDelete(event_cxt);
	SpoolReset(true);
	NoteChainHead(chain_id, seq);
}

void
RefusePrepareWithEvents(void)
{
	if (!SpoolHasEvents())
		return;
	// Events of rolled-back savepoints do not count: read the spool for a surviving one.
	bool surviving = false;
	SpoolBeginRead();
	SpooledEvent e;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "audit_chain prepare", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	while (!surviving && SpoolNext(&e)) {
		surviving = TransactionIdIsCurrentTransactionId(e.subxid);
		MemoryContextReset(cxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	SpoolReset(true);
	if (surviving)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that has audited changes"),
				 errdetail("audit_chain writes the events of a transaction when it commits; a prepared transaction "
						   "would commit later, out of order."),
				 errhint("Commit audited changes with COMMIT instead of two-phase commit.")));
}

}  // namespace audit_chain::pg
