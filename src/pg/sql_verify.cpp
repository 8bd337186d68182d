// src/pg/sql_verify.cpp: audit_chain.verify(), audit_chain.digest(), audit_chain.checkpoint().
#include "pg/catalog.hpp"
#include "pg/chain_store.hpp"
#include "pg/digest_json.hpp"
#include "pg/event_view.hpp"
#include "pg/ledger.hpp"
#include "pg/row_writer.hpp"
#include "pg/verifier.hpp"

extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

using namespace audit_chain;
using namespace audit_chain::pg;

namespace {

// OUT (valid, events_checked, chain_id, first_invalid_seq, reason [, extra...]).
Datum
VerifyResult(FunctionCallInfo fcinfo, const VerifyOutcome &out, int nextra, const Datum *extra, const bool *extra_nulls)
{
	TupleDesc desc;
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	Datum values[8];
	bool nulls[8] = {};
	values[0] = BoolGetDatum(out.valid);
	values[1] = Int64GetDatum(out.events_checked);
	values[2] = Int32GetDatum(out.chain_id);
	nulls[2] = out.valid;
	values[3] = Int64GetDatum(out.seq);
	nulls[3] = out.valid;
	values[4] = out.valid ? (Datum) 0 : CStringGetTextDatum(out.reason);
	nulls[4] = out.valid;
	for (int i = 0; i < nextra; i++) {
		values[5 + i] = extra[i];
		nulls[5 + i] = extra_nulls[i];
	}
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

// The last position stored in a chain (0: the chain has no event), as the snapshot sees it.
int64
LastStoredSeq(int32 chain)
{
	const CatalogOids *oids = GetCatalogOids(false);
	Relation rel = table_open(oids->events, AccessShareLock);
	Relation index = index_open(oids->events_pkey, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(chain));
	IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int64 last = 0;
	if (index_getnext_slot(scan, BackwardScanDirection, slot)) {
		bool isnull;
		Datum d = slot_getattr(slot, kEvSeq, &isnull);
		last = isnull ? 0 : DatumGetInt64(d);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return last;
}

// A range must start inside the chain (or just after its last event: nothing new to check).
void
CheckChainRange(int32 chain, int64 from_seq)
{
	int64 last = LastStoredSeq(chain);
	if (last == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chain %d has no events", chain),
				 errdetail("A chain exists once an event was written into it."),
				 errhint("A digest taken earlier (verify(digest)) detects a chain whose events were all deleted.")));
	if (from_seq > last + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_seq %lld is beyond the end of chain %d", (long long) from_seq, chain),
				 errdetail("The last event of chain %d is %lld.", chain, (long long) last),
				 errhint("A digest taken earlier (verify(digest)) detects events deleted from the end of a chain.")));
}

void
CheckRange(int32 only_chain, int64 from_seq, int64 to_seq)
{
	if (only_chain < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("chain must be positive")));
	if (from_seq < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("from_seq must be at least 1")));
	if (to_seq != 0 && to_seq < from_seq)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("to_seq must not be less than from_seq")));
	if (only_chain == 0 && (from_seq > 1 || to_seq != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a range of positions needs a chain"),
				 errdetail("Positions are numbered per chain."),
				 errhint("Pass chain_id, or use audit_chain.checkpoint() for incremental verification.")));
}

// The last checkpoint's digest, or NULL if none was taken.
Jsonb *
LatestCheckpointDigest(Oid checkpoints, Oid checkpoints_pkey)
{
	Relation rel = table_open(checkpoints, AccessShareLock);
	Relation index = index_open(checkpoints_pkey, AccessShareLock);
	IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	Jsonb *digest = NULL;
	if (index_getnext_slot(scan, BackwardScanDirection, slot)) {
		bool isnull;
		Datum d = slot_getattr(slot, 3, &isnull);
		if (!isnull)
			digest = DatumGetJsonbPCopy(d);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return digest;
}

int
CompareHeads(const void *a, const void *b)
{
	uint32 x = ((const core::ChainHead *) a)->chain_id, y = ((const core::ChainHead *) b)->chain_id;
	return x < y ? -1 : x > y ? 1 : 0;
}

Oid
RequiredRel(const char *name)
{
	const CatalogOids *oids = GetCatalogOids(false);
	Oid oid = get_relname_relid(name, oids->schema);
	if (!OidIsValid(oid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation \"audit_chain.%s\" does not exist", name)));
	return oid;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_verify);
PG_FUNCTION_INFO_V1(audit_chain_verify_digest);
PG_FUNCTION_INFO_V1(audit_chain_digest);
PG_FUNCTION_INFO_V1(audit_chain_checkpoint);

// verify(chain_id integer DEFAULT NULL, from_seq bigint DEFAULT 1, to_seq bigint DEFAULT NULL)
Datum
audit_chain_verify(PG_FUNCTION_ARGS)
{
	// chain and to_seq are NULL by default (every chain, to the end); from_seq has a value.
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("from_seq must not be NULL"),
				 errhint("Omit it (or pass 1) to start at the beginning.")));
	VerifyRequest req = {};
	req.only_chain = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	req.from_seq = PG_GETARG_INT64(1);
	req.to_seq = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2);
	if (!PG_ARGISNULL(0) && req.only_chain == 0)
		req.only_chain = -1;
	CheckRange(req.only_chain, req.from_seq, req.to_seq);
	// 0 stands for "to the end" in the request: an explicit to_seq of 0 (or less) is inverted.
	if (!PG_ARGISNULL(2) && req.to_seq < req.from_seq)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("to_seq must not be less than from_seq")));
	if (req.only_chain > 0)
		CheckChainRange(req.only_chain, req.from_seq);
	VerifyOutcome out;
	RunVerify(&req, &out);
	return VerifyResult(fcinfo, out, 0, NULL, NULL);
}

