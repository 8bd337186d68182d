// src/pg/sql_tracking.cpp: audit_chain.track(), audit_chain.untrack() and the event triggers
// that keep tracking consistent with DDL.
//
// Tracking is two triggers on the table: audit_chain_capture (AFTER INSERT OR UPDATE OR
// DELETE FOR EACH ROW; PostgreSQL clones it to every partition, present and future) and
// audit_chain_capture_truncate (BEFORE TRUNCATE FOR EACH STATEMENT, on the table and on each
// partition, since statement triggers are not cloned). The DDL runs as the table's owner,
// after checking that the caller owns the table or is a member of audit_chain_admin.
#include "pg/baseline.hpp"
#include "pg/capture.hpp"
#include "pg/catalog.hpp"
#include "pg/registry.hpp"
#include "pg/relation_info.hpp"
#include "pg/guc.hpp"
#include "pg/jsonb_util.hpp"
#include "pg/table_schema.hpp"
#include "pg/tracking.hpp"

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

using namespace audit_chain::pg;

namespace {

constexpr char kRowTrigger[] = "audit_chain_capture";
constexpr char kTruncateTrigger[] = "audit_chain_capture_truncate";

// Set while untrack() drops the triggers itself: its UNTRACK event says it all.
bool untracking = false;

bool
IsCaptureTrigger(const char *name)
{
	return name != NULL && (strcmp(name, kRowTrigger) == 0 || strcmp(name, kTruncateTrigger) == 0);
}

// The tracked table relid belongs to (itself or its topmost tracked ancestor), or InvalidOid.
Oid
TrackedTableOf(Oid relid)
{
	RegistryEntry entry;
	Oid root = InvalidOid;
	if (get_rel_relispartition(relid)) {
		ListCell *lc;
		foreach (lc, get_partition_ancestors(relid))
			if (RegistryGet(lfirst_oid(lc), &entry))
				root = lfirst_oid(lc);
	}
	if (!OidIsValid(root) && RegistryGet(relid, &entry))
		root = relid;
	return root;
}

// Refuses what cannot be tracked, with a reason per kind of object.
void
CheckTrackable(Oid relid, const CatalogOids *oids)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
	Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
	char relkind = form->relkind;
	char persistence = form->relpersistence;
	Oid nsp = form->relnamespace;
	char *name = pstrdup(NameStr(form->relname));
	ReleaseSysCache(tuple);

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE) {
		const char *what = relkind == RELKIND_VIEW				? "view"
						   : relkind == RELKIND_MATVIEW			? "materialized view"
						   : relkind == RELKIND_FOREIGN_TABLE	? "foreign table"
						   : relkind == RELKIND_SEQUENCE		? "sequence"
						   : relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX ? "index"
						   : relkind == RELKIND_COMPOSITE_TYPE	? "composite type"
																: "relation";
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot track %s \"%s\"", what, name),
				 errdetail("Only tables and partitioned tables can be tracked.")));
	}
	if (persistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track temporary table \"%s\"", name),
				 errdetail("A temporary table disappears with its session; its changes cannot be audited.")));
	if (nsp == oids->schema)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track audit_chain's own table \"%s\"", name),
				 errdetail("The audit tables protect themselves and are verified by audit_chain.verify().")));
	if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track system table \"%s\"", name)));
}

// The caller must own the table or be a member of audit_chain_admin.
void
CheckMayTrack(Oid relid, const char *verb)
{
	if (pg_class_ownercheck(relid, GetUserId()))
		return;
	Oid admin = get_role_oid("audit_chain_admin", true);
	if (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s table \"%s\"", verb, get_rel_name(relid)),
			 errdetail("Only the table's owner and members of audit_chain_admin may %s it.", verb)));
}

bool
HasTrigger(Oid relid, const char *name)
{
	return OidIsValid(get_trigger_oid(relid, name, true));
}

// Runs a DDL statement as the table's owner (the caller was checked by CheckMayTrack).
void
RunAsOwner(Oid relid, const char *sql)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	Oid owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	Oid save_userid;
	int save_sec_context;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	int rc = SPI_execute(sql, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed for \"%s\": %d", sql, rc);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

