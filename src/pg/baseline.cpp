// src/pg/baseline.cpp: BASELINE events, so time travel is complete from the start.
#include "pg/baseline.hpp"

#include "pg/capture.hpp"
#include "pg/relation_info.hpp"
#include "pg/row_image.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace audit_chain::pg {

int64
SpoolEveryRow(const CatalogOids *oids, Relation rel, Oid root_relid, const char *resource_type, Snapshot snapshot,
			  bool as_delete)
{
	int64 rows = 0;
	const RelationInfo *info = RelationInfoFor(rel, root_relid);
	TupleDesc desc = RelationGetDescr(rel);
	MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "audit_chain row", ALLOCSET_DEFAULT_SIZES);
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	HeapTuple tuple;
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
		CHECK_FOR_INTERRUPTS();
		MemoryContext old = MemoryContextSwitchTo(row_cxt);
		PinnedSettings pinned = NoPinnedSettings();
		Jsonb *image = RowToJsonb(info, desc, tuple, NULL, &pinned);
		text *id = ResourceIdOf(info, desc, tuple, &pinned);
		UnpinSettings(&pinned);
		if (as_delete)
			SpoolEvent(oids, "DELETE", resource_type, id, image, NULL, NULL, 's');
		else
			SpoolEvent(oids, "BASELINE", resource_type, id, NULL, image, NULL, 's');
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_cxt);
		rows++;
	}
	table_endscan(scan);
	MemoryContextDelete(row_cxt);
	return rows;
}

int64
SpoolBaseline(const CatalogOids *oids, Oid relid, const char *resource_type)
{
	int64 rows = 0;
	// A snapshot taken after the caller's lock: rows committed while it waited are included.
	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	ListCell *lc;
	foreach (lc, find_all_inheritors(relid, AccessShareLock, NULL)) {
		Oid leaf = lfirst_oid(lc);
		if (get_rel_relkind(leaf) != RELKIND_RELATION)
			continue;  // partitioned tables hold no rows; foreign partitions are not audited
		Relation rel = table_open(leaf, AccessShareLock);
		rows += SpoolEveryRow(oids, rel, relid, resource_type, snapshot, false);
		table_close(rel, AccessShareLock);
	}
	UnregisterSnapshot(snapshot);
	return rows;
}

}  // namespace audit_chain::pg
