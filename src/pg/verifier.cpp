// src/pg/verifier.cpp: verify() over audit_chain.events.
//
// Every event is hashed again, from the stored fields and the stored context and resource
// rows, exactly as the commit writer hashed it (both go through BuildEventView), and linked
// to its predecessor in position order. Whole chains are read in one heap scan (physical
// order, events reordered per chain where writers interleaved); ranges and incremental
// checks walk the primary key. Checking a chain stops at its first damage, which is
// reported with its chain and position.
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
#include "utils/hsearch.h"
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

// The hash of context `id`; NULL, or why the event cannot be checked (a malformed context
// is not cached: each of its events reports it).
const char *
ContextHash(Verifier *v, int64 id, core::Hash *hash)
{
	ContextSlot &slot = v->contexts[(uint64) id % kContextSlots];
	if (slot.id == id && id != 0) {
		*hash = slot.hash;
		return NULL;
	}
	const char *problem;
	if (!ReadContextHash(v->oids, v->snapshot, id, hash, &problem))
		return "its context row is missing";
	if (problem != NULL)
		return psprintf("its context %lld is malformed: %s", (long long) id, problem);
	slot.id = id;
	slot.hash = *hash;
	return NULL;
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

// The first stored event of the chain whose position stands to `seq` as `op` says (equal, or
// below), through the primary key: its position, hash and commit time; false if there is none.
bool
FirstStoredEvent(Verifier *v, int32 chain, StrategyNumber strategy, RegProcedure op, int64 seq, int64 *found_seq,
				 core::Hash *hash, TimestampTz *committed_at)
{
	Relation rel = table_open(v->oids->events, AccessShareLock);
	Relation index = index_open(v->oids->events_pkey, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(chain));
	ScanKeyInit(&keys[1], 2, strategy, op, Int64GetDatum(seq));
	IndexScanDesc scan = index_beginscan(rel, index, v->snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found) {
		bool isnull_seq, isnull_hash, isnull_time;
		*found_seq = DatumGetInt64(slot_getattr(slot, kEvSeq, &isnull_seq));
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

// The stored event at (chain, seq): its hash and commit time; false if there is none.
bool
StoredEventAt(Verifier *v, int32 chain, int64 seq, core::Hash *hash, TimestampTz *committed_at)
{
	int64 found_seq;
	return FirstStoredEvent(v, chain, BTEqualStrategyNumber, F_INT8EQ, seq, &found_seq, hash, committed_at);
}

// Whether the chain has a stored row at a position below 1 (its lowest in *seq).
bool
StoredEventBelowOne(Verifier *v, int32 chain, int64 *seq)
{
	core::Hash hash;
	TimestampTz committed_at;
	return FirstStoredEvent(v, chain, BTLessStrategyNumber, F_INT8LT, 1, seq, &hash, &committed_at);
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

// One chain being verified. Its findings go to its own outcome (Fail() writes to v->out,
// which points there while the chain's events are checked), so that chains checked side
// by side in one heap scan report exactly what checking them one after the other would.
struct ChainRun {
	int32 chain;
	const core::ChainHead *expected;
	core::ChainCursor cursor;
	bool expected_seen;
	bool stopped;             // damage found: nothing more is read for this chain
	VerifyOutcome result;     // valid, events_checked and the first damage
	// Heap scan only: events that came before their predecessor, by position.
	HTAB *early;
	bool resume_by_index;     // the rest is read through the primary key
};

struct EarlyEvent {
	int64 seq;                // hash key
	HeapTuple tuple;
};

// Positions the cursor where checking starts: after the digest's head (incremental), after
// from_seq - 1 (a range), or at the chain's genesis.
bool
StartChain(Verifier *v, ChainRun *run, const pg_uuid_t *ledger_id)
{
	const VerifyRequest *r = v->request;
	int32 chain = run->chain;
	const core::ChainHead *expected = run->expected;
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
		run->cursor = core::ResumeChain((uint32) chain, expected->seq, UnixMicros(committed_at), stored);
	} else if (r->from_seq > 1) {
		core::Hash stored;
		TimestampTz committed_at;
		if (!StoredEventAt(v, chain, r->from_seq - 1, &stored, &committed_at))
			return Fail(v, chain, r->from_seq - 1, "event %lld of chain %d, where the range starts, is missing",
						(long long) (r->from_seq - 1), chain);
		run->cursor = core::ResumeChain((uint32) chain, (uint64) (r->from_seq - 1), UnixMicros(committed_at), stored);
	} else {
		// Positions start at 1: a row below that is no event of the chain, but one a reader of
		// audit_events would see.
		int64 below;
		if (StoredEventBelowOne(v, chain, &below))
			return Fail(v, chain, below, "event %lld of chain %d is out of place: positions start at 1",
						(long long) below, chain);
		CallCore([&] { run->cursor = core::StartOfChain(ledger_id->data, (uint32) chain); });
	}
	run->expected_seen = expected == NULL || expected->seq < run->cursor.next_seq;
	return true;
}

// Checks the stored event (values, nulls) as the chain's next; false at damage.
bool
CheckEvent(Verifier *v, ChainRun *run, Datum *values, bool *nulls)
{
	int32 chain = run->chain;
	core::ChainCursor &cursor = run->cursor;
	const core::ChainHead *expected = run->expected;
	int64 seq = nulls[kEvSeq - 1] ? 0 : DatumGetInt64(values[kEvSeq - 1]);

	MemoryContext old = MemoryContextSwitchTo(v->event_cxt);
	const char *problem = NULL;
	core::Hash context_hash;
	const char *resource_type = NULL;
	core::EventView view;
	if (nulls[kEvHash - 1] || VARSIZE_ANY_EXHDR(DatumGetByteaPP(values[kEvHash - 1])) != core::kHashSize)
		problem = "it has no valid hash";
	else if (nulls[kEvContextId - 1])
		problem = "its context row is missing";
	else
		problem = ContextHash(v, DatumGetInt64(values[kEvContextId - 1]), &context_hash);
	if (problem == NULL) {
		if (nulls[kEvResourceRef - 1] ||
			(resource_type = ResourceType(v, DatumGetInt32(values[kEvResourceRef - 1]))) == NULL)
			problem = "its resource row is missing";
		else
			problem = BuildEventView(values, nulls, &context_hash, resource_type, &view);
	}

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

	if (problem != NULL)
		return Fail(v, chain, seq, "event %lld of chain %d is malformed: %s", (long long) seq, chain, problem);
	if (status == core::LinkStatus::kMissing)
		return Fail(v, chain, (int64) cursor.next_seq, "event %lld of chain %d is missing (the next stored event is %lld)",
					(long long) cursor.next_seq, chain, (long long) seq);
	if (status != core::LinkStatus::kOk)
		return Fail(v, chain, seq, "event %lld of chain %d %s", (long long) seq, chain, LinkProblem(status));
	v->out->events_checked++;
	if (expected != NULL && (uint64) seq == expected->seq) {
		run->expected_seen = true;
		if (memcmp(computed.bytes, expected->hash.bytes, core::kHashSize) != 0)
			return Fail(v, chain, seq, "event %lld of chain %d differs from the digest: history was rewritten and re-hashed",
						(long long) seq, chain);
	}
	return true;
}

// Reads the rest of the chain (from the cursor on) in position order through the primary key.
void
CheckRestByIndex(Verifier *v, ChainRun *run)
{
	const VerifyRequest *r = v->request;
	Relation rel = table_open(v->oids->events, AccessShareLock);
	Relation index = index_open(v->oids->events_pkey, AccessShareLock);
	ScanKeyData keys[3];
	int nkeys = 2;
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(run->chain));
	ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum((int64) run->cursor.next_seq));
	if (r->to_seq > 0)
		ScanKeyInit(&keys[nkeys++], 2, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(r->to_seq));
	IndexScanDesc scan = index_beginscan(rel, index, v->snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
		if ((run->result.events_checked & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		if (!CheckEvent(v, run, slot->tts_values, slot->tts_isnull)) {
			run->stopped = true;
			break;
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
}

// After the last event: a digest's head that was never reached means a truncated chain.
void
FinishChain(Verifier *v, ChainRun *run, core::ChainHead *verified_head)
{
	const VerifyRequest *r = v->request;
	const core::ChainHead *expected = run->expected;
	if (!run->stopped && !run->expected_seen && (r->to_seq == 0 || (int64) expected->seq <= r->to_seq)) {
		Fail(v, run->chain, (int64) run->cursor.next_seq,
			 "chain %d ends at event %lld but the digest has event %lld: history was truncated", run->chain,
			 (long long) (run->cursor.next_seq - 1), (long long) expected->seq);
		run->stopped = true;
	}
	verified_head->chain_id = (uint32) run->chain;
	verified_head->seq = run->cursor.next_seq - 1;
	verified_head->committed_at = run->cursor.last_committed_at;
	verified_head->hash = run->cursor.previous;
}

void
InitRun(ChainRun *run, int32 chain, const VerifyRequest *r)
{
	memset(run, 0, sizeof(*run));
	run->chain = chain;
	run->expected = ExpectedHead(r, chain);
	run->result.valid = true;
}

// Early events held by all chains of a heap scan, at most this many bytes (then the
// chain that overflows continues through the index).
Size
EarlyEventBudget(void)
{
	return Max((Size) work_mem * 1024, (Size) 4 * 1024 * 1024);
}

// Memory an early event holds: its tuple's allocation (one chunk: header and data), as the
// allocator rounds it, and its hash entry.
Size
EarlyEventSpace(HeapTuple tuple)
{
	return GetMemoryChunkSpace(tuple) + MAXALIGN(sizeof(HASHELEMENT)) + MAXALIGN(sizeof(EarlyEvent));
}

void
DropEarlyEvents(ChainRun *run, Size *held)
{
	if (run->early == NULL)
		return;
	HASH_SEQ_STATUS it;
	hash_seq_init(&it, run->early);
	for (EarlyEvent *e; (e = (EarlyEvent *) hash_seq_search(&it)) != NULL;) {
		*held -= EarlyEventSpace(e->tuple);
		heap_freetuple(e->tuple);
	}
	hash_destroy(run->early);
	run->early = NULL;
}

// Checks every chain from its genesis in one pass over the heap, in physical order, which
// is far cheaper per event than a walk of the primary key. Each chain still advances
// strictly in position order: an event that comes before its predecessor (writers fill
// different pages concurrently) waits in the chain's early events until its turn. Chains
// whose early events outgrow the budget, and chains left with early events at the end (a
// missing position), continue through the primary key from where they are, which also
// pinpoints the damage exactly as the index walk does.
void
CheckChainsByHeapScan(Verifier *v, ChainRun *runs, int nruns)
{
	Relation rel = table_open(v->oids->events, AccessShareLock);
	TupleDesc desc = RelationGetDescr(rel);
	// No synchronized scan: it would start mid-table and hold back half of every chain.
	TableScanDesc scan = table_beginscan_strat(rel, v->snapshot, 0, NULL, true, false);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	MemoryContext early_cxt = AllocSetContextCreate(CurrentMemoryContext, "audit_chain verify early events",
													 ALLOCSET_DEFAULT_SIZES);
	Size held = 0, budget = EarlyEventBudget();
	Datum *values = (Datum *) palloc(sizeof(Datum) * desc->natts);
	bool *nulls = (bool *) palloc(sizeof(bool) * desc->natts);
	VerifyOutcome *shared_out = v->out;
	uint64 rows = 0;
	int32 lowest_damaged = PG_INT32_MAX;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
		if ((++rows & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		bool isnull_chain, isnull_seq;
		int32 chain = DatumGetInt32(slot_getattr(slot, kEvChainId, &isnull_chain));
		int64 seq = DatumGetInt64(slot_getattr(slot, kEvSeq, &isnull_seq));
		// NOT NULL columns, and positions start at 1: the walk along the primary key (from
		// position 1 on) never meets such rows either.
		if (isnull_chain || isnull_seq || seq < 1)
			continue;
		int lo = 0, hi = nruns - 1;
		ChainRun *run = NULL;
		while (lo <= hi) {
			int mid = (lo + hi) / 2;
			if (runs[mid].chain == chain) {
				run = &runs[mid];
				break;
			}
			if (runs[mid].chain < chain)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		// Chains after a damaged one are not reported (the report ends at the first damaged
		// chain), so they need not be checked further.
		if (run == NULL || run->stopped || run->resume_by_index || run->chain > lowest_damaged)
			continue;
		if (seq > (int64) run->cursor.next_seq) {
			// Too early: keep a copy until its predecessors have been checked.
			MemoryContext old = MemoryContextSwitchTo(early_cxt);
			if (run->early == NULL) {
				HASHCTL ctl;
				memset(&ctl, 0, sizeof(ctl));
				ctl.keysize = sizeof(int64);
				ctl.entrysize = sizeof(EarlyEvent);
				ctl.hcxt = early_cxt;
				run->early = hash_create("audit_chain verify early events", 256, &ctl,
										 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
			}
			bool found;
			EarlyEvent *e = (EarlyEvent *) hash_search(run->early, &seq, HASH_ENTER, &found);
			if (found) {
				// Two rows at one position: the walk of the primary key reports it.
				MemoryContextSwitchTo(old);
				DropEarlyEvents(run, &held);
				run->resume_by_index = true;
				continue;
			}
			e->tuple = ExecCopySlotHeapTuple(slot);
			held += EarlyEventSpace(e->tuple);
			MemoryContextSwitchTo(old);
			if (held > budget) {
				ereport(DEBUG1, (errmsg("audit_chain verify: more than %zu kB of events wait for position %lld; "
										"continuing along the primary key",
										(size_t) (budget / 1024), (long long) run->cursor.next_seq),
								 errdetail("The events are those of chain %d.", chain)));
				DropEarlyEvents(run, &held);
				run->resume_by_index = true;
			}
			continue;
		}
		slot_getallattrs(slot);
		v->out = &run->result;
		bool ok = CheckEvent(v, run, slot->tts_values, slot->tts_isnull);
		// Then the early events that now follow in order.
		while (ok && run->early != NULL) {
			int64 next = (int64) run->cursor.next_seq;
			EarlyEvent *e = (EarlyEvent *) hash_search(run->early, &next, HASH_FIND, NULL);
			if (e == NULL)
				break;
			HeapTuple tuple = e->tuple;
			hash_search(run->early, &next, HASH_REMOVE, NULL);
			heap_deform_tuple(tuple, desc, values, nulls);
			ok = CheckEvent(v, run, values, nulls);
			held -= EarlyEventSpace(tuple);
			heap_freetuple(tuple);
		}
		v->out = shared_out;
		if (!ok) {
			run->stopped = true;
			DropEarlyEvents(run, &held);
			lowest_damaged = Min(lowest_damaged, run->chain);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	for (int i = 0; i < nruns; i++) {
		ChainRun *run = &runs[i];
		if (run->stopped)
			continue;
		if (run->early != NULL && hash_get_num_entries(run->early) > 0)
			run->resume_by_index = true;
		DropEarlyEvents(run, &held);
		if (run->resume_by_index && run->chain < lowest_damaged) {
			v->out = &run->result;
			CheckRestByIndex(v, run);
			v->out = shared_out;
			if (run->stopped)
				lowest_damaged = Min(lowest_damaged, run->chain);
		}
	}
	MemoryContextDelete(early_cxt);
	pfree(values);
	pfree(nulls);
}

// The heap scan pays off when whole chains are checked; ranges and incremental checks
// read a few positions of each chain, which the primary key finds directly.
bool
ChecksWholeChains(const VerifyRequest *r)
{
	return r->only_chain == 0 && r->from_seq <= 1 && r->to_seq == 0 && !r->start_at_expected;
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
	ChainRun *runs = (ChainRun *) palloc(sizeof(ChainRun) * (ntodo + 1));
	int nruns = 0;
	for (int i = 0; i < ntodo; i++)
		if (request->only_chain == 0 || todo[i] == request->only_chain)
			InitRun(&runs[nruns++], todo[i], request);

	// Chains are reported in ascending order and the report ends at the first damaged one,
	// whichever way they were read.
	if (ChecksWholeChains(request) && nruns > 0) {
		for (int i = 0; i < nruns; i++) {
			v.out = &runs[i].result;
			runs[i].stopped = !StartChain(&v, &runs[i], &out->ledger_id);
		}
		v.out = out;
		CheckChainsByHeapScan(&v, runs, nruns);
	}
	for (int i = 0; i < nruns; i++) {
		ChainRun *run = &runs[i];
		v.out = &run->result;
		if (!ChecksWholeChains(request)) {
			run->stopped = !StartChain(&v, run, &out->ledger_id);
			if (!run->stopped)
				CheckRestByIndex(&v, run);
		}
		core::ChainHead head;
		FinishChain(&v, run, &head);
		v.out = out;
		out->events_checked += run->result.events_checked;
		if (head.seq > 0)
			out->heads[out->nheads++] = head;
		if (!run->result.valid) {
			out->valid = false;
			out->chain_id = run->result.chain_id;
			out->seq = run->result.seq;
			out->reason = run->result.reason;
			break;
		}
	}
	MemoryContextDelete(v.event_cxt);
}

}  // namespace audit_chain::pg