void
CreateTruncateTrigger(Oid relid)
{
	if (!HasTrigger(relid, kTruncateTrigger))
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s BEFORE TRUNCATE ON %s FOR EACH STATEMENT "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   kTruncateTrigger, QualifiedRelationName(relid)));
}

Jsonb *
TrackDetails(bool baseline)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(baseline ? "{\"baseline\": true}"
																				  : "{\"baseline\": false}")));
}

// Records a schema change of a tracked table (and its rows again, when they were rewritten).
void
RecordSchemaChange(const CatalogOids *oids, Oid relid, bool partitions_changed)
{
	RegistryEntry entry;
	if (!RegistryGet(relid, &entry))
		return;
	char *name = QualifiedRelationName(relid);
	Relation rel = table_open(relid, AccessShareLock);
	SchemaChange change = DescribeSchemaChange(rel, entry.columns, entry.resource_type, name, partitions_changed);
	Jsonb *columns = ColumnsSnapshot(rel);
	table_close(rel, AccessShareLock);
	if (change.details == NULL)
		return;
	SpoolEvent(oids, "ALTER TABLE", name, NULL, NULL, NULL, change.details, 's');
	if (change.rebaseline)
		(void) SpoolBaseline(oids, relid, name);
	RegistryUpdate(relid, name, columns);
}

// Records ENABLE/DISABLE TRIGGER subcommands that concern the capture triggers of a
// tracked table. Enabling capture again re-records the rows (changes made meanwhile were
// not captured), so time travel is complete again from that point.
void
RecordTriggerToggles(const CatalogOids *oids, Node *parsetree)
{
	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return;
	AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
	Oid relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	Oid root = TrackedTableOf(relid);
	if (!OidIsValid(root))
		return;
	ListCell *lc;
	foreach (lc, stmt->cmds) {
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		bool disable;
		const char *which;
		switch (cmd->subtype) {
		case AT_DisableTrig:
			disable = true;
			which = cmd->name;
			break;
		case AT_EnableTrig:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
			disable = false;
			which = cmd->name;
			break;
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			disable = true;
			which = cmd->subtype == AT_DisableTrigAll ? "ALL" : "USER";
			break;
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
			disable = false;
			which = cmd->subtype == AT_EnableTrigAll ? "ALL" : "USER";
			break;
		default:
			continue;
		}
		if (!IsCaptureTrigger(which) && strcmp(which, "ALL") != 0 && strcmp(which, "USER") != 0)
			continue;
		JsonbParseState *state = NULL;
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		PushJsonbKey(&state, "trigger");
		PushJsonbString(&state, WJB_VALUE, which);
		PushJsonbKey(&state, "table");
		PushJsonbString(&state, WJB_VALUE, QualifiedRelationName(relid));
		if (!disable) {
			JsonbValue t;
			t.type = jbvBool;
			t.val.boolean = true;
			PushJsonbKey(&state, "rebaseline");
			(void) pushJsonbValue(&state, WJB_VALUE, &t);
		}
		Jsonb *details = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
		char *root_name = QualifiedRelationName(root);
		SpoolEvent(oids, disable ? "DISABLE TRIGGER" : "ENABLE TRIGGER", root_name, NULL, NULL, NULL, details, 's');
		if (!disable)
			(void) SpoolBaseline(oids, root, root_name);
	}
}

// ALTER TRIGGER audit_chain_capture ... RENAME: capture goes on, but tools looking for the
// trigger by name would not find it; record it.
void
RecordTriggerRename(const CatalogOids *oids, Node *parsetree)
{
	if (parsetree == NULL || !IsA(parsetree, RenameStmt))
		return;
	RenameStmt *stmt = (RenameStmt *) parsetree;
	if (stmt->renameType != OBJECT_TRIGGER || !IsCaptureTrigger(stmt->subname))
		return;
	Oid relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid root = OidIsValid(relid) ? TrackedTableOf(relid) : InvalidOid;
	if (!OidIsValid(root))
		return;
	StringInfoData json;
	initStringInfo(&json);
	appendStringInfo(&json, "{\"trigger\": \"%s\", \"renamed_to\": ", stmt->subname);
	escape_json(&json, stmt->newname);
	appendStringInfoChar(&json, '}');
	Jsonb *details = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
	SpoolEvent(oids, "ALTER TRIGGER", QualifiedRelationName(root), NULL, NULL, NULL, details, 's');
}