// verify(digest jsonb, incremental boolean DEFAULT false)
Datum
audit_chain_verify_digest(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("digest must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("incremental must not be NULL")));
	Jsonb *digest = PG_GETARG_JSONB_P(0);
	bool incremental = PG_GETARG_BOOL(1);
	pg_uuid_t ledger;
	core::ChainHead *heads;
	int nheads;
	DigestFromJsonb(digest, &ledger, &heads, &nheads);

	VerifyRequest req = {};
	req.from_seq = 1;
	req.expected = heads;
	req.nexpected = nheads;
	req.start_at_expected = incremental;
	// A digest of the empty trail has a zero ledger id and binds nothing.
	static const pg_uuid_t zero = {};
	req.expected_ledger = memcmp(ledger.data, zero.data, UUID_LEN) != 0 ? &ledger : NULL;
	VerifyOutcome out;
	RunVerify(&req, &out);
	return VerifyResult(fcinfo, out, 0, NULL, NULL);
}

// digest() RETURNS jsonb: the heads of all chains, as of the current snapshot.
Datum
audit_chain_digest(PG_FUNCTION_ARGS)
{
	const CatalogOids *oids = GetCatalogOids(false);
	Snapshot snapshot = GetActiveSnapshot();
	pg_uuid_t ledger;
	if (!ReadLedgerId(oids, snapshot, &ledger))
		memset(ledger.data, 0, UUID_LEN);  // no event yet: the empty trail
	int nchains;
	int32 *chains = ReadChainIds(oids, snapshot, &nchains);
	core::ChainHead *heads = (core::ChainHead *) palloc0(sizeof(core::ChainHead) * (nchains + 1));
	for (int i = 0; i < nchains; i++) {
		StoredHead h;
		if (!ReadChainHead(oids, snapshot, chains[i], &h))
			continue;
		heads[i].chain_id = (uint32) h.chain_id;
		heads[i].seq = (uint64) h.seq;
		heads[i].committed_at = UnixMicros(h.committed_at);
		heads[i].hash = h.hash;
	}
	PG_RETURN_JSONB_P(DigestToJsonb(&ledger, heads, nchains));
}

// checkpoint(): verifies what follows the last checkpoint (or everything) and, if valid,
// records the verified heads as a new checkpoint.
Datum
audit_chain_checkpoint(PG_FUNCTION_ARGS)
{
	Oid checkpoints = RequiredRel("checkpoints");
	Oid checkpoints_pkey = RequiredRel("checkpoints_pkey");
	Oid checkpoint_seq = RequiredRel("checkpoints_checkpoint_id_seq");
	// One checkpoint at a time, so checkpoints follow one another.
	LockRelationOid(checkpoints, ShareRowExclusiveLock);

	Jsonb *previous = LatestCheckpointDigest(checkpoints, checkpoints_pkey);
	VerifyRequest req = {};
	req.from_seq = 1;
	pg_uuid_t ledger;
	if (previous != NULL) {
		DigestFromJsonb(previous, &ledger, const_cast<core::ChainHead **>(&req.expected), &req.nexpected);
		req.start_at_expected = true;
		req.expected_ledger = &ledger;
	}
	VerifyOutcome out;
	RunVerify(&req, &out);

	Datum extra[2] = {};
	bool extra_nulls[2] = {true, true};
	if (out.valid && out.has_ledger) {
		// Chains untouched since the previous checkpoint keep their previous head.
		core::ChainHead *heads = (core::ChainHead *) palloc0(sizeof(core::ChainHead) * (out.nheads + req.nexpected + 1));
		int n = 0;
		for (int i = 0; i < out.nheads; i++)
			heads[n++] = out.heads[i];
		for (int i = 0; i < req.nexpected; i++) {
			bool present = false;
			for (int j = 0; j < out.nheads && !present; j++)
				present = out.heads[j].chain_id == req.expected[i].chain_id;
			if (!present)
				heads[n++] = req.expected[i];
		}
		qsort(heads, n, sizeof(core::ChainHead), CompareHeads);
		Jsonb *digest = DigestToJsonb(&out.ledger_id, heads, n);
		int64 id = nextval_internal(checkpoint_seq, false);
		RowWriter writer;
		RowWriterOpen(&writer, checkpoints, 1);
		TupleTableSlot *slot = RowWriterSlot(&writer);
		slot->tts_values[0] = Int64GetDatum(id);
		slot->tts_values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
		slot->tts_values[2] = JsonbPGetDatum(digest);
		slot->tts_values[3] = Int64GetDatum(out.events_checked);
		memset(slot->tts_isnull, 0, sizeof(bool) * 4);
		RowWriterAdd(&writer);
		RowWriterClose(&writer);
		extra[0] = Int64GetDatum(id);
		extra[1] = JsonbPGetDatum(digest);
		extra_nulls[0] = extra_nulls[1] = false;
	}
	return VerifyResult(fcinfo, out, 2, extra, extra_nulls);
}
}
