// src/pg/capture.cpp: audit_chain.capture(), the generic audit trigger.
//
// AFTER ROW INSERT/UPDATE/DELETE: the row (INSERT, DELETE) or its changed columns (UPDATE)
// become JSON; AFTER TRUNCATE (statement): one event for the table. Nothing is written to
// the audit tables here: the event goes to the transaction's spool and is chained and
// stored when the transaction commits, so an idle open transaction holds no audit lock.
#include "pg/capture.hpp"

#include "pg/baseline.hpp"
#include "pg/catalog.hpp"
#include "pg/context.hpp"
#include "pg/random_pool.hpp"
#include "pg/relation_info.hpp"
#include "pg/resources.hpp"
#include "pg/revert.hpp"
#include "pg/row_image.hpp"
#include "pg/spool.hpp"
#include "pg/value_to_jsonb.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
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
	RandomBytes(id->data, UUID_LEN);
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
	RandomBytes(VARDATA(salt), 16);
	return salt;
}

}  // namespace

pg_uuid_t
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
	return e.event_id;
}

namespace {

// The key an UPDATE moved its row to, or NULL when the key did not change.
text *
NewKeyOf(const RelationInfo *info, TupleDesc desc, HeapTuple newtup, const bool *changed, text *old_id,
		 PinnedSettings *pinned)
{
	bool key_changed = info->nkeys == 0;
	for (int k = 0; k < info->nkeys && !key_changed; k++)
		key_changed = changed[info->key_attnums[k] - 1];
	if (!key_changed)
		return NULL;
	text *new_id = ResourceIdOf(info, desc, newtup, pinned);
	if (VARSIZE_ANY_EXHDR(new_id) == VARSIZE_ANY_EXHDR(old_id) &&
		memcmp(VARDATA_ANY(new_id), VARDATA_ANY(old_id), VARSIZE_ANY_EXHDR(old_id)) == 0)
		return NULL;
	return new_id;
}

// Adds "key": "value" to the object being built.
void
PushStringMember(JsonbParseState **state, const char *key, const char *value, int len)
{
	JsonbValue k, v;
	k.type = jbvString;
	k.val.string.val = const_cast<char *>(key);
	k.val.string.len = (int) strlen(key);
	v.type = jbvString;
	v.val.string.val = const_cast<char *>(value);
	v.val.string.len = len;
	(void) pushJsonbValue(state, WJB_KEY, &k);
	(void) pushJsonbValue(state, WJB_VALUE, &v);
}

// A row event's details, or NULL when there is nothing to say. An UPDATE that changes a
// row's key records the new key as "new_resource_id", so the row can be found from either
// key (time travel, history). The event audit_chain.revert() is applying records the
// transaction it undoes as "reverts" (src/pg/revert.cpp decides which event that is), so
// that a later revert can set the pair aside instead of taking the undoing for a
// conflicting change.
Jsonb *
RowEventDetails(const RelationInfo *info, const char *action, text *resource_id, text *new_id, Jsonb *old_data,
				Jsonb *new_data)
{
	const char *reverts = RevertedTransactionOf(info->root_relid, action, resource_id, new_id, old_data, new_data);
	if (new_id == NULL && reverts == NULL)
		return NULL;
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (new_id != NULL)
		PushStringMember(&state, "new_resource_id", VARDATA_ANY(new_id), (int) VARSIZE_ANY_EXHDR(new_id));
	if (reverts != NULL)
		PushStringMember(&state, "reverts", reverts, (int) strlen(reverts));
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

// Tables truncated by the current command, so that their partitions (whose TRUNCATE
// triggers fire after the named table's) do not record their rows one by one as well.
// Forgotten at the end of every transaction (CaptureAtEndOfTransaction), since the list
// lives in the transaction's memory.
struct TruncatedTables {
	CommandId cid;
	List *relids;  // TopTransactionContext
};
TruncatedTables truncated = {InvalidCommandId, NIL};

bool
TruncatedInThisCommand(Oid relid)
{
	return truncated.cid == GetCurrentCommandId(false) && list_member_oid(truncated.relids, relid);
}

void
NoteTruncated(Oid relid)
{
	if (truncated.cid != GetCurrentCommandId(false)) {
		truncated.cid = GetCurrentCommandId(false);
		truncated.relids = NIL;
	}
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	truncated.relids = lappend_oid(truncated.relids, relid);
	MemoryContextSwitchTo(old);
}

// Whether relid has a row trigger executing the capture function (whatever its name: it may
// have been renamed).
bool
HasRowCaptureTrigger(Oid relid, Oid capture_fn)
{
	Relation rel = relation_open(relid, AccessShareLock);
	bool found = false;
	for (int i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers && !found; i++) {
		const Trigger &t = rel->trigdesc->triggers[i];
		found = t.tgfoid == capture_fn && TRIGGER_FOR_ROW(t.tgtype);
	}
	relation_close(rel, AccessShareLock);
	return found;
}

// The topmost ancestor of a partition that is tracked (has a row capture trigger).
Oid
TrackedAncestor(Oid relid, Oid capture_fn)
{
	Oid root = InvalidOid;
	ListCell *lc;
	foreach (lc, get_partition_ancestors(relid))
		if (HasRowCaptureTrigger(lfirst_oid(lc), capture_fn))
			root = lfirst_oid(lc);
	return root;
}

// What cannot be audited, whichever trigger executes capture(): such triggers are refused
// when they are created (the ddl_command_end event trigger), and again here when one fires
// (created while the event trigger was disabled, or its table changed since).
void
CheckCapturable(const CatalogOids *oids, const TriggerData *td)
{
	Form_pg_class form = td->tg_relation->rd_rel;
	const char *name = NameStr(form->relname);
	if (form->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("audit_chain.capture() cannot audit temporary table \"%s\"", name),
				 errdetail("A temporary table disappears with its session and no other session sees its rows; "
						   "its changes cannot be audited.")));
	if (form->relpersistence == RELPERSISTENCE_UNLOGGED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("audit_chain.capture() cannot audit unlogged table \"%s\"", name),
				 errdetail("A crash empties an unlogged table while its events stay in the trail, which would then "
						   "describe rows that no longer exist."),
				 errhint("Make it a permanent table with ALTER TABLE ... SET LOGGED.")));
	// A foreign partition of a tracked table is audited for the changes made through this
	// database (its capture trigger is a clone of the tracked table's); a foreign table by
	// itself is not a table this database can audit.
	if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_PARTITIONED_TABLE &&
		!(form->relkind == RELKIND_FOREIGN_TABLE && td->tg_trigger->tgisclone))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("audit_chain.capture() cannot audit \"%s\"", name),
				 errdetail("Only tables and partitioned tables can be audited.")));
	if (form->relnamespace == oids->schema)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("audit_chain.capture() cannot audit audit_chain's own table \"%s\"", name)));
}

}  // namespace