// ATTACH PARTITION gives the new partition (and its partitions) the TRUNCATE trigger of its
// tracked ancestor; DETACH PARTITION takes it away from a partition that is no longer part
// of a tracked table (unless it is tracked itself).
void
FollowPartitionChanges(Node *parsetree)
{
	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return;
	ListCell *lc;
	foreach (lc, ((AlterTableStmt *) parsetree)->cmds) {
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		if (cmd->subtype != AT_AttachPartition && cmd->subtype != AT_DetachPartition &&
			cmd->subtype != AT_DetachPartitionFinalize)
			continue;
		if (cmd->def == NULL || !IsA(cmd->def, PartitionCmd))
			continue;
		Oid part = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);
		if (!OidIsValid(part))
			continue;
		List *rels = get_rel_relkind(part) == RELKIND_PARTITIONED_TABLE ? find_all_inheritors(part, NoLock, NULL)
																		 : list_make1_oid(part);
		bool attached = cmd->subtype == AT_AttachPartition && OidIsValid(TrackedTableOf(part));
		ListCell *rc;
		foreach (rc, rels) {
			Oid relid = lfirst_oid(rc);
			if (get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE)
				continue;
			if (attached) {
				CreateTruncateTrigger(relid);
			} else if (cmd->subtype != AT_AttachPartition && !OidIsValid(TrackedTableOf(relid)) &&
					   HasTrigger(relid, kTruncateTrigger)) {
				untracking = true;  // not a DROP TRIGGER of a tracked table: no event
				RunAsOwner(relid, psprintf("DROP TRIGGER %s ON %s", kTruncateTrigger, QualifiedRelationName(relid)));
				untracking = false;
			}
		}
	}
}

// True if the ALTER TABLE statement attaches or detaches partitions.
bool
ChangesPartitions(Node *parsetree)
{
	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return false;
	ListCell *lc;
	foreach (lc, ((AlterTableStmt *) parsetree)->cmds) {
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		if (cmd->subtype == AT_AttachPartition || cmd->subtype == AT_DetachPartition ||
			cmd->subtype == AT_DetachPartitionFinalize)
			return true;
	}
	return false;
}

// The relations a DDL command touched, from pg_event_trigger_ddl_commands().
List *
TouchedRelations(void)
{
	// The list must outlive SPI_finish(), which frees everything allocated in SPI's context.
	MemoryContext caller = CurrentMemoryContext;
	List *relids = NIL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	// objsubid is a column number for column-level commands (RENAME COLUMN): keep those too.
	int rc = SPI_execute("SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands() "
						 "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass",
						 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %d", rc);
	MemoryContext spi = MemoryContextSwitchTo(caller);
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		Oid relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		if (!isnull)
			relids = lappend_oid(relids, relid);
	}
	MemoryContextSwitchTo(spi);
	SPI_finish();
	return relids;
}

