// src/pg/jsonb_util.cpp: jsonb helpers shared by the glue.
#include "pg/jsonb_util.hpp"

namespace audit_chain::pg {

namespace {

JsonbValue
StringValue(const char *s)
{
	JsonbValue v;
	v.type = jbvString;
	v.val.string.val = const_cast<char *>(s);
	v.val.string.len = (int) strlen(s);
	return v;
}

}  // namespace

JsonbValue *
JsonbMember(JsonbContainer *container, const char *key)
{
	if (container == NULL || !JsonContainerIsObject(container))
		return NULL;
	JsonbValue k = StringValue(key);
	return findJsonbValueFromContainer(container, JB_FOBJECT, &k);
}

char *
JsonbStringMember(JsonbContainer *container, const char *key)
{
	JsonbValue *v = JsonbMember(container, key);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

List *
JsonbStringListMember(JsonbContainer *container, const char *key)
{
	JsonbValue *v = JsonbMember(container, key);
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		return NIL;
	List *strings = NIL;
	int n = (int) JsonContainerSize(v->val.binary.data);
	for (int i = 0; i < n; i++) {
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);
		if (e != NULL && e->type == jbvString)
			strings = lappend(strings, pnstrdup(e->val.string.val, e->val.string.len));
	}
	return strings;
}

void
PushJsonbKey(JsonbParseState **state, const char *key)
{
	JsonbValue k = StringValue(key);
	(void) pushJsonbValue(state, WJB_KEY, &k);
}

void
PushJsonbString(JsonbParseState **state, JsonbIteratorToken seq, const char *s)
{
	JsonbValue v = StringValue(s);
	(void) pushJsonbValue(state, seq, &v);
}

}  // namespace audit_chain::pg
