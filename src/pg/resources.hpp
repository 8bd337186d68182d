// src/pg/resources.hpp: resource types ('schema.table' or application-defined), interned in
// audit_chain.resources so each event stores a 4-byte reference instead of the name.
//
// The table is append-only and allows the same name twice (two sessions may intern a new
// name at once without waiting for each other); readers match names, not references.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/snapshot.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// The resource_ref for resource_type, creating the row if this session knows none.
int32 InternResource(const CatalogOids *oids, const char *resource_type);

// The resource_type of ref as seen by snapshot (palloc'd), or NULL if there is none.
char *ReadResourceType(const CatalogOids *oids, Snapshot snapshot, int32 ref);

// For writing events: the name this session interned for ref, else ReadResourceType.
const char *WriterResourceType(const CatalogOids *oids, Snapshot snapshot, int32 ref);

void ResourcesAtAbort(void);
void ResourcesAtCommit(void);

}  // namespace audit_chain::pg
