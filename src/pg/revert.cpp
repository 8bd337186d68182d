// src/pg/revert.cpp: audit_chain.revert(), and the marker on the events it applies.
//
// The statements and every check are planned in SQL (audit_chain.revert_plan(), see
// src/sql/70_revert.sql); this file runs them. Each planned statement comes with the event it
// must produce: the exact inverse of the event it undoes (same table, inverse action, key
// and values swapped). While the statement runs, that description is the backend-local
// marker, and capture records {"reverts": "<xid>"} on the first event that matches it, and on
// no other (a trigger's own changes, a cascade, an event that differs because the table's
// column policies changed since). The marker lives only in this file and is set only here,
// around a statement revert_plan() produced; it is cleared when the statement ends or fails,
// and again at transaction end and subtransaction abort. So the marker cannot be forged
// (there is no setting and no callable helper), and a marked event is by construction the
// inverse of an event of the transaction it names.
#include "pg/revert.hpp"

#include <type_traits>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/xid8.h"
}

namespace audit_chain::pg {

namespace {

struct RevertMarker {
	bool active;
	bool used;                    // the expected event was seen
	int nest_level;               // transaction nesting level when it was set
	Oid relid;                    // the tracked table
	const char *action;           // INSERT, UPDATE or DELETE
	const char *resource_id;      // the row's key before the event
	const char *new_resource_id;  // the key an UPDATE moves the row back to, or NULL
	Jsonb *old_data;
	Jsonb *new_data;
	char xid[24];                 // the transaction being reverted, in decimal
};
static_assert(std::is_trivially_destructible_v<RevertMarker>);

RevertMarker marker = {};

// Holds the marker's strings and values (copies), so that a marker never points into memory
// that may be gone: reset whenever no marker is set any more.
MemoryContext marker_cxt = NULL;

void
ClearMarker(void)
{
	marker = RevertMarker{};
	if (marker_cxt != NULL)
		MemoryContextReset(marker_cxt);
}

char *
MarkerString(const char *s)
{
	return s != NULL ? MemoryContextStrdup(marker_cxt, s) : NULL;
}

Jsonb *
MarkerJsonb(Jsonb *j)
{
	if (j == NULL)
		return NULL;
	Jsonb *copy = (Jsonb *) MemoryContextAlloc(marker_cxt, VARSIZE(j));
	memcpy(copy, j, VARSIZE(j));
	return copy;
}

bool
SameText(text *t, const char *s)
{
	if (t == NULL || s == NULL)
		return t == NULL && s == NULL;
	size_t n = VARSIZE_ANY_EXHDR(t);
	return strlen(s) == n && memcmp(VARDATA_ANY(t), s, n) == 0;
}

// Equal as jsonb = compares them (as revert_plan() compares recorded events).
bool
SameJsonb(Jsonb *a, Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == NULL && b == NULL;
	return compareJsonbContainers(&a->root, &b->root) == 0;
}

// One statement of revert_plan(), with the event it must produce.
struct PlannedStatement {
	char *statement;
	Oid target;
	char *table_name;
	char *row_key;       // the row's key after the transaction: the undoing event's resource_id
	char *undo_action;
	char *undo_new_key;  // NULL unless the undoing UPDATE moves the row back to its old key
	Jsonb *undo_old_data;
	Jsonb *undo_new_data;
};

char *
TextColumn(HeapTuple t, TupleDesc d, int col)
{
	bool isnull;
	Datum v = SPI_getbinval(t, d, col, &isnull);
	return isnull ? NULL : TextDatumGetCString(v);
}

Jsonb *
JsonbColumn(HeapTuple t, TupleDesc d, int col)
{
	bool isnull;
	Datum v = SPI_getbinval(t, d, col, &isnull);
	return isnull ? NULL : DatumGetJsonbPCopy(v);
}

// Runs one planned statement with the marker set; it must change exactly one row.
void
ExecuteMarked(const PlannedStatement *p, const char *xid)
{
	if (marker_cxt == NULL)
		marker_cxt = AllocSetContextCreate(TopMemoryContext, "audit_chain revert marker", ALLOCSET_SMALL_SIZES);
	RevertMarker saved = marker;  // a revert() run by a trigger of a revert()'s statement
	marker.active = true;
	marker.used = false;
	marker.nest_level = GetCurrentTransactionNestLevel();
	marker.relid = p->target;
	marker.action = MarkerString(p->undo_action);
	marker.resource_id = MarkerString(p->row_key);
	marker.new_resource_id = MarkerString(p->undo_new_key);
	marker.old_data = MarkerJsonb(p->undo_old_data);
	marker.new_data = MarkerJsonb(p->undo_new_data);
	snprintf(marker.xid, sizeof(marker.xid), "%s", xid);
	volatile int rc = 0;
	volatile uint64 processed = 0;
	PG_TRY();
	{
		rc = SPI_execute(p->statement, false, 0);
		processed = SPI_processed;
	}
	PG_FINALLY();
	{
		if (saved.active)
			marker = saved;
		else
			ClearMarker();
	}
	PG_END_TRY();
	if ((rc != SPI_OK_INSERT && rc != SPI_OK_UPDATE && rc != SPI_OK_DELETE) || processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("cannot revert transaction %s: row %s of %s does not hold what the transaction left there", xid,
						p->row_key, p->table_name),
				 errdetail("The row was changed by a transaction that had not committed when the revert was planned, "
						   "or changed without being audited (capture bypassed), or removed.")));
}

}  // namespace

