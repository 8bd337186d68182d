// src/pg/row_writer.hpp: appends rows to one of the extension's tables, indexes included.
//
// Rows go straight to the table access method, as COPY does: no permission check (callers
// are the extension's own trusted paths; application roles have no INSERT privilege on the
// audit tables), no triggers, and batches of rows share one multi-insert.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/heapam.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

struct RowWriter {
	Relation rel;
	EState *estate;
	ResultRelInfo *result_rel;
	TupleTableSlot **slots;
	int used;
	int allocated;  // slots[] entries
	int capacity;   // rows per multi-insert
	BulkInsertState bulk_state;
	CommandId cid;
	int64 rows_written;
	// Optional: the order in which a batch's rows get their entries in the indexes whose
	// first column is index_order_column (a comparator of two filled slots); other indexes,
	// and all of them when NULL, get the rows in the order they were added.
	int (*index_order)(TupleTableSlot *a, TupleTableSlot *b);
	AttrNumber index_order_column;
};

// Opens relid with RowExclusiveLock. capacity > 1 batches rows into multi-inserts.
void RowWriterOpen(RowWriter *w, Oid relid, int capacity);

// One of the relation's indexes, opened by RowWriterOpen (error if it is not one of them).
Relation RowWriterIndex(RowWriter *w, Oid index_oid);

// A cleared slot to fill: set tts_values/tts_isnull for every column, then RowWriterAdd.
TupleTableSlot *RowWriterSlot(RowWriter *w);

// Takes the filled slot (copying its values) and flushes when the batch is full.
void RowWriterAdd(RowWriter *w);

// Writes pending rows and closes everything (also the relation).
void RowWriterClose(RowWriter *w);

}  // namespace audit_chain::pg
