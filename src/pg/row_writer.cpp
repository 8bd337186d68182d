// src/pg/row_writer.cpp: batched, index-maintaining inserts into the audit tables.
#include "pg/row_writer.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "nodes/makefuncs.h"
#include "utils/memutils.h"
}

namespace audit_chain::pg {

namespace {

void
Flush(RowWriter *w)
{
	if (w->used == 0)
		return;
	if (w->used == 1)
		table_tuple_insert(w->rel, w->slots[0], w->cid, 0, w->bulk_state);
	else
		table_multi_insert(w->rel, w->slots, w->used, w->cid, 0, w->bulk_state);
	for (int i = 0; i < w->used; i++) {
		List *conflicts = ExecInsertIndexTuples(w->result_rel, w->slots[i], w->estate, false, false, NULL, NIL);
		list_free(conflicts);
		ExecClearTuple(w->slots[i]);
	}
	w->rows_written += w->used;
	w->used = 0;
	ResetPerTupleExprContext(w->estate);
}

}  // namespace

void
RowWriterOpen(RowWriter *w, Oid relid, int capacity)
{
	memset(w, 0, sizeof(*w));
	w->rel = table_open(relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	w->result_rel = makeNode(ResultRelInfo);
	InitResultRelInfo(w->result_rel, w->rel, 1, NULL, 0);
	ExecOpenIndices(w->result_rel, false);
	w->capacity = capacity < 1 ? 1 : capacity;
	w->slots = (TupleTableSlot **) palloc0(sizeof(TupleTableSlot *) * w->capacity);
	w->bulk_state = w->capacity > 1 ? GetBulkInsertState() : NULL;
	w->cid = GetCurrentCommandId(true);
}

TupleTableSlot *
RowWriterSlot(RowWriter *w)
{
	if (w->slots[w->used] == NULL) {
		// Slots live as long as the writer, whatever context the caller is in.
		MemoryContext old = MemoryContextSwitchTo(w->estate->es_query_cxt);
		w->slots[w->used] = table_slot_create(w->rel, &w->estate->es_tupleTable);
		MemoryContextSwitchTo(old);
	}
	TupleTableSlot *slot = w->slots[w->used];
	ExecClearTuple(slot);
	return slot;
}

void
RowWriterAdd(RowWriter *w)
{
	TupleTableSlot *slot = w->slots[w->used];
	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);  // the caller's datums may live in a shorter-lived context
	w->used++;
	if (w->used == w->capacity)
		Flush(w);
}

void
RowWriterClose(RowWriter *w)
{
	Flush(w);
	if (w->bulk_state != NULL)
		FreeBulkInsertState(w->bulk_state);
	ExecCloseIndices(w->result_rel);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);  // keep the lock until the end of the transaction
	w->rel = NULL;
}

}  // namespace audit_chain::pg
