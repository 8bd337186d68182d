// src/pg/jsonb_util.hpp: small helpers for reading and building jsonb in the glue.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

// The member `key` of an object container, or NULL (also when container is NULL or not an object).
JsonbValue *JsonbMember(JsonbContainer *container, const char *key);

// The member `key` if it is a string (palloc'd copy), else NULL.
char *JsonbStringMember(JsonbContainer *container, const char *key);

// The string elements of the array member `key` (palloc'd copies, in order), or NIL.
List *JsonbStringListMember(JsonbContainer *container, const char *key);

// Pushes a C string as an object key, or as a string value / array element (seq).
void PushJsonbKey(JsonbParseState **state, const char *key);
void PushJsonbString(JsonbParseState **state, JsonbIteratorToken seq, const char *s);

}  // namespace audit_chain::pg