// Column names of a text[] argument, each checked to be a column of relid.
List *
ColumnList(ArrayType *arr, Oid relid, const char *list_name)
{
	Datum *elems;
	bool *nulls;
	int n;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	List *names = NIL;
	for (int i = 0; i < n; i++) {
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain NULL", list_name)));
		char *name = TextDatumGetCString(elems[i]);
		if (get_attnum(relid, name) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", name, get_rel_name(relid))));
		names = lappend(names, name);
	}
	return names;
}

bool
ListHasName(List *names, const char *name)
{
	ListCell *lc;
	foreach (lc, names)
		if (strcmp((const char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

void
PushNameList(JsonbParseState **state, const char *key, List *names)
{
	PushJsonbKey(state, key);
	(void) pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	ListCell *lc;
	foreach (lc, names)
		PushJsonbString(state, WJB_ELEM, (const char *) lfirst(lc));
	(void) pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

// The names in one list of the current settings.
List *
SettingsList(Jsonb *settings, const char *key)
{
	List *names = NIL;
	JsonbValue *v = settings != NULL ? JsonbMember(&settings->root, key) : NULL;
	if (v == NULL || v->type != jbvBinary)
		return NIL;
	int n = (int) JsonContainerSize(v->val.binary.data);
	for (int i = 0; i < n; i++) {
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);
		if (e != NULL && e->type == jbvString)
			names = lappend(names, pnstrdup(e->val.string.val, e->val.string.len));
	}
	return names;
}

}  // namespace

namespace audit_chain::pg {

void
TrackingAtEndOfTransaction(void)
{
	untracking = false;
}

}  // namespace audit_chain::pg

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_configure);

// configure(target regclass, exclude text[], redact text[], hash text[], record text[])
// RETURNS jsonb: replaces each given list of the table's capture settings.
Datum
audit_chain_configure(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	const CatalogOids *oids = GetCatalogOids(false);
	CheckMayTrack(relid, "configure");
	LockRelationOid(relid, ShareRowExclusiveLock);
	CheckMayTrack(relid, "configure");
	RegistryEntry entry;
	if (!RegistryGet(relid, &entry))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not tracked", get_rel_name(relid)),
				 errhint("Track it first with audit_chain.track().")));

	static const char *const lists[] = {"exclude", "redact", "hash", "record"};
	List *names[4];
	for (int i = 0; i < 4; i++)
		names[i] = PG_ARGISNULL(i + 1) ? SettingsList(entry.settings, lists[i])
									   : ColumnList(PG_GETARG_ARRAYTYPE_P(i + 1), relid, lists[i]);

	// A column has one policy; key columns identify rows, so they are recorded or hashed.
	Relation rel = table_open(relid, AccessShareLock);
	const RelationInfo *info = RelationInfoFor(rel, relid);
	List *key_names = NIL;
	for (int k = 0; k < info->nkeys; k++)
		key_names = lappend(key_names, info->columns[info->key_attnums[k] - 1].name);
	table_close(rel, AccessShareLock);
	for (int i = 0; i < 4; i++) {
		ListCell *lc;
		foreach (lc, names[i]) {
			const char *name = (const char *) lfirst(lc);
			for (int j = i + 1; j < 4; j++)
				if (ListHasName(names[j], name))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("column \"%s\" is in both %s and %s", name, lists[i], lists[j])));
			if (i < 2 && ListHasName(key_names, name))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("key column \"%s\" cannot be %s", name, i == 0 ? "excluded" : "redacted"),
						 errdetail("The key identifies rows in the audit trail; a key column can be hashed instead.")));
		}
	}
	if (names[2] != NIL && (guc_hmac_key == NULL || guc_hmac_key[0] == '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit_chain.hmac_key is not set"),
				 errhint("A superuser sets it in postgresql.conf or with ALTER SYSTEM SET audit_chain.hmac_key.")));

	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < 4; i++)
		PushNameList(&state, lists[i], names[i]);
	Jsonb *settings = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
	RegistrySetSettings(relid, settings);
	// Every backend rebuilds its capture policies for this table (and its partitions).
	CacheInvalidateRelcacheByRelid(relid);
	SpoolEvent(oids, "CONFIGURE", QualifiedRelationName(relid), NULL, NULL, NULL, settings, 's');
	PG_RETURN_JSONB_P(settings);
}

PG_FUNCTION_INFO_V1(audit_chain_track);
PG_FUNCTION_INFO_V1(audit_chain_untrack);
PG_FUNCTION_INFO_V1(audit_chain_on_ddl_command_end);
PG_FUNCTION_INFO_V1(audit_chain_on_sql_drop);

