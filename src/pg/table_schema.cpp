// src/pg/table_schema.cpp: column snapshots and their differences.
#include "pg/table_schema.hpp"

#include "pg/jsonb_util.hpp"
#include "pg/relation_info.hpp"

extern "C" {
#include "access/tupdesc_details.h"
#include "catalog/pg_class.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
}

namespace audit_chain::pg {

namespace {

struct OldColumn {
	int attnum;
	char *name;
	char *type;
	int key;  // position in the key (1, 2, ...), 0 if not a key column, -1 if not recorded
	bool seen;
};

int
IntMember(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = JsonbMember(obj, name);
	if (v == NULL || v->type != jbvNumeric)
		return -1;
	return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
}

OldColumn *
ParseSnapshot(Jsonb *columns, int *count)
{
	int n = JB_ROOT_IS_ARRAY(columns) ? (int) JB_ROOT_COUNT(columns) : 0;
	OldColumn *out = (OldColumn *) palloc0(sizeof(OldColumn) * (n + 1));
	for (int i = 0; i < n; i++) {
		JsonbValue *e = getIthJsonbValueFromContainer(&columns->root, i);
		if (e == NULL || e->type != jbvBinary)
			continue;
		out[i].attnum = IntMember(e->val.binary.data, "attnum");
		out[i].name = JsonbStringMember(e->val.binary.data, "name");
		out[i].type = JsonbStringMember(e->val.binary.data, "type");
		out[i].key = IntMember(e->val.binary.data, "key");
	}
	*count = n;
	return out;
}

}  // namespace

Jsonb *
ColumnsSnapshot(Relation rel)
{
	TupleDesc desc = RelationGetDescr(rel);
	AttrNumber *key_attnums;
	int nkeys = TableKeyColumns(rel, &key_attnums);
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped)
			continue;
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		PushJsonbKey(&state, "attnum");
		JsonbValue num;
		num.type = jbvNumeric;
		num.val.numeric = int64_to_numeric(att->attnum);
		(void) pushJsonbValue(&state, WJB_VALUE, &num);
		PushJsonbKey(&state, "name");
		PushJsonbString(&state, WJB_VALUE, NameStr(att->attname));
		PushJsonbKey(&state, "type");
		PushJsonbString(&state, WJB_VALUE, format_type_with_typemod(att->atttypid, att->atttypmod));
		int key = 0;
		for (int k = 0; k < nkeys && key == 0; k++)
			if (key_attnums[k] == att->attnum)
				key = k + 1;
		PushJsonbKey(&state, "key");
		JsonbValue position;
		position.type = jbvNumeric;
		position.val.numeric = int64_to_numeric(key);
		(void) pushJsonbValue(&state, WJB_VALUE, &position);
		(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
}

bool
SnapshotRecordsKey(Jsonb *columns)
{
	int n;
	OldColumn *old = ParseSnapshot(columns, &n);
	for (int j = 0; j < n; j++)
		if (old[j].key < 0)
			return false;
	return true;
}

SchemaChange
DescribeSchemaChange(Relation rel, Jsonb *old_columns, const char *old_name, const char *new_name,
					 bool partitions_changed)
{
	SchemaChange result = {NULL, partitions_changed};
	int nold;
	OldColumn *old = ParseSnapshot(old_columns, &nold);
	TupleDesc desc = RelationGetDescr(rel);

	// Collected first, then written in a fixed order of sections.
	List *renamed_from = NIL, *renamed_to = NIL, *dropped = NIL, *retyped = NIL, *retyped_from = NIL, *retyped_to = NIL;
	List *added = NIL;  // attnums
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped)
			continue;
		OldColumn *match = NULL;
		for (int j = 0; j < nold && match == NULL; j++)
			if (old[j].attnum == att->attnum)
				match = &old[j];
		if (match == NULL) {
			added = lappend_int(added, att->attnum);
			continue;
		}
		match->seen = true;
		if (match->name != NULL && strcmp(match->name, NameStr(att->attname)) != 0) {
			renamed_from = lappend(renamed_from, match->name);
			renamed_to = lappend(renamed_to, pstrdup(NameStr(att->attname)));
		}
		char *type = format_type_with_typemod(att->atttypid, att->atttypmod);
		if (match->type != NULL && strcmp(match->type, type) != 0) {
			retyped = lappend(retyped, pstrdup(NameStr(att->attname)));
			retyped_from = lappend(retyped_from, match->type);
			retyped_to = lappend(retyped_to, type);
			result.rebaseline = true;  // every value was converted by the rewrite
		}
	}
	for (int j = 0; j < nold; j++)
		if (!old[j].seen && old[j].name != NULL)
			dropped = lappend(dropped, old[j].name);

	// The columns that identify rows (their names then and now, in key order). Rows are
	// recorded under other ids from now on: record them again under the new ones.
	List *key_from = NIL, *key_to = NIL;
	// A partitioned table's rows are identified by each partition's key, which may differ from
	// the parent's: changes of it are not followed (see README, Limits).
	bool key_recorded = nold > 0 && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE;
	for (int j = 0; j < nold; j++)
		key_recorded &= old[j].key >= 0;
	AttrNumber *key_attnums;
	int nkeys = TableKeyColumns(rel, &key_attnums);
	bool key_changed = false;
	if (key_recorded) {
		int nold_keys = 0;
		for (int j = 0; j < nold; j++)
			nold_keys += old[j].key > 0;
		key_changed = nold_keys != nkeys;
		for (int k = 1; k <= nold_keys; k++)
			for (int j = 0; j < nold; j++)
				if (old[j].key == k) {
					key_from = lappend(key_from, old[j].name);
					key_changed |= k > nkeys || old[j].attnum != key_attnums[k - 1];
				}
		for (int k = 0; k < nkeys; k++)
			key_to = lappend(key_to, pstrdup(NameStr(TupleDescAttr(desc, key_attnums[k] - 1)->attname)));
		if (key_changed)
			result.rebaseline = true;
	}

	bool renamed_table = strcmp(old_name, new_name) != 0;
	if (!renamed_table && renamed_from == NIL && dropped == NIL && retyped == NIL && added == NIL &&
		!partitions_changed && !key_changed)
		return result;

	JsonbParseState *state = NULL;
	PinnedSettings pinned = NoPinnedSettings();
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (renamed_table) {
		PushJsonbKey(&state, "renamed_from");
		PushJsonbString(&state, WJB_VALUE, old_name);
	}
	if (renamed_from != NIL) {
		PushJsonbKey(&state, "columns_renamed");
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		ListCell *a, *b;
		forboth (a, renamed_from, b, renamed_to) {
			PushJsonbKey(&state, (const char *) lfirst(a));
			PushJsonbString(&state, WJB_VALUE, (const char *) lfirst(b));
		}
		(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	if (dropped != NIL) {
		PushJsonbKey(&state, "columns_dropped");
		(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		ListCell *lc;
		foreach (lc, dropped)
			PushJsonbString(&state, WJB_ELEM, (const char *) lfirst(lc));
		(void) pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}
	if (added != NIL) {
		PushJsonbKey(&state, "columns_added");
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		ListCell *lc;
		foreach (lc, added) {
			int attnum = lfirst_int(lc);
			Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
			PushJsonbKey(&state, NameStr(att->attname));
			// Existing rows got the column's "missing value" (a non-volatile default), or NULL;
			// any other default was computed per row by a rewrite: record the rows again.
			TupleConstr *constr = desc->constr;
			if (constr != NULL && constr->missing != NULL && constr->missing[attnum - 1].am_present) {
				PushDatumAsJson(&state, WJB_VALUE, constr->missing[attnum - 1].am_value, false, att->atttypid,
								&pinned);
			} else {
				if (att->atthasdef || att->attgenerated)
					result.rebaseline = true;
				JsonbValue null_value;
				null_value.type = jbvNull;
				(void) pushJsonbValue(&state, WJB_VALUE, &null_value);
			}
		}
		(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	if (retyped != NIL) {
		PushJsonbKey(&state, "columns_retyped");
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		// The type before too: keys written in it are found again by it (time travel).
		ListCell *a, *b, *c;
		forthree (a, retyped, b, retyped_from, c, retyped_to) {
			PushJsonbKey(&state, (const char *) lfirst(a));
			(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
			PushJsonbKey(&state, "from");
			PushJsonbString(&state, WJB_VALUE, (const char *) lfirst(b));
			PushJsonbKey(&state, "to");
			PushJsonbString(&state, WJB_VALUE, (const char *) lfirst(c));
			(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
		}
		(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	if (key_changed) {
		// {"from": ["id"], "to": ["code"]}; an empty list: rows identified by their whole value.
		PushJsonbKey(&state, "key_changed");
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		PushJsonbKey(&state, "from");
		(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		ListCell *lc;
		foreach (lc, key_from)
			PushJsonbString(&state, WJB_ELEM, (const char *) lfirst(lc));
		(void) pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		PushJsonbKey(&state, "to");
		(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		foreach (lc, key_to)
			PushJsonbString(&state, WJB_ELEM, (const char *) lfirst(lc));
		(void) pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		(void) pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	if (partitions_changed) {
		PushJsonbKey(&state, "partitions_changed");
		JsonbValue t;
		t.type = jbvBool;
		t.val.boolean = true;
		(void) pushJsonbValue(&state, WJB_VALUE, &t);
	}
	if (result.rebaseline) {
		PushJsonbKey(&state, "rebaseline");
		JsonbValue t;
		t.type = jbvBool;
		t.val.boolean = true;
		(void) pushJsonbValue(&state, WJB_VALUE, &t);
	}
	result.details = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
	UnpinSettings(&pinned);
	return result;
}

}  // namespace audit_chain::pg
