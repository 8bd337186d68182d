// src/pg/ledger.cpp: reading and creating the ledger row.
//
// The row is created lazily rather than by the install script so that pg_dump, which
// dumps the table's rows, restores the original identity into a freshly created extension.
#include "pg/ledger.hpp"

#include "core/event_encoding.hpp"
#include "pg/catalog.hpp"
#include "pg/row_writer.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/tableam.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace audit_chain::pg {

namespace {

pg_uuid_t cached_id;
uint64 cached_generation = 0;
bool read_own_row = false;  // the last ReadLedgerId saw a row of the current transaction

}  // namespace

int
ReadLedgerRows(const CatalogOids *oids, Snapshot snapshot, pg_uuid_t *id)
{
	read_own_row = false;
	Relation rel = table_open(oids->ledger, AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	int rows = 0;
	HeapTuple tuple;
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
		bool isnull;
		Datum d = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);
		if (!isnull)
			*id = *DatumGetUUIDP(d);
		read_own_row = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data));
		rows++;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return rows;
}

bool
ReadLedgerId(const CatalogOids *oids, Snapshot snapshot, pg_uuid_t *id)
{
	int rows = ReadLedgerRows(oids, snapshot, id);
	if (rows > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit_chain.ledger has %d rows", rows),
				 errdetail("The ledger identity must be a single row; the table was altered.")));
	return rows == 1;
}

void
GetOrCreateLedgerId(const CatalogOids *oids, pg_uuid_t *id)
{
	if (cached_generation == CatalogGeneration()) {
		*id = cached_id;
		return;
	}
	// SnapshotSelf: committed rows and our own, without the predicate locks an MVCC read
	// takes under SERIALIZABLE (they would make concurrent commits conflict).
	bool found = ReadLedgerId(oids, SnapshotSelf, id);
	if (!found) {
		// Self-conflicting lock: of two first commits, the second waits, then sees the row.
		LockRelationOid(oids->ledger, ShareRowExclusiveLock);
		found = ReadLedgerId(oids, SnapshotSelf, id);
		if (!found) {
			if (!pg_strong_random(id->data, UUID_LEN))
				ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random values")));
			id->data[6] = (uint8) ((id->data[6] & 0x0F) | 0x40);
			id->data[8] = (uint8) ((id->data[8] & 0x3F) | 0x80);
			RowWriter writer;
			RowWriterOpen(&writer, oids->ledger, 1);
			TupleTableSlot *slot = RowWriterSlot(&writer);
			pg_uuid_t *copy = (pg_uuid_t *) palloc(sizeof(pg_uuid_t));
			*copy = *id;
			slot->tts_values[0] = UUIDPGetDatum(copy);
			slot->tts_values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
			slot->tts_values[2] = Int32GetDatum(core::kHashFormat);
			memset(slot->tts_isnull, 0, sizeof(bool) * 3);
			RowWriterAdd(&writer);
			RowWriterClose(&writer);
			return;  // not cached until committed
		}
	}
	if (read_own_row)
		return;  // not cached until committed
	cached_id = *id;
	cached_generation = CatalogGeneration();
}

}  // namespace audit_chain::pg
