// src/pg/capture.cpp: audit_chain.capture(), the generic audit trigger.
//
// AFTER ROW INSERT/UPDATE/DELETE: the row (INSERT, DELETE) or its changed columns (UPDATE)
// become JSON; AFTER TRUNCATE (statement): one event for the table. Nothing is written to
// the audit tables here: the event goes to the transaction's spool and is chained and
// stored when the transaction commits, so an idle open transaction holds no audit lock.
#include "pg/capture.hpp"

#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog.hpp"
#include "pg/context.hpp"
#include "pg/relation_info.hpp"
#include "pg/resources.hpp"
#include "pg/spool.hpp"
#include "pg/value_to_jsonb.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace audit_chain::pg {

namespace {

// RFC 9562 version 7 UUID: 48-bit Unix milliseconds, then random bits.
void
NewEventId(pg_uuid_t *id)
{
	if (!pg_strong_random(id->data, UUID_LEN))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random values")));
	uint64 ms = (uint64) ((GetCurrentTimestamp() / 1000) + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * 86400 * 1000);
	for (int i = 0; i < 6; i++)
		id->data[i] = (uint8) (ms >> (40 - 8 * i));
	id->data[6] = (uint8) ((id->data[6] & 0x0F) | 0x70);
	id->data[8] = (uint8) ((id->data[8] & 0x3F) | 0x80);
}

bytea *
NewSalt()
{
	bytea *salt = (bytea *) palloc(VARHDRSZ + 16);
	SET_VARSIZE(salt, VARHDRSZ + 16);
	if (!pg_strong_random(VARDATA(salt), 16))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random values")));
	return salt;
}

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

// The row (or only the columns in include, when not NULL) as a jsonb object.
Jsonb *
RowToJsonb(const RelationInfo *info, TupleDesc desc, HeapTuple tuple, const bool *include, PinnedSettings *pinned)
{
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < info->natts; i++) {
		const ColumnInfo &col = info->columns[i];
		if (col.name == NULL || (include != NULL && !include[i]))
			continue;
		JsonbValue key;
		key.type = jbvString;
		key.val.string.val = col.name;
		key.val.string.len = (int) strlen(col.name);
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		bool isnull;
		Datum v = heap_getattr(tuple, i + 1, desc, &isnull);
		PushDatumAsJson(&state, WJB_VALUE, v, isnull, col.typid, pinned);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

// resource_id: the key value as text (a JSON string's characters, or a JSON literal); for a
// composite key a JSON array of the values; for a table without key the SHA-256 of the
// whole row's jsonb text.
text *
ResourceIdOf(const RelationInfo *info, TupleDesc desc, HeapTuple tuple, PinnedSettings *pinned)
{
	if (info->nkeys == 0) {
		Jsonb *row = RowToJsonb(info, desc, tuple, NULL, pinned);
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

	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int k = 0; k < info->nkeys; k++) {
		AttrNumber attnum = info->key_attnums[k];
		bool isnull;
		Datum v = heap_getattr(tuple, attnum, desc, &isnull);
		PushDatumAsJson(&state, WJB_ELEM, v, isnull, info->columns[attnum - 1].typid, pinned);
	}
	Jsonb *keys = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
	if (info->nkeys > 1)
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

}  // namespace

void
SpoolEvent(const CatalogOids *oids, const char *action, const char *resource_type, text *resource_id,
		   Jsonb *old_data, Jsonb *new_data, Jsonb *details, char outcome)
{
	SpooledEvent e;
	e.subxid = GetCurrentTransactionId();
	e.event_time = GetCurrentStatementStartTimestamp();
	e.context_id = InternCurrentContext(oids);
	NewEventId(&e.event_id);
	e.resource_ref = InternResource(oids, resource_type);
	e.outcome = outcome;
	e.action = cstring_to_text(action);
	e.resource_id = resource_id;
	e.old_data = old_data;
	e.new_data = new_data;
	e.details = details;
	e.salt = NewSalt();
	SpoolAppend(&e);
}

}  // namespace audit_chain::pg

using namespace audit_chain::pg;

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_capture);

Datum
audit_chain_capture(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() can only be called as a trigger")));
	TriggerData *td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() must be fired AFTER the change"),
				 errhint("Use audit_chain.track(), or CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW.")));

	const CatalogOids *oids = GetCatalogOids(false);
	Relation rel = td->tg_relation;
	TupleDesc desc = RelationGetDescr(rel);
	const RelationInfo *info = GetRelationInfo(rel, td->tg_trigger);
	PinnedSettings pinned = NoPinnedSettings();

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event)) {
		SpoolEvent(oids, "TRUNCATE", info->resource_type, NULL, NULL, NULL, NULL, 's');
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() must be fired FOR EACH ROW for INSERT, UPDATE and DELETE")));

	Jsonb *old_data = NULL;
	Jsonb *new_data = NULL;
	text *resource_id;
	const char *action;
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event)) {
		action = "INSERT";
		new_data = RowToJsonb(info, desc, td->tg_trigtuple, NULL, &pinned);
		resource_id = ResourceIdOf(info, desc, td->tg_trigtuple, &pinned);
	} else if (TRIGGER_FIRED_BY_DELETE(td->tg_event)) {
		action = "DELETE";
		old_data = RowToJsonb(info, desc, td->tg_trigtuple, NULL, &pinned);
		resource_id = ResourceIdOf(info, desc, td->tg_trigtuple, &pinned);
	} else {
		action = "UPDATE";
		HeapTuple oldtup = td->tg_trigtuple;
		HeapTuple newtup = td->tg_newtuple;
		bool *changed = (bool *) palloc0(sizeof(bool) * info->natts);
		bool any = false;
		for (int i = 0; i < info->natts; i++) {
			if (info->columns[i].name == NULL)
				continue;
			bool oldnull, newnull;
			Datum o = heap_getattr(oldtup, i + 1, desc, &oldnull);
			Datum n = heap_getattr(newtup, i + 1, desc, &newnull);
			changed[i] = oldnull != newnull || (!oldnull && !SameValue(o, n, TupleDescAttr(desc, i)));
			any |= changed[i];
		}
		if (!any) {
			UnpinSettings(&pinned);
			return PointerGetDatum(NULL);  // an UPDATE that changes nothing records nothing
		}
		old_data = RowToJsonb(info, desc, oldtup, changed, &pinned);
		new_data = RowToJsonb(info, desc, newtup, changed, &pinned);
		resource_id = ResourceIdOf(info, desc, oldtup, &pinned);
	}
	UnpinSettings(&pinned);
	SpoolEvent(oids, action, info->resource_type, resource_id, old_data, new_data, NULL, 's');
	return PointerGetDatum(NULL);
}

}
