// src/pg/baseline.hpp: recording the rows a tracked table holds (BASELINE events).
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// Spools one BASELINE event (new_data = the whole row) per row of relid and of all its
// partitions, recorded under resource_type, as seen by a snapshot taken now (the caller
// holds a lock that keeps writers out). Returns the number of rows.
int64 SpoolBaseline(const CatalogOids *oids, Oid relid, const char *resource_type);

// Spools one event per row of the leaf table rel as seen by snapshot, recorded under
// resource_type with the capture settings of root_relid: BASELINE (the row as new_data) or
// DELETE (the row as old_data). Returns the number of rows.
int64 SpoolEveryRow(const CatalogOids *oids, Relation rel, Oid root_relid, const char *resource_type,
					Snapshot snapshot, bool as_delete);

}  // namespace audit_chain::pg
