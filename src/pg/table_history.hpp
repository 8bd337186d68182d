// src/pg/table_history.hpp: a tracked table as its events know it (names, key).
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

// The names a table's events were recorded under, each with the span of positions (commit_seq,
// seq) in which it was this table's name (a later or earlier table may have had it too).
struct TableHistory {
	Oid relid;
	char *name;              // today's qualified name
	Datum names;             // text[]
	Datum from_commit_seq;   // int8[]: where each name's span starts
	Datum from_seq;          // int8[]
	Datum from_inclusive;    // bool[]: whether the start position itself belongs to the span
	Datum until_commit_seq;  // int8[]: where it ends (exclusive)
	Datum until_seq;         // int8[]
	char *resource_refs;     // the resource_refs of those names, an int4[] literal like {3,7}
	bool one_name;           // a single name, never another table's: no span to check
	List *key_names;         // today's key column names (NIL: keyless)
	List *column_names;      // today's column names
	bool keyless;
};

// SPI must be connected for all of these.
TableHistory LoadTable(Oid relid);

// A condition on events e joined with resources r that selects exactly this table's events,
// with parameters $1..$6 (fill them with TableEventsFilterParams).
const char *TableEventsFilter(const TableHistory &h);
void TableEventsFilterParams(const TableHistory &h, Oid *types, Datum *values);

// The row id of a key given as {"column": value, ...} (the whole row for a table without key),
// formatted exactly as capture formats it.
char *KeyToId(const TableHistory &h, Jsonb *key);

// Every id the row with this key was recorded under across retypes of key columns (today's first).
List *KeyIdsOfAllEras(const TableHistory &h, Jsonb *key);

}  // namespace audit_chain::pg
