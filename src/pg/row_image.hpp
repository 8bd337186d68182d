// src/pg/row_image.hpp: a table row as the JSON the audit trail records, and its key.
#pragma once

#include "pg/relation_info.hpp"
#include "pg/value_to_jsonb.hpp"

extern "C" {
#include "postgres.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

// True if two non-null values of a column are the same bytes (after detoasting).
bool SameValue(Datum a, Datum b, Form_pg_attribute att);

// Pushes a column's value as its policy says (recorded, redacted, keyed hash).
void PushColumnValue(JsonbParseState **state, JsonbIteratorToken seq, const ColumnInfo &col, Datum value, bool isnull,
					 PinnedSettings *pinned);

// "hmac-sha256:<hex>" of a value's text under audit_chain.hmac_key (errors if unset).
char *KeyedHashOfText(const char *value, size_t len);

// The row (or only the columns with include[i] set, when include is not NULL) as a jsonb object.
Jsonb *RowToJsonb(const RelationInfo *info, TupleDesc desc, HeapTuple tuple, const bool *include,
				  PinnedSettings *pinned);

// The resource_id of a row: its key as text (a string's characters or a JSON literal), a JSON
// array of the values for a composite key, or for a table without key the SHA-256 (hex) of
// the whole row's jsonb text.
text *ResourceIdOf(const RelationInfo *info, TupleDesc desc, HeapTuple tuple, PinnedSettings *pinned);

// The resource_id of a keyless row from its whole-row image.
text *RowDigestId(Jsonb *row);

// The resource_id from the key's values as jsonb (an array, one element per key column).
text *ResourceIdFromKeyArray(Jsonb *keys, int nkeys);

}  // namespace audit_chain::pg
