// src/pg/table_schema.hpp: describing a tracked table's schema changes as events.
//
// Row events name columns as they are when the event is captured. So that time travel can
// replay history across ALTER TABLE, every change of a tracked table's columns or name is
// recorded as an 'ALTER TABLE' event describing what changed, and where the rows themselves
// were rewritten (a column type change, a column added with per-row values, partitions
// attached or detached) the table is re-baselined: its rows are recorded again.
#pragma once

#include "pg/value_to_jsonb.hpp"

extern "C" {
#include "postgres.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

// [{"attnum": 1, "name": "id", "type": "integer"}, ...] for the live columns of rel.
Jsonb *ColumnsSnapshot(Relation rel);

// Whether a snapshot records each column's key position (those made before it did do not).
bool SnapshotRecordsKey(Jsonb *columns);

struct SchemaChange {
	Jsonb *details;   // NULL when nothing changed that an event must describe
	bool rebaseline;  // the rows changed too: record them again
};

// What changed since old_columns (and old_name): details such as
// {"renamed_from": "public.t", "columns_renamed": {"a": "b"}, "columns_dropped": ["c"],
//  "columns_added": {"d": <value of existing rows>}, "columns_retyped": {"e": "text"},
//  "partitions_changed": true, "rebaseline": true}.
SchemaChange DescribeSchemaChange(Relation rel, Jsonb *old_columns, const char *old_name, const char *new_name,
								  bool partitions_changed);

}  // namespace audit_chain::pg
