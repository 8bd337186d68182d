// src/pg/jsonb_tokens.cpp: jsonb to core tokens.
#include "pg/jsonb_tokens.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
}

namespace audit_chain::pg {

using core::JsonKind;
using core::JsonToken;

namespace {

core::TextView
View(const char *data, int len)
{
	return core::TextView{data, (uint32) len};
}

void
Append(JsonbMembers *out, uint32 *capacity, JsonToken token)
{
	if (out->total_tokens == *capacity) {
		*capacity *= 2;
		out->tokens = (JsonToken *) repalloc(out->tokens, sizeof(JsonToken) * *capacity);
	}
	out->tokens[out->total_tokens++] = token;
}

JsonToken
ScalarToken(const JsonbValue &v)
{
	switch (v.type) {
	case jbvNull:
		return JsonToken{JsonKind::kNull, 0, {}};
	case jbvBool:
		return JsonToken{v.val.boolean ? JsonKind::kTrue : JsonKind::kFalse, 0, {}};
	case jbvString:
		return JsonToken{JsonKind::kString, 0, View(v.val.string.val, v.val.string.len)};
	case jbvNumeric: {
		char *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		return JsonToken{JsonKind::kNumber, 0, View(text, (int) strlen(text))};
	}
	default:
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("unexpected jsonb value type %d in audit data", (int) v.type)));
	}
	pg_unreachable();
}

}  // namespace

bool
JsonbObjectMembers(Jsonb *jb, JsonbMembers *out)
{
	if (JB_ROOT_IS_SCALAR(jb) || !JB_ROOT_IS_OBJECT(jb))
		return false;

	int n = JB_ROOT_COUNT(jb);
	out->count = 0;
	out->keys = (core::TextView *) palloc(sizeof(core::TextView) * (n + 1));
	out->first = (uint32 *) palloc(sizeof(uint32) * (n + 1));
	out->ntokens = (uint32 *) palloc(sizeof(uint32) * (n + 1));
	uint32 capacity = 8 + 2 * n;
	out->tokens = (JsonToken *) palloc(sizeof(JsonToken) * capacity);
	out->total_tokens = 0;

	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue v;
	JsonbIteratorToken tok;
	int depth = 0;
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
		switch (tok) {
		case WJB_BEGIN_OBJECT:
			if (depth > 0)
				Append(out, &capacity, JsonToken{JsonKind::kObject, (uint32) v.val.object.nPairs, {}});
			depth++;
			break;
		case WJB_BEGIN_ARRAY:
			Append(out, &capacity, JsonToken{JsonKind::kArray, (uint32) v.val.array.nElems, {}});
			depth++;
			break;
		case WJB_END_OBJECT:
		case WJB_END_ARRAY:
			depth--;
			break;
		case WJB_KEY:
			if (depth == 1) {
				if (out->count > 0)
					out->ntokens[out->count - 1] = out->total_tokens - out->first[out->count - 1];
				out->keys[out->count] = View(v.val.string.val, v.val.string.len);
				out->first[out->count] = out->total_tokens;
				out->count++;
			} else {
				Append(out, &capacity, JsonToken{JsonKind::kString, 0, View(v.val.string.val, v.val.string.len)});
			}
			break;
		case WJB_VALUE:
		case WJB_ELEM:
			Append(out, &capacity, ScalarToken(v));
			break;
		default:
			break;
		}
	}
	if (out->count > 0)
		out->ntokens[out->count - 1] = out->total_tokens - out->first[out->count - 1];
	return true;
}

int
FindMember(const JsonbMembers *members, const char *key, int keylen)
{
	for (int i = 0; i < members->count; i++)
		if (members->keys[i].size == (uint32) keylen && memcmp(members->keys[i].data, key, keylen) == 0)
			return i;
	return -1;
}

}  // namespace audit_chain::pg