// track(target regclass, baseline boolean DEFAULT true) RETURNS boolean
Datum
audit_chain_track(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	bool baseline = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	const CatalogOids *oids = GetCatalogOids(false);
	// Checked before waiting for the lock, so an unauthorised caller cannot queue behind
	// (and hold up) everyone else; checked again once the lock is held.
	CheckTrackable(relid, oids);
	CheckMayTrack(relid, "track");
	// Keeps writers out while the triggers are created and the rows are recorded, so no
	// change falls between the baseline and the first captured event.
	LockRelationOid(relid, ShareRowExclusiveLock);
	CheckTrackable(relid, oids);
	CheckMayTrack(relid, "track");

	bool newly = !HasTrigger(relid, kRowTrigger);
	if (newly)
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   kRowTrigger, QualifiedRelationName(relid)));
	CreateTruncateTrigger(relid);
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
		ListCell *lc;
		foreach (lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
			if (lfirst_oid(lc) != relid && get_rel_relkind(lfirst_oid(lc)) != RELKIND_FOREIGN_TABLE)
				CreateTruncateTrigger(lfirst_oid(lc));
	}

	// A new tracking period starts when the table was not registered, or when its capture
	// trigger had been dropped by hand: capture resumes with a TRACK event and a baseline.
	RegistryEntry entry;
	bool registered = RegistryGet(relid, &entry);
	if (!registered || newly) {
		char *name = QualifiedRelationName(relid);
		Relation rel = table_open(relid, AccessShareLock);
		Jsonb *columns = ColumnsSnapshot(rel);
		table_close(rel, AccessShareLock);
		if (registered)
			RegistryUpdate(relid, name, columns);
		else
			RegistryInsert(relid, name, baseline, columns);
		SpoolEvent(oids, "TRACK", name, NULL, NULL, NULL, TrackDetails(baseline), 's');
		if (baseline)
			(void) SpoolBaseline(oids, relid, name);
		newly = true;
	}
	PG_RETURN_BOOL(newly);
}

// untrack(target regclass) RETURNS boolean
Datum
audit_chain_untrack(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	const CatalogOids *oids = GetCatalogOids(false);
	CheckMayTrack(relid, "untrack");
	LockRelationOid(relid, ShareRowExclusiveLock);
	CheckMayTrack(relid, "untrack");

	bool was = HasTrigger(relid, kRowTrigger);
	untracking = true;  // reset at transaction end too (see AtEndOfTransaction)
	if (was)
		RunAsOwner(relid, psprintf("DROP TRIGGER %s ON %s", kRowTrigger, QualifiedRelationName(relid)));
	List *rels = list_make1_oid(relid);
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		rels = find_all_inheritors(relid, ShareRowExclusiveLock, NULL);
	ListCell *lc;
	foreach (lc, rels)
		if (HasTrigger(lfirst_oid(lc), kTruncateTrigger))
			RunAsOwner(lfirst_oid(lc), psprintf("DROP TRIGGER %s ON %s", kTruncateTrigger, QualifiedRelationName(lfirst_oid(lc))));
	untracking = false;
	RegistryEntry entry;
	if (RegistryGet(relid, &entry)) {
		RegistryDelete(relid);
		was = true;
	}
	if (was)
		SpoolEvent(oids, "UNTRACK", QualifiedRelationName(relid), NULL, NULL, NULL, NULL, 's');
	PG_RETURN_BOOL(was);
}

// ddl_command_end: new or attached partitions of tracked tables get the TRUNCATE trigger;
// column changes and renames of tracked tables are recorded as events.
Datum
audit_chain_on_ddl_command_end(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.on_ddl_command_end() can only be called as an event trigger")));
	EventTriggerData *trigdata = (EventTriggerData *) fcinfo->context;
	const CatalogOids *oids = GetCatalogOids(true);
	if (oids == NULL)
		PG_RETURN_VOID();

	if (trigdata->tag == CMDTAG_ALTER_TRIGGER) {
		RecordTriggerRename(oids, trigdata->parsetree);
		PG_RETURN_VOID();
	}
	if (trigdata->tag == CMDTAG_ALTER_TABLE) {
		RecordTriggerToggles(oids, trigdata->parsetree);
		FollowPartitionChanges(trigdata->parsetree);
	}
	// A renamed schema renames every table in it.
	List *touched = trigdata->tag == CMDTAG_ALTER_SCHEMA ? RegistryRelids() : TouchedRelations();
	bool partitions_changed = ChangesPartitions(trigdata->parsetree);
	ListCell *lc;
	foreach (lc, touched) {
		Oid relid = lfirst_oid(lc);
		char kind = get_rel_relkind(relid);
		if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
			continue;
		if (get_rel_relispartition(relid)) {
			ListCell *a;
			foreach (a, get_partition_ancestors(relid))
				if (HasTrigger(lfirst_oid(a), kRowTrigger)) {
					CreateTruncateTrigger(relid);
					break;
				}
		}
		RecordSchemaChange(oids, relid, partitions_changed);
	}
	PG_RETURN_VOID();
}

