// src/pg/relation_info.hpp: what capture needs to know about a tracked table, cached.
//
// Built once per relation and rebuilt after any relcache invalidation of it (ALTER TABLE,
// renames) or of the tracked table it belongs to (its partitioned root).
#pragma once

extern "C" {
#include "postgres.h"
#include "commands/trigger.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

// What capture records of a column's value (audit_chain.configure(), sensitive_columns).
enum class ColumnPolicy : uint8 {
	kRecord,   // the value
	kExclude,  // nothing: the column is left out of the event
	kRedact,   // the marker "[REDACTED]"
	kHash,     // "hmac-sha256:<hex>" of the value's text under audit_chain.hmac_key
};

struct ColumnInfo {
	char *name;  // NULL for a dropped column
	Oid typid;
	ColumnPolicy policy;
};

struct RelationInfo {
	Oid relid;                 // hash key
	bool valid;
	Oid root_relid;            // the tracked table (itself, or the partitioned table it belongs to)
	char *resource_type;       // quoted, schema-qualified name of root_relid
	int natts;
	ColumnInfo *columns;       // by attnum - 1
	int nkeys;                 // 0: no primary key nor replica identity index
	AttrNumber *key_attnums;
	bool any_excluded;
	uint64 policy_generation;  // policy_settings_generation the policies were computed at
	MemoryContext cxt;         // owns everything above
};

// Cached; the tracked root is found through the trigger's clone parents (tgparentid).
const RelationInfo *GetRelationInfo(Relation rel, const Trigger *trigger);

// Not cached, allocated in CurrentMemoryContext, for a known root (baselines).
const RelationInfo *RelationInfoFor(Relation rel, Oid root_relid);

// The columns that identify rel's rows in its events, in key order (the primary key, else the
// replica identity index); 0 when rows are identified by their whole value. Allocated in
// CurrentMemoryContext.
int TableKeyColumns(Relation rel, AttrNumber **attnums);

// True if the column name is in audit_chain.sensitive_columns (without regard to case).
bool InDefaultSensitiveList(const char *name);

// "schema.table", each part quoted only where needed: the resource_type of a table's events.
char *QualifiedRelationName(Oid relid);

// Relcache invalidation hook: drop entries of relid (or all, for InvalidOid).
void RelationInfoInvalidate(Oid relid);

}  // namespace audit_chain::pg
