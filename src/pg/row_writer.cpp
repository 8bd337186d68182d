// src/pg/row_writer.cpp: batched, index-maintaining inserts into the audit tables.
#include "pg/row_writer.hpp"

#include "pg/index_info_cache.hpp"

extern "C" {
#include "access/genam.h"
#include "access/hio.h"
#include "catalog/index.h"
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

// Whether every index can be maintained by InsertIndexEntries: no exclusion constraint and
// no deferred uniqueness (which need the executor's recheck machinery).
bool
PlainIndexes(ResultRelInfo *rri)
{
	for (int i = 0; i < rri->ri_NumIndices; i++) {
		IndexInfo *ii = rri->ri_IndexRelationInfo[i];
		if (ii->ii_ExclusionOps != NULL || (ii->ii_Unique && !rri->ri_IndexRelationDescs[i]->rd_index->indimmediate))
			return false;
	}
	return true;
}

// The batch's index entries, one index at a time. Rows arrive in chain order, which suits the
// primary key (each entry goes to its rightmost page); an index led by index_order_column
// gets them sorted by index_order instead, so that consecutive insertions land on the same
// leaf pages rather than walking the whole index at random.
void
InsertIndexEntries(RowWriter *w)
{
	ResultRelInfo *rri = w->result_rel;
	if (!PlainIndexes(rri)) {
		for (int i = 0; i < w->used; i++)
			list_free(ExecInsertIndexTuples(rri, w->slots[i], w->estate, false, false, NULL, NIL));
		return;
	}
	int *sorted = NULL;
	if (w->index_order != NULL && w->used > 1) {
		sorted = (int *) palloc(sizeof(int) * w->used);
		for (int i = 0; i < w->used; i++)
			sorted[i] = i;
		qsort_arg(sorted, w->used, sizeof(int), [](const void *a, const void *b, void *arg) {
			RowWriter *rw = (RowWriter *) arg;
			return rw->index_order(rw->slots[*(const int *) a], rw->slots[*(const int *) b]);
		}, w);
	}
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	Datum values[INDEX_MAX_KEYS];
	bool isnull[INDEX_MAX_KEYS];
	for (int i = 0; i < rri->ri_NumIndices; i++) {
		Relation index = rri->ri_IndexRelationDescs[i];
		IndexInfo *ii = rri->ri_IndexRelationInfo[i];
		if (!ii->ii_ReadyForInserts)
			continue;
		bool use_sorted = sorted != NULL && ii->ii_NumIndexKeyAttrs > 0 &&
						  ii->ii_IndexAttrNumbers[0] == w->index_order_column;
		if (ii->ii_Predicate != NIL && ii->ii_PredicateState == NULL)
			ii->ii_PredicateState = ExecPrepareQual(ii->ii_Predicate, w->estate);
		IndexUniqueCheck check = ii->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO;
		for (int k = 0; k < w->used; k++) {
			TupleTableSlot *slot = w->slots[use_sorted ? sorted[k] : k];
			econtext->ecxt_scantuple = slot;
			if (ii->ii_PredicateState != NULL && !ExecQual(ii->ii_PredicateState, econtext))
				continue;
			FormIndexDatum(ii, slot, w->estate, values, isnull);
			index_insert(index, values, isnull, &slot->tts_tid, w->rel, check, false, ii);
			ResetExprContext(econtext);
		}
	}
	if (sorted != NULL)
		pfree(sorted);
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
	InsertIndexEntries(w);
	for (int i = 0; i < w->used; i++)
		ExecClearTuple(w->slots[i]);
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