// sql_drop: a dropped tracked table leaves an event and leaves the registry.
Datum
audit_chain_on_sql_drop(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.on_sql_drop() can only be called as an event trigger")));
	const CatalogOids *oids = GetCatalogOids(true);
	if (oids == NULL)
		PG_RETURN_VOID();  // the extension itself is being dropped
	// The lists below must outlive SPI_finish(), which frees everything allocated in SPI's
	// context: they are built in the caller's.
	MemoryContext caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	int rc = SPI_execute("SELECT objid FROM pg_catalog.pg_event_trigger_dropped_objects() "
						 "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
						 "AND objsubid OPERATOR(pg_catalog.=) 0",
						 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %d", rc);
	List *candidates = NIL;
	MemoryContext spi = MemoryContextSwitchTo(caller);
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		candidates = lappend_oid(candidates,
								 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
	}
	MemoryContextSwitchTo(spi);
	// Capture triggers dropped by hand (not by untrack(), not with their table).
	List *trigger_tables = NIL;
	if (!untracking) {
		rc = SPI_execute("SELECT address_names[1], address_names[2], address_names[3] "
						 "FROM pg_catalog.pg_event_trigger_dropped_objects() "
						 "WHERE object_type OPERATOR(pg_catalog.=) 'trigger' AND original",
						 true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %d", rc);
		for (uint64 i = 0; i < SPI_processed; i++) {
			char *schema = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			char *table = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
			char *trigger = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
			if (schema == NULL || table == NULL || !IsCaptureTrigger(trigger))
				continue;
			Oid nsp = get_namespace_oid(schema, true);
			Oid relid = OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;
			if (OidIsValid(relid)) {
				spi = MemoryContextSwitchTo(caller);
				trigger_tables = lappend(trigger_tables, list_make2(makeInteger((int) relid), pstrdup(trigger)));
				MemoryContextSwitchTo(spi);
			}
		}
	}
	SPI_finish();
	ListCell *tc;
	foreach (tc, trigger_tables) {
		Oid relid = (Oid) intVal(linitial((List *) lfirst(tc)));
		char *trigger = (char *) lsecond((List *) lfirst(tc));
		Oid root = TrackedTableOf(relid);
		if (!OidIsValid(root))
			continue;
		StringInfoData json;
		initStringInfo(&json);
		appendStringInfo(&json, "{\"trigger\": \"%s\", \"table\": ", trigger);
		escape_json(&json, QualifiedRelationName(relid));
		appendStringInfoChar(&json, '}');
		SpoolEvent(oids, "DROP TRIGGER", QualifiedRelationName(root), NULL, NULL, NULL,
				   DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data))), 's');
	}
	List *dropped = NIL, *names = NIL;
	ListCell *lc;
	foreach (lc, candidates) {
		RegistryEntry entry;
		if (RegistryGet(lfirst_oid(lc), &entry)) {
			dropped = lappend_oid(dropped, lfirst_oid(lc));
			names = lappend(names, entry.resource_type);
		}
	}
	ListCell *a, *b;
	forboth (a, dropped, b, names) {
		SpoolEvent(oids, "DROP TABLE", (const char *) lfirst(b), NULL, NULL, NULL, NULL, 's');
		RegistryDelete(lfirst_oid(a));
	}
	PG_RETURN_VOID();
}
}