const char *
RevertedTransactionOf(Oid relid, const char *action, text *resource_id, text *new_id, Jsonb *old_data,
					  Jsonb *new_data)
{
	if (!marker.active || marker.used)
		return NULL;
	if (relid != marker.relid || strcmp(action, marker.action) != 0 || !SameText(resource_id, marker.resource_id) ||
		!SameText(new_id, marker.new_resource_id) || !SameJsonb(old_data, marker.old_data) ||
		!SameJsonb(new_data, marker.new_data))
		return NULL;
	marker.used = true;
	return marker.xid;
}

void
RevertAtEndOfTransaction(void)
{
	if (marker.active)
		ClearMarker();
}

void
RevertAtSubAbort(void)
{
	if (marker.active && GetCurrentTransactionNestLevel() <= marker.nest_level)
		ClearMarker();
}

}  // namespace audit_chain::pg

using namespace audit_chain::pg;

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_revert);

// revert(transaction_id xid8, apply boolean DEFAULT false) RETURNS SETOF text
Datum
audit_chain_revert(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("transaction_id must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("apply must not be NULL")));
	FullTransactionId fxid = PG_GETARG_FULLTRANSACTIONID(0);
	bool apply = PG_GETARG_BOOL(1);
	char xid[24];
	snprintf(xid, sizeof(xid), UINT64_FORMAT, U64FromFullTransactionId(fxid));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext keep = CurrentMemoryContext;  // outlives SPI_finish

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	// Every check, for every statement, is made before any statement runs.
	Oid types[1] = {XID8OID};
	Datum values[1] = {FullTransactionIdGetDatum(fxid)};
	int rc = SPI_execute_with_args("SELECT p.statement, p.target, p.table_name, p.row_key, p.undo_action,"
								   " p.undo_new_key, p.undo_old_data, p.undo_new_data"
								   " FROM audit_chain.revert_plan($1) p",
								   1, types, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not plan the revert of transaction %s", xid);
	uint64 n = SPI_processed;
	SPITupleTable *plan = SPI_tuptable;
	PlannedStatement *planned = (PlannedStatement *) MemoryContextAllocZero(keep, sizeof(PlannedStatement) * (n + 1));
	MemoryContext old = MemoryContextSwitchTo(keep);
	for (uint64 i = 0; i < n; i++) {
		HeapTuple t = plan->vals[i];
		TupleDesc d = plan->tupdesc;
		bool isnull;
		planned[i].statement = TextColumn(t, d, 1);
		planned[i].target = DatumGetObjectId(SPI_getbinval(t, d, 2, &isnull));
		planned[i].table_name = TextColumn(t, d, 3);
		planned[i].row_key = TextColumn(t, d, 4);
		planned[i].undo_action = TextColumn(t, d, 5);
		planned[i].undo_new_key = TextColumn(t, d, 6);
		planned[i].undo_old_data = JsonbColumn(t, d, 7);
		planned[i].undo_new_data = JsonbColumn(t, d, 8);
		if (planned[i].statement == NULL || planned[i].undo_action == NULL || planned[i].row_key == NULL)
			elog(ERROR, "incomplete revert plan for transaction %s", xid);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(plan);

	for (uint64 i = 0; i < n; i++) {
		CHECK_FOR_INTERRUPTS();
		if (apply)
			ExecuteMarked(&planned[i], xid);
		Datum v[1] = {CStringGetTextDatum(planned[i].statement)};
		bool nulls[1] = {false};
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
}