void
CaptureAtEndOfTransaction(void)
{
	truncated.cid = InvalidCommandId;
	truncated.relids = NIL;
}

// BEFORE TRUNCATE. A tracked table's TRUNCATE is one event. TRUNCATE of one partition of a
// tracked table empties only part of it, which a TRUNCATE event cannot say: its rows are
// recorded as DELETE events of the tracked table instead (unless the tracked table itself
// is truncated by the same command).
void
CaptureTruncate(const CatalogOids *oids, TriggerData *td)
{
	Relation rel = td->tg_relation;
	Oid relid = RelationGetRelid(rel);
	Oid root = rel->rd_rel->relispartition ? TrackedAncestor(relid, td->tg_trigger->tgfoid) : InvalidOid;
	if (!OidIsValid(root)) {
		const RelationInfo *info = GetRelationInfo(rel, td->tg_trigger);
		NoteTruncated(relid);
		SpoolEvent(oids, "TRUNCATE", info->resource_type, NULL, NULL, NULL, NULL, 's');
		return;
	}
	ListCell *lc;
	foreach (lc, get_partition_ancestors(relid))
		if (TruncatedInThisCommand(lfirst_oid(lc)))
			return;
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return;  // a partitioned partition holds no rows; its own partitions record theirs

	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	(void) SpoolEveryRow(oids, rel, root, QualifiedRelationName(root), snapshot, true);
	UnregisterSnapshot(snapshot);
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
	if (!TRIGGER_FIRED_AFTER(td->tg_event) && !TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() must be fired AFTER the change"),
				 errhint("Use audit_chain.track(), or CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW.")));

	const CatalogOids *oids = GetCatalogOids(false);
	CheckCapturable(oids, td);
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event)) {
		CaptureTruncate(oids, td);
		return PointerGetDatum(NULL);
	}
	Relation rel = td->tg_relation;
	TupleDesc desc = RelationGetDescr(rel);
	const RelationInfo *info = GetRelationInfo(rel, td->tg_trigger);
	PinnedSettings pinned = NoPinnedSettings();

	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() must be fired FOR EACH ROW for INSERT, UPDATE and DELETE")));

	Jsonb *old_data = NULL;
	Jsonb *new_data = NULL;
	text *new_id = NULL;
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
			if (info->columns[i].name == NULL || info->columns[i].policy == ColumnPolicy::kExclude)
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
		new_id = NewKeyOf(info, desc, newtup, changed, resource_id, &pinned);
	}
	UnpinSettings(&pinned);
	SpoolEvent(oids, action, info->resource_type, resource_id, old_data, new_data,
			   RowEventDetails(info, action, resource_id, new_id, old_data, new_data), 's');
	return PointerGetDatum(NULL);
}

}
