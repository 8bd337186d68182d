// src/pg/row_image.cpp: rows to the JSON the audit trail records.
#include "pg/row_image.hpp"

#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "pg/boundary.hpp"
#include "pg/guc.hpp"
#include "pg/jsonb_util.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/htup_details.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
}

namespace audit_chain::pg {

// True if the two non-null values of a column are the same bytes (after detoasting).
bool
SameValue(Datum a, Datum b, Form_pg_attribute att)
{
	if (datumIsEqual(a, b, att->attbyval, att->attlen))
		return true;
	if (att->attlen != -1)
		return false;
	struct varlena *va = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
	struct varlena *vb = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));
	return VARSIZE_ANY_EXHDR(va) == VARSIZE_ANY_EXHDR(vb) &&
		   memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), VARSIZE_ANY_EXHDR(va)) == 0;
}

namespace {

constexpr char kRedacted[] = "[REDACTED]";
constexpr char kHashPrefix[] = "hmac-sha256:";

}  // namespace

char *
KeyedHashOfText(const char *value, size_t len)
{
	if (guc_hmac_key == NULL || guc_hmac_key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit_chain.hmac_key is not set"),
				 errdetail("A tracked table has columns recorded as keyed hashes."),
				 errhint("A superuser sets it in postgresql.conf or with ALTER SYSTEM SET audit_chain.hmac_key.")));
	const char *key = guc_hmac_key;
	size_t key_len = strlen(key);
	char *out = (char *) palloc(sizeof(kHashPrefix) + 2 * core::kHashSize);
	memcpy(out, kHashPrefix, sizeof(kHashPrefix) - 1);
	char *hex = out + sizeof(kHashPrefix) - 1;
	CallCore([&] {
		core::Hash h = core::Sha256::Hmac(key, key_len, value, len);
		core::HexEncode(h.bytes, core::kHashSize, hex);
	});
	hex[2 * core::kHashSize] = '\0';
	return out;
}

void
PushColumnValue(JsonbParseState **state, JsonbIteratorToken seq, const ColumnInfo &col, Datum value, bool isnull,
				PinnedSettings *pinned)
{
	switch (col.policy) {
	case ColumnPolicy::kRedact:
		PushJsonbString(state, seq, kRedacted);
		return;
	case ColumnPolicy::kHash: {
		if (isnull) {
			PushDatumAsJson(state, seq, value, true, col.typid, pinned);
			return;
		}
		// The hash is over the value's text as recorded (a string's characters, else its JSON),
		// so anyone holding the key can match a known value.
		JsonbParseState *one = NULL;
		(void) pushJsonbValue(&one, WJB_BEGIN_ARRAY, NULL);
		PushDatumAsJson(&one, WJB_ELEM, value, false, col.typid, pinned);
		Jsonb *arr = JsonbValueToJsonb(pushJsonbValue(&one, WJB_END_ARRAY, NULL));
		text *t = ResourceIdFromKeyArray(arr, 1);
		PushJsonbString(state, seq, KeyedHashOfText(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
		return;
	}
	case ColumnPolicy::kRecord:
	case ColumnPolicy::kExclude:
		PushDatumAsJson(state, seq, value, isnull, col.typid, pinned);
		return;
	}
}

// The row (or only the columns in include, when not NULL) as a jsonb object.
Jsonb *
RowToJsonb(const RelationInfo *info, TupleDesc desc, HeapTuple tuple, const bool *include, PinnedSettings *pinned)
{
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < info->natts; i++) {
		const ColumnInfo &col = info->columns[i];
		if (col.name == NULL || (include != NULL && !include[i]) || col.policy == ColumnPolicy::kExclude)
			continue;
		JsonbValue key;
		key.type = jbvString;
		key.val.string.val = col.name;
		key.val.string.len = (int) strlen(col.name);
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		bool isnull;
		Datum v = heap_getattr(tuple, i + 1, desc, &isnull);
		PushColumnValue(&state, WJB_VALUE, col, v, isnull, pinned);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

// resource_id: the key value as text (a JSON string's characters, or a JSON literal); for a
// composite key a JSON array of the values; for a table without key the SHA-256 of the
// whole row's jsonb text.
text *
RowDigestId(Jsonb *row)
{
	char *json = JsonbToCString(NULL, &row->root, VARSIZE(row));
	size_t len = strlen(json);
	char hex[2 * core::kHashSize + 1];
	CallCore([&] {
		core::Hash h = core::Sha256::Of(json, len);
		core::HexEncode(h.bytes, core::kHashSize, hex);
	});
	hex[2 * core::kHashSize] = '\0';
	return cstring_to_text(hex);
}

text *
ResourceIdFromKeyArray(Jsonb *keys, int nkeys)
{
	if (nkeys > 1)
		return cstring_to_text(JsonbToCString(NULL, &keys->root, VARSIZE(keys)));
	JsonbValue *v = getIthJsonbValueFromContainer(&keys->root, 0);
	switch (v->type) {
	case jbvString:
		return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
	case jbvNumeric:
		return cstring_to_text(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric))));
	case jbvBool:
		return cstring_to_text(v->val.boolean ? "true" : "false");
	case jbvNull:
		return cstring_to_text("null");
	default:
		return cstring_to_text(JsonbToCString(NULL, v->val.binary.data, v->val.binary.len));
	}
}

text *
ResourceIdOf(const RelationInfo *info, TupleDesc desc, HeapTuple tuple, PinnedSettings *pinned)
{
	if (info->nkeys == 0)
		return RowDigestId(RowToJsonb(info, desc, tuple, NULL, pinned));

	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int k = 0; k < info->nkeys; k++) {
		AttrNumber attnum = info->key_attnums[k];
		bool isnull;
		Datum v = heap_getattr(tuple, attnum, desc, &isnull);
		PushColumnValue(&state, WJB_ELEM, info->columns[attnum - 1], v, isnull, pinned);
	}
	Jsonb *keys = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
	return ResourceIdFromKeyArray(keys, info->nkeys);
}


}  // namespace audit_chain::pg
