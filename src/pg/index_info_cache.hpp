// src/pg/index_info_cache.hpp: index descriptions of the audit tables, built once per backend.
//
// Every audited commit inserts into the events table and all its indexes. Building the
// executor's IndexInfo for each index, and compiling the expressions and predicates of
// expression and partial indexes, cost more than the index insertions themselves when done
// per transaction, as ExecOpenIndices() and ExecInsertIndexTuples() do. They are built here
// once and reused until the relcache says the table or one of its indexes changed.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

// Opens every index of result_rel's relation (RowExclusiveLock, kept until the end of the
// transaction) and fills ri_IndexRelationDescs / ri_IndexRelationInfo with cached
// descriptions. Index access methods keep per-use state in use_cxt (ii_Context), so it must
// live as long as the caller inserts (the executor state's query context).
void OpenIndexesCached(ResultRelInfo *result_rel, MemoryContext use_cxt);

// Closes what OpenIndexesCached opened (locks are kept).
void CloseIndexesCached(ResultRelInfo *result_rel);

// Relcache invalidation of relid (InvalidOid: everything).
void IndexInfoCacheInvalidate(Oid relid);

// End of a transaction, either way: writers left open by an error are gone.
void IndexInfoCacheAtEndOfTransaction(void);

}  // namespace audit_chain::pg
