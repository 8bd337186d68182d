// src/pg/row_writer.cpp: batched, index-maintaining inserts into the audit tables.
#include "pg/row_writer.hpp"

#include "pg/index_info_cache.hpp"

extern "C" {
#include "access/hio.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "nodes/makefuncs.h"
#include "utils/memutils.h"
}

namespace audit_chain::pg {

namespace {

// A bulk-insert state keeps the target page pinned from one batch to the next. Unlike
// GetBulkInsertState()'s, it has no ring buffer: events go to shared buffers like the rows
// of the statement that caused them, instead of being written out by this backend (each
// ring-buffer reuse would flush WAL in the middle of the commit).
BulkInsertState
NewBulkInsertState(MemoryContext cxt)
{
	BulkInsertState b = (BulkInsertState) MemoryContextAllocZero(cxt, sizeof(BulkInsertStateData));
	b->strategy = NULL;
	b->current_buf = InvalidBuffer;
	return b;
}

void
Flush(RowWriter *w)
{
	if (w->used == 0)
		return;
	if (w->used == 1) {
		table_tuple_insert(w->rel, w->slots[0], w->cid, 0, w->bulk_state);
	} else {
		if (w->bulk_state == NULL)
			w->bulk_state = NewBulkInsertState(w->estate->es_query_cxt);
		table_multi_insert(w->rel, w->slots, w->used, w->cid, 0, w->bulk_state);
	}
	// Index entries in the caller's order: rows arrive in chain order, but an index on
	// another key (the resource index) is updated far faster when consecutive insertions land
	// on the same leaf pages than when they walk the whole index at random.
	int *order = (int *) palloc(sizeof(int) * w->used);
	for (int i = 0; i < w->used; i++)
		order[i] = i;
	if (w->index_order != NULL && w->used > 1) {
		RowWriter *writer = w;
		qsort_arg(order, w->used, sizeof(int), [](const void *a, const void *b, void *arg) {
			RowWriter *rw = (RowWriter *) arg;
			return rw->index_order(rw->slots[*(const int *) a], rw->slots[*(const int *) b]);
		}, writer);
	}
	for (int i = 0; i < w->used; i++) {
		List *conflicts = ExecInsertIndexTuples(w->result_rel, w->slots[order[i]], w->estate, false, false, NULL, NIL);
		list_free(conflicts);
	}
	for (int i = 0; i < w->used; i++)
		ExecClearTuple(w->slots[i]);
	pfree(order);
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
	OpenIndexesCached(w->result_rel, w->estate->es_query_cxt);
	w->capacity = capacity < 1 ? 1 : capacity;
	// Most transactions write one event: the slot array grows with the batch, up to capacity.
	w->allocated = Min(w->capacity, 8);
	w->slots = (TupleTableSlot **) MemoryContextAllocZero(w->estate->es_query_cxt, sizeof(TupleTableSlot *) * w->allocated);
	w->bulk_state = NULL;  // made by the first multi-insert
	w->cid = GetCurrentCommandId(true);
}

Relation
RowWriterIndex(RowWriter *w, Oid index_oid)
{
	for (int i = 0; i < w->result_rel->ri_NumIndices; i++)
		if (RelationGetRelid(w->result_rel->ri_IndexRelationDescs[i]) == index_oid)
			return w->result_rel->ri_IndexRelationDescs[i];
	elog(ERROR, "index %u of relation \"%s\" is not open", index_oid, RelationGetRelationName(w->rel));
	return NULL;
}

TupleTableSlot *
RowWriterSlot(RowWriter *w)
{
	if (w->used == w->allocated) {
		int grown = Min(w->capacity, w->allocated * 4);
		w->slots = (TupleTableSlot **) repalloc(w->slots, sizeof(TupleTableSlot *) * grown);
		memset(w->slots + w->allocated, 0, sizeof(TupleTableSlot *) * (grown - w->allocated));
		w->allocated = grown;
	}
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
	CloseIndexesCached(w->result_rel);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);  // keep the lock until the end of the transaction
	w->rel = NULL;
}

}  // namespace audit_chain::pg
