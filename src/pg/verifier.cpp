// src/pg/verifier.cpp: verify() over audit_chain.events.
//
// Each chain is read in position order through the primary key and every event is hashed
// again, from the stored fields and the stored context and resource rows, exactly as the
// commit writer hashed it (both go through BuildEventView). Reading stops at the first
// damage, which is reported with its chain and position.
#include "pg/verifier.hpp"

#include "pg/boundary.hpp"
#include "pg/catalog.hpp"
#include "pg/chain_store.hpp"
#include "pg/context.hpp"
#include "pg/event_view.hpp"
#include "pg/ledger.hpp"
#include "pg/resources.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace audit_chain::pg {

namespace {

// Per-call caches: verification reads what is stored now, never a session's memory of it.
constexpr int kContextSlots = 4096;
struct ContextSlot {
	int64 id;
	core::Hash hash;
};
struct ResourceSlot {
	int32 ref;
	char *name;
};
constexpr int kResourceSlots = 256;

struct Verifier {
	const CatalogOids *oids;
	Snapshot snapshot;
	const VerifyRequest *request;
	VerifyOutcome *out;
	ContextSlot *contexts;
	ResourceSlot *resources;
	MemoryContext event_cxt;
	MemoryContext cache_cxt;
};

bool
Fail(Verifier *v, int32 chain, int64 seq, const char *fmt, ...) pg_attribute_printf(4, 5);

bool
Fail(Verifier *v, int32 chain, int64 seq, const char *fmt, ...)
{
	StringInfoData buf;
	initStringInfo(&buf);
	for (;;) {
		va_list args;
		va_start(args, fmt);
		int needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	v->out->valid = false;
	v->out->chain_id = chain;
	v->out->seq = seq;
	v->out->reason = buf.data;
	return false;
}

bool
ContextHash(Verifier *v, int64 id, core::Hash *hash)
{
	ContextSlot &slot = v->contexts[(uint64) id % kContextSlots];
	if (slot.id == id && id != 0) {
		*hash = slot.hash;
		return true;
	}
	if (!ReadContextHash(v->oids, v->snapshot, id, hash))
		return false;
	slot.id = id;
	slot.hash = *hash;
	return true;
}

const char *
ResourceType(Verifier *v, int32 ref)
{
	ResourceSlot &slot = v->resources[(uint32) ref % kResourceSlots];
	if (slot.name != NULL && slot.ref == ref)
		return slot.name;
	MemoryContext old = MemoryContextSwitchTo(v->cache_cxt);
	char *name = ReadResourceType(v->oids, v->snapshot, ref);
	MemoryContextSwitchTo(old);
	if (name != NULL) {
		slot.ref = ref;
		slot.name = name;
	}
	return name;
}

// The stored event at (chain, seq): its hash and commit time; false if there is none.
bool
StoredEventAt(Verifier *v, int32 chain, int64 seq, core::Hash *hash, TimestampTz *committed_at)
{
	Relation rel = table_open(v->oids->events, AccessShareLock);
	Relation index = index_open(v->oids->events_pkey, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(chain));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(seq));
	IndexScanDesc scan = index_beginscan(rel, index, v->snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found) {
		bool isnull_hash, isnull_time;
		Datum h = slot_getattr(slot, kEvHash, &isnull_hash);
		Datum t = slot_getattr(slot, kEvCommittedAt, &isnull_time);
		bytea *b = isnull_hash ? NULL : DatumGetByteaPP(h);
		if (b == NULL || isnull_time || VARSIZE_ANY_EXHDR(b) != core::kHashSize) {
			memset(hash->bytes, 0, core::kHashSize);
			*committed_at = 0;
		} else {
			memcpy(hash->bytes, VARDATA_ANY(b), core::kHashSize);
			*committed_at = DatumGetTimestampTz(t);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

int
CompareInt32(const void *a, const void *b)
{
	int32 x = *(const int32 *) a, y = *(const int32 *) b;
	return x < y ? -1 : x > y ? 1 : 0;
}

const core::ChainHead *
ExpectedHead(const VerifyRequest *r, int32 chain)
{
	for (int i = 0; i < r->nexpected; i++)
		if ((int32) r->expected[i].chain_id == chain)
			return &r->expected[i];
	return NULL;
}

const char *
LinkProblem(core::LinkStatus status)
{
	switch (status) {
	case core::LinkStatus::kMissing:
		return "is missing";
	case core::LinkStatus::kUnexpected:
		return "is a duplicate or out-of-place event";
	case core::LinkStatus::kHashMismatch:
		return "does not match its hash: the event, its hash or its predecessor was changed";
	case core::LinkStatus::kTimeReversed:
		return "has a commit time earlier than its predecessor's";
	case core::LinkStatus::kOk:
		break;
	}
	return "is invalid";
}

// Checks one chain; returns false at the first damage (outcome filled in).
bool
VerifyChain(Verifier *v, int32 chain, const pg_uuid_t *ledger_id, core::ChainHead *verified_head)
{
	const VerifyRequest *r = v->request;
	const core::ChainHead *expected = ExpectedHead(r, chain);
	core::ChainCursor cursor;

	if (r->start_at_expected && expected != NULL) {
		core::Hash stored;
		TimestampTz committed_at;
		if (!StoredEventAt(v, chain, (int64) expected->seq, &stored, &committed_at))
			return Fail(v, chain, (int64) expected->seq,
						"event %lld of chain %d recorded in the digest is missing: history was truncated or deleted",
						(long long) expected->seq, chain);
		if (memcmp(stored.bytes, expected->hash.bytes, core::kHashSize) != 0)
			return Fail(v, chain, (int64) expected->seq,
						"event %lld of chain %d differs from the digest: history was rewritten",
						(long long) expected->seq, chain);
		cursor = core::ResumeChain((uint32) chain, expected->seq, UnixMicros(committed_at), stored);
	} else if (r->from_seq > 1) {
		core::Hash stored;
		TimestampTz committed_at;
		if (!StoredEventAt(v, chain, r->from_seq - 1, &stored, &committed_at))
			return Fail(v, chain, r->from_seq - 1, "event %lld of chain %d, where the range starts, is missing",
						(long long) (r->from_seq - 1), chain);
		cursor = core::ResumeChain((uint32) chain, (uint64) (r->from_seq - 1), UnixMicros(committed_at), stored);
	} else {
		CallCore([&] { cursor = core::StartOfChain(ledger_id->data, (uint32) chain); });
	}
	int64 start_seq = (int64) cursor.next_seq;

	Relation rel = table_open(v->oids->events, AccessShareLock);
	Relation index = index_open(v->oids->events_pkey, AccessShareLock);
	ScanKeyData keys[3];
	int nkeys = 2;
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(chain));
	ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(start_seq));
	if (r->to_seq > 0)
		ScanKeyInit(&keys[nkeys++], 2, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(r->to_seq));
	IndexScanDesc scan = index_beginscan(rel, index, v->snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);

	bool ok = true;
	bool expected_seen = expected == NULL || expected->seq < (uint64) start_seq;
	while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
		if ((v->out->events_checked & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		Datum *values = slot->tts_values;
		bool *nulls = slot->tts_isnull;
		int64 seq = nulls[kEvSeq - 1] ? 0 : DatumGetInt64(values[kEvSeq - 1]);

		MemoryContext old = MemoryContextSwitchTo(v->event_cxt);
		const char *problem = NULL;
		core::Hash context_hash;
		const char *resource_type = NULL;
		core::EventView view;
		if (nulls[kEvHash - 1] || VARSIZE_ANY_EXHDR(DatumGetByteaPP(values[kEvHash - 1])) != core::kHashSize)
			problem = "it has no valid hash";
		else if (nulls[kEvContextId - 1] || !ContextHash(v, DatumGetInt64(values[kEvContextId - 1]), &context_hash))
			problem = "its context row is missing";
		else if (nulls[kEvResourceRef - 1] ||
				 (resource_type = ResourceType(v, DatumGetInt32(values[kEvResourceRef - 1]))) == NULL)
			problem = "its resource row is missing";
		else
			problem = BuildEventView(values, nulls, &context_hash, resource_type, &view);

		core::LinkStatus status = core::LinkStatus::kOk;
		core::Hash computed;
		CoreError err;
		if (problem == NULL) {
			const uint8 *stored = (const uint8 *) VARDATA_ANY(DatumGetByteaPP(values[kEvHash - 1]));
			// A damaged event is a finding, not an error: report it and stop.
			if (!RunCore(err, [&] { status = core::CheckNext(cursor, view, stored, computed); }))
				problem = err.message;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(v->event_cxt);

		if (problem != NULL) {
			ok = Fail(v, chain, seq, "event %lld of chain %d is malformed: %s", (long long) seq, chain, problem);
			break;
		}
		if (status == core::LinkStatus::kMissing) {
			ok = Fail(v, chain, (int64) cursor.next_seq, "event %lld of chain %d is missing (the next stored event is %lld)",
					  (long long) cursor.next_seq, chain, (long long) seq);
			break;
		}
		if (status != core::LinkStatus::kOk) {
			ok = Fail(v, chain, seq, "event %lld of chain %d %s", (long long) seq, chain, LinkProblem(status));
			break;
		}
		v->out->events_checked++;
		if (expected != NULL && (uint64) seq == expected->seq) {
			expected_seen = true;
			if (memcmp(computed.bytes, expected->hash.bytes, core::kHashSize) != 0) {
				ok = Fail(v, chain, seq,
						  "event %lld of chain %d differs from the digest: history was rewritten and re-hashed",
						  (long long) seq, chain);
				break;
			}
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);

	if (ok && !expected_seen && (r->to_seq == 0 || (int64) expected->seq <= r->to_seq))
		ok = Fail(v, chain, (int64) cursor.next_seq,
				  "chain %d ends at event %lld but the digest has event %lld: history was truncated", chain,
				  (long long) (cursor.next_seq - 1), (long long) expected->seq);
	verified_head->chain_id = (uint32) chain;
	verified_head->seq = cursor.next_seq - 1;
	verified_head->committed_at = cursor.last_committed_at;
	verified_head->hash = cursor.previous;
	return ok;
}

}  // namespace

void
RunVerify(const VerifyRequest *request, VerifyOutcome *out)
{
	memset(out, 0, sizeof(*out));
	out->valid = true;

	Verifier v;
	v.oids = GetCatalogOids(false);
	v.snapshot = GetActiveSnapshot();
	v.request = request;
	v.out = out;
	v.contexts = (ContextSlot *) palloc0(sizeof(ContextSlot) * kContextSlots);
	v.resources = (ResourceSlot *) palloc0(sizeof(ResourceSlot) * kResourceSlots);
	v.event_cxt = AllocSetContextCreate(CurrentMemoryContext, "audit_chain verify event", ALLOCSET_DEFAULT_SIZES);
	v.cache_cxt = CurrentMemoryContext;

	int nchains;
	int32 *chains = ReadChainIds(v.oids, v.snapshot, &nchains);
	int ledger_rows = ReadLedgerRows(v.oids, v.snapshot, &out->ledger_id);
	out->has_ledger = ledger_rows == 1;
	int32 first_chain = nchains > 0 ? chains[0] : request->nexpected > 0 ? (int32) request->expected[0].chain_id : 0;
	bool stop = false;
	if (ledger_rows > 1)
		stop = !Fail(&v, first_chain, 1, "the ledger identity (audit_chain.ledger) has %d rows instead of one",
					 ledger_rows);
	else if (!out->has_ledger && (nchains > 0 || request->nexpected > 0))
		stop = !Fail(&v, first_chain, 1, "the ledger identity (audit_chain.ledger) is missing");
	else if (request->expected_ledger != NULL &&
			 memcmp(request->expected_ledger->data, out->ledger_id.data, UUID_LEN) != 0)
		stop = !Fail(&v, first_chain, 1, "the digest belongs to another audit trail (ledger_id differs)");
	if (stop) {
		MemoryContextDelete(v.event_cxt);
		return;
	}

	// Chains to check: those stored, and those a digest expects (which may have vanished).
	int32 *todo = (int32 *) palloc(sizeof(int32) * (nchains + request->nexpected));
	int ntodo = 0;
	for (int i = 0; i < nchains; i++)
		todo[ntodo++] = chains[i];
	for (int i = 0; i < request->nexpected; i++) {
		bool present = false;
		for (int j = 0; j < nchains && !present; j++)
			present = chains[j] == (int32) request->expected[i].chain_id;
		if (!present)
			todo[ntodo++] = (int32) request->expected[i].chain_id;
	}
	qsort(todo, ntodo, sizeof(int32), CompareInt32);

	out->heads = (core::ChainHead *) palloc0(sizeof(core::ChainHead) * (ntodo + 1));
	for (int i = 0; i < ntodo; i++) {
		if (request->only_chain != 0 && todo[i] != request->only_chain)
			continue;
		core::ChainHead head;
		bool ok = VerifyChain(&v, todo[i], &out->ledger_id, &head);
		if (head.seq > 0)
			out->heads[out->nheads++] = head;
		if (!ok)
			break;
	}
	MemoryContextDelete(v.event_cxt);
}

}  // namespace audit_chain::pg
