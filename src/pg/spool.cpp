// src/pg/spool.cpp: the per-transaction event spool.
#include "pg/spool.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace audit_chain::pg {

namespace {

enum SpoolAttr {
	kSpSubxid = 1,
	kSpEventTime,
	kSpContextId,
	kSpEventId,
	kSpResourceRef,
	kSpOutcome,
	kSpAction,
	kSpResourceId,
	kSpOldData,
	kSpNewData,
	kSpDetails,
	kSpSalt,
	kSpNumAttrs = kSpSalt
};

TupleDesc spool_desc = NULL;        // TopMemoryContext, built once
Tuplestorestate *store = NULL;      // TopTransactionContext
TupleTableSlot *read_slot = NULL;
int64 spooled = 0;
int64 spooled_with_values = 0;  // events other than ERASE (which records counts only)

TupleDesc
SpoolDesc()
{
	if (spool_desc != NULL)
		return spool_desc;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	TupleDesc d = CreateTemplateTupleDesc(kSpNumAttrs);
	TupleDescInitEntry(d, kSpSubxid, "subxid", INT8OID, -1, 0);
	TupleDescInitEntry(d, kSpEventTime, "event_time", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(d, kSpContextId, "context_id", INT8OID, -1, 0);
	TupleDescInitEntry(d, kSpEventId, "event_id", UUIDOID, -1, 0);
	TupleDescInitEntry(d, kSpResourceRef, "resource_ref", INT4OID, -1, 0);
	TupleDescInitEntry(d, kSpOutcome, "outcome", CHAROID, -1, 0);
	TupleDescInitEntry(d, kSpAction, "action", TEXTOID, -1, 0);
	TupleDescInitEntry(d, kSpResourceId, "resource_id", TEXTOID, -1, 0);
	TupleDescInitEntry(d, kSpOldData, "old_data", JSONBOID, -1, 0);
	TupleDescInitEntry(d, kSpNewData, "new_data", JSONBOID, -1, 0);
	TupleDescInitEntry(d, kSpDetails, "details", JSONBOID, -1, 0);
	TupleDescInitEntry(d, kSpSalt, "salt", BYTEAOID, -1, 0);
	MemoryContextSwitchTo(old);
	spool_desc = d;
	return d;
}

// Temporary files of the spool must belong to the top-level transaction: a file opened
// while a subtransaction runs would otherwise be closed when that subtransaction ends.
struct TopLevelScope {
	MemoryContext old_cxt;
	ResourceOwner old_owner;
};

TopLevelScope
EnterTopLevel()
{
	TopLevelScope s{MemoryContextSwitchTo(TopTransactionContext), CurrentResourceOwner};
	CurrentResourceOwner = TopTransactionResourceOwner;
	return s;
}

void
LeaveTopLevel(const TopLevelScope &s)
{
	CurrentResourceOwner = s.old_owner;
	MemoryContextSwitchTo(s.old_cxt);
}

Datum
Opt(const void *p, bool *isnull)
{
	*isnull = p == NULL;
	return PointerGetDatum(p);
}

}  // namespace

void
SpoolAppend(const SpooledEvent *e)
{
	TupleDesc desc = SpoolDesc();
	Datum values[kSpNumAttrs];
	bool nulls[kSpNumAttrs] = {};
	values[kSpSubxid - 1] = Int64GetDatum((int64) e->subxid);
	values[kSpEventTime - 1] = TimestampTzGetDatum(e->event_time);
	values[kSpContextId - 1] = Int64GetDatum(e->context_id);
	values[kSpEventId - 1] = UUIDPGetDatum(&e->event_id);
	values[kSpResourceRef - 1] = Int32GetDatum(e->resource_ref);
	values[kSpOutcome - 1] = CharGetDatum(e->outcome);
	values[kSpAction - 1] = PointerGetDatum(e->action);
	values[kSpResourceId - 1] = Opt(e->resource_id, &nulls[kSpResourceId - 1]);
	values[kSpOldData - 1] = Opt(e->old_data, &nulls[kSpOldData - 1]);
	values[kSpNewData - 1] = Opt(e->new_data, &nulls[kSpNewData - 1]);
	values[kSpDetails - 1] = Opt(e->details, &nulls[kSpDetails - 1]);
	values[kSpSalt - 1] = Opt(e->salt, &nulls[kSpSalt - 1]);

	TopLevelScope scope = EnterTopLevel();
	if (store == NULL)
		store = tuplestore_begin_heap(false, false, work_mem);
	tuplestore_putvalues(store, desc, values, nulls);
	LeaveTopLevel(scope);
	spooled++;
	if (VARSIZE_ANY_EXHDR(e->action) != 5 || memcmp(VARDATA_ANY(e->action), "ERASE", 5) != 0)
		spooled_with_values++;
}

bool
SpoolHasEvents(void)
{
	return store != NULL && spooled > 0;
}

bool
SpoolHasEventsWithValues(void)
{
	return store != NULL && spooled_with_values > 0;
}

void
SpoolBeginRead(void)
{
	TopLevelScope scope = EnterTopLevel();
	if (read_slot == NULL)
		read_slot = MakeSingleTupleTableSlot(SpoolDesc(), &TTSOpsMinimalTuple);
	LeaveTopLevel(scope);
}

bool
SpoolNext(SpooledEvent *e)
{
	if (store == NULL)
		return false;
	TopLevelScope scope = EnterTopLevel();
	bool found = tuplestore_gettupleslot(store, true, false, read_slot);
	LeaveTopLevel(scope);
	if (!found)
		return false;
	slot_getallattrs(read_slot);
	Datum *v = read_slot->tts_values;
	bool *n = read_slot->tts_isnull;
	e->subxid = (TransactionId) DatumGetInt64(v[kSpSubxid - 1]);
	e->event_time = DatumGetTimestampTz(v[kSpEventTime - 1]);
	e->context_id = DatumGetInt64(v[kSpContextId - 1]);
	e->event_id = *DatumGetUUIDP(v[kSpEventId - 1]);
	e->resource_ref = DatumGetInt32(v[kSpResourceRef - 1]);
	e->outcome = DatumGetChar(v[kSpOutcome - 1]);
	e->action = DatumGetTextPP(v[kSpAction - 1]);
	e->resource_id = n[kSpResourceId - 1] ? NULL : DatumGetTextPP(v[kSpResourceId - 1]);
	e->old_data = n[kSpOldData - 1] ? NULL : DatumGetJsonbP(v[kSpOldData - 1]);
	e->new_data = n[kSpNewData - 1] ? NULL : DatumGetJsonbP(v[kSpNewData - 1]);
	e->details = n[kSpDetails - 1] ? NULL : DatumGetJsonbP(v[kSpDetails - 1]);
	e->salt = n[kSpSalt - 1] ? NULL : DatumGetByteaPP(v[kSpSalt - 1]);
	return true;
}

void
SpoolReset(bool release_resources)
{
	// On commit the store is ended explicitly; on abort its memory goes with
	// TopTransactionContext and its files with the transaction's resource owner.
	if (release_resources && store != NULL)
		tuplestore_end(store);
	if (release_resources && read_slot != NULL)
		ExecDropSingleTupleTableSlot(read_slot);
	store = NULL;
	read_slot = NULL;
	spooled = 0;
	spooled_with_values = 0;
}

}  // namespace audit_chain::pg
