// src/pg/table_history.hpp: a tracked table as its events know it (names, key).
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

struct TableHistory {
	Oid relid;
	char *name;       // today's qualified name
	Datum names;      // text[]: every name its events were recorded under
	List *key_names;  // today's key column names (NIL: keyless)
	bool keyless;
};

// SPI must be connected for both.
TableHistory LoadTable(Oid relid);

// The row id of a key given as {"column": value, ...} (the whole row for a table without key),
// formatted exactly as capture formats it.
char *KeyToId(const TableHistory &h, Jsonb *key);

}  // namespace audit_chain::pg
