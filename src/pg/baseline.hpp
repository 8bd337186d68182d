// src/pg/baseline.hpp: recording the rows a tracked table holds (BASELINE events).
#pragma once

extern "C" {
#include "postgres.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// Spools one BASELINE event (new_data = the whole row) per row of relid and of all its
// partitions, recorded under resource_type, as seen by a snapshot taken now (the caller
// holds a lock that keeps writers out). Returns the number of rows.
int64 SpoolBaseline(const CatalogOids *oids, Oid relid, const char *resource_type);

}  // namespace audit_chain::pg
