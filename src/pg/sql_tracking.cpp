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
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

using namespace audit_chain::pg;

namespace {

constexpr char kRowTrigger[] = "audit_chain_capture";
constexpr char kTruncateTrigger[] = "audit_chain_capture_truncate";

// Set while untrack() drops the triggers itself: its UNTRACK event says it all.
bool untracking = false;

// What a trigger executing audit_chain.capture() captures: one of the two kinds of trigger
// track() creates, or nothing.
enum class CaptureKind : uint8 {
	kNone,      // executes audit_chain.capture() in a way capture() refuses (e.g. FOR EACH STATEMENT ON INSERT)
	kRow,       // FOR EACH ROW: INSERT, UPDATE, DELETE
	kTruncate,  // FOR EACH STATEMENT ON TRUNCATE
};

struct CaptureTrigger {
	char *name;
	CaptureKind kind;
	bool cloned;   // a partition's clone of its parent's trigger: dropped with it, not by itself
	char enabled;  // pg_trigger.tgenabled
};

CaptureKind
KindOf(int16 tgtype)
{
	if (TRIGGER_FOR_ROW(tgtype))
		return CaptureKind::kRow;
	return TRIGGER_FOR_TRUNCATE(tgtype) ? CaptureKind::kTruncate : CaptureKind::kNone;
}

// audit_chain.capture(). Capture triggers are known by the function they execute, not by
// name: ALTER TRIGGER ... RENAME keeps a trigger capturing, and a trigger that merely took
// the name does not capture anything.
Oid
CaptureFunction(const CatalogOids *oids)
{
	Oid fn = GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum("capture"),
							 PointerGetDatum(buildoidvector(NULL, 0)), ObjectIdGetDatum(oids->schema));
	if (!OidIsValid(fn))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function audit_chain.capture() does not exist"),
				 errhint("Reinstall the extension with DROP EXTENSION and CREATE EXTENSION audit_chain.")));
	return fn;
}

// The capture triggers of relid (CaptureTrigger *), including clones of a parent's trigger.
List *
CaptureTriggersOf(Oid relid, Oid capture_fn)
{
	List *result = NIL;
	Relation tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	SysScanDesc scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
		if (form->tgfoid != capture_fn)
			continue;
		CaptureTrigger *t = (CaptureTrigger *) palloc(sizeof(CaptureTrigger));
		t->name = pstrdup(NameStr(form->tgname));
		t->kind = KindOf(form->tgtype);
		t->cloned = OidIsValid(form->tgparentid);
		t->enabled = form->tgenabled;
		result = lappend(result, t);
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return result;
}

// The capture trigger of relid called name, or NULL if that trigger is not a capture trigger.
const CaptureTrigger *
CaptureTriggerNamed(Oid relid, Oid capture_fn, const char *name)
{
	ListCell *lc;
	foreach (lc, CaptureTriggersOf(relid, capture_fn))
		if (strcmp(((CaptureTrigger *) lfirst(lc))->name, name) == 0)
			return (CaptureTrigger *) lfirst(lc);
	return NULL;
}

// The table and function of a trigger dropped by the current transaction. Its catalog row is
// gone for every snapshot, but not from pg_trigger: nothing removes a row version deleted by
// a transaction still in progress. A trigger's table and function never change, so any of
// its row versions tells them.
bool
DroppedTrigger(Oid tgoid, Oid *relid, Oid *fn)
{
	bool found = false;
	Relation tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(tgoid));
	SysScanDesc scan = systable_beginscan(tgrel, TriggerOidIndexId, true, SnapshotAny, 1, &key);
	HeapTuple tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple)) {
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
		*relid = form->tgrelid;
		*fn = form->tgfoid;
		found = true;
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return found;
}

bool
HasCaptureTrigger(Oid relid, Oid capture_fn, CaptureKind kind)
{
	ListCell *lc;
	foreach (lc, CaptureTriggersOf(relid, capture_fn))
		if (((CaptureTrigger *) lfirst(lc))->kind == kind)
			return true;
	return false;
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
CreateTruncateTrigger(Oid relid, Oid capture_fn)
{
	if (!HasCaptureTrigger(relid, capture_fn, CaptureKind::kTruncate))
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s BEFORE TRUNCATE ON %s FOR EACH STATEMENT "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   kTruncateTrigger, QualifiedRelationName(relid)));
}

// Drops the capture triggers of relid that can be dropped by themselves (not clones), of
// every kind or only the TRUNCATE ones; true if a row capture trigger was among them. Their
// DROP TRIGGER records no event: the caller's own event (UNTRACK) says it all.
bool
DropCaptureTriggers(Oid relid, Oid capture_fn, bool truncate_only)
{
	bool dropped_row = false;
	untracking = true;  // reset at transaction end too (see TrackingAtEndOfTransaction)
	ListCell *lc;
	foreach (lc, CaptureTriggersOf(relid, capture_fn)) {
		const CaptureTrigger *t = (const CaptureTrigger *) lfirst(lc);
		if (t->cloned || (truncate_only && t->kind != CaptureKind::kTruncate))
			continue;
		RunAsOwner(relid, psprintf("DROP TRIGGER %s ON %s", quote_identifier(t->name), QualifiedRelationName(relid)));
		dropped_row |= t->kind == CaptureKind::kRow;
	}
	untracking = false;
	return dropped_row;
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

// True if relid's row changes are captured in ordinary sessions: it has a row capture
// trigger, and every capture trigger it has fires there.
bool
CaptureFiresOn(Oid relid, Oid capture_fn)
{
	bool row = false;
	ListCell *lc;
	foreach (lc, CaptureTriggersOf(relid, capture_fn)) {
		const CaptureTrigger *t = (const CaptureTrigger *) lfirst(lc);
		if (t->enabled != TRIGGER_FIRES_ON_ORIGIN && t->enabled != TRIGGER_FIRES_ALWAYS)
			return false;
		row |= t->kind == CaptureKind::kRow;
	}
	return row;
}

// Records the ENABLE/DISABLE TRIGGER subcommands that concern a capture trigger of a
// tracked table (by name, or ALL and USER, which include the capture triggers). ENABLE
// REPLICA TRIGGER turns capture off: the trigger then fires only in sessions with
// session_replication_role = replica, which is what replication apply workers use. Enabling
// capture again re-records the rows (changes made meanwhile were not captured), so time
// travel is complete again from that point; an enabling subcommand that leaves capture off
// (another capture trigger still off, or the row trigger dropped) records nothing.
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
	Oid capture_fn = CaptureFunction(oids);
	ListCell *lc;
	foreach (lc, stmt->cmds) {
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		bool disable = false;
		bool replica_only = false;
		bool always = false;
		const char *which = cmd->name;  // a trigger's name, or ALL or USER (every capture trigger)
		bool named = true;
		switch (cmd->subtype) {
		case AT_DisableTrig:
			disable = true;
			break;
		case AT_EnableReplicaTrig:
			disable = true;
			replica_only = true;
			break;
		case AT_EnableTrig:
			break;
		case AT_EnableAlwaysTrig:
			always = true;
			break;
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			disable = true;
			which = cmd->subtype == AT_DisableTrigAll ? "ALL" : "USER";
			named = false;
			break;
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
			which = cmd->subtype == AT_EnableTrigAll ? "ALL" : "USER";
			named = false;
			break;
		default:
			continue;
		}
		if (named ? CaptureTriggerNamed(relid, capture_fn, which) == NULL : CaptureTriggersOf(relid, capture_fn) == NIL)
			continue;
		if (!disable && !CaptureFiresOn(relid, capture_fn))
			continue;
		JsonbParseState *state = NULL;
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		PushJsonbKey(&state, "trigger");
		PushJsonbString(&state, WJB_VALUE, which);
		PushJsonbKey(&state, "table");
		PushJsonbString(&state, WJB_VALUE, QualifiedRelationName(relid));
		JsonbValue t;
		t.type = jbvBool;
		t.val.boolean = true;
		if (replica_only) {
			PushJsonbKey(&state, "replica_only");
			(void) pushJsonbValue(&state, WJB_VALUE, &t);
		}
		if (always) {
			PushJsonbKey(&state, "always");
			(void) pushJsonbValue(&state, WJB_VALUE, &t);
		}
		if (!disable) {
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

// ALTER TRIGGER ... RENAME of a capture trigger: capture goes on, but tools looking for the
// trigger by name would not find it; record it.
void
RecordTriggerRename(const CatalogOids *oids, Node *parsetree)
{
	if (parsetree == NULL || !IsA(parsetree, RenameStmt))
		return;
	RenameStmt *stmt = (RenameStmt *) parsetree;
	if (stmt->renameType != OBJECT_TRIGGER)
		return;
	Oid relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid root = OidIsValid(relid) ? TrackedTableOf(relid) : InvalidOid;
	if (!OidIsValid(root) || CaptureTriggerNamed(relid, CaptureFunction(oids), stmt->newname) == NULL)
		return;
	StringInfoData json;
	initStringInfo(&json);
	appendStringInfoString(&json, "{\"trigger\": ");
	escape_json(&json, stmt->subname);
	appendStringInfoString(&json, ", \"renamed_to\": ");
	escape_json(&json, stmt->newname);
	appendStringInfoChar(&json, '}');
	Jsonb *details = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
	SpoolEvent(oids, "ALTER TRIGGER", QualifiedRelationName(root), NULL, NULL, NULL, details, 's');
}

// ATTACH PARTITION gives the new partition (and its partitions) the TRUNCATE trigger of its
// tracked ancestor; DETACH PARTITION takes it away from a partition that is no longer part
// of a tracked table (unless it is tracked itself).
void
FollowPartitionChanges(Node *parsetree, Oid capture_fn)
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
			if (attached)
				CreateTruncateTrigger(relid, capture_fn);
			else if (cmd->subtype != AT_AttachPartition && !OidIsValid(TrackedTableOf(relid)))
				DropCaptureTriggers(relid, capture_fn, true);  // not a DROP TRIGGER of a tracked table: no event
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
	List *relids = NIL;
	MemoryContext caller = CurrentMemoryContext;  // SPI_finish frees what SPI's own context holds
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	// objsubid is a column number for column-level commands (RENAME COLUMN): keep those too.
	int rc = SPI_execute("SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands() "
						 "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass",
						 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %d", rc);
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		Oid relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		if (!isnull) {
			MemoryContext spi = MemoryContextSwitchTo(caller);
			relids = lappend_oid(relids, relid);
			MemoryContextSwitchTo(spi);
		}
	}
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
		AttrNumber attnum = get_attnum(relid, name);
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", name, get_rel_name(relid))));
		// ctid, xmin and the like are never part of an event: a policy for them would be
		// accepted and mean nothing.
		if (attnum < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot configure system column \"%s\"", name),
					 errdetail("Only the table's own columns are recorded in events.")));
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

// A key column is recorded in every event's resource_id, where only a keyed hash hides it
// (it cannot be excluded or redacted), so a key column with a default sensitive name is
// refused unless the lists say explicitly how to record it: hashed, or as is.
void
CheckSensitiveKeys(Oid relid, List *key_names, List *hash, List *record)
{
	ListCell *lc;
	foreach (lc, key_names) {
		const char *name = (const char *) lfirst(lc);
		if (InDefaultSensitiveList(name) && !ListHasName(hash, name) && !ListHasName(record, name))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key column \"%s\" of table \"%s\" has a sensitive name", name, get_rel_name(relid)),
					 errdetail("The key is recorded in every event of a row (resource_id); it cannot be redacted."),
					 errhint("Name it in hash => to record its keyed hash, or in record => to record it as is.")));
	}
}

// The key columns' names of a table.
List *
KeyNames(Oid relid)
{
	Relation rel = table_open(relid, AccessShareLock);
	const RelationInfo *info = RelationInfoFor(rel, relid);
	List *key_names = NIL;
	for (int k = 0; k < info->nkeys; k++)
		key_names = lappend(key_names, pstrdup(info->columns[info->key_attnums[k] - 1].name));
	table_close(rel, AccessShareLock);
	return key_names;
}

// The per-column policy lists of configure() and track(), in the order of their arguments.
const char *const kPolicyLists[] = {"exclude", "redact", "hash", "record"};
constexpr int kNumPolicyLists = lengthof(kPolicyLists);

// The settings that result from applying the given lists (NULL: keep the one in current) to
// relid's current settings, validated as a whole.
Jsonb *
ResolvePolicies(Oid relid, Jsonb *current, ArrayType *const given[kNumPolicyLists])
{
	List *names[kNumPolicyLists];
	for (int i = 0; i < kNumPolicyLists; i++)
		names[i] = given[i] == NULL ? SettingsList(current, kPolicyLists[i])
									: ColumnList(given[i], relid, kPolicyLists[i]);

	// A column has one policy; key columns identify rows, so they are recorded or hashed.
	List *key_names = KeyNames(relid);
	for (int i = 0; i < kNumPolicyLists; i++) {
		ListCell *lc;
		foreach (lc, names[i]) {
			const char *name = (const char *) lfirst(lc);
			for (int j = i + 1; j < kNumPolicyLists; j++)
				if (ListHasName(names[j], name))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("column \"%s\" is in both %s and %s", name, kPolicyLists[i], kPolicyLists[j])));
			if (i < 2 && ListHasName(key_names, name))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("key column \"%s\" cannot be %s", name, i == 0 ? "excluded" : "redacted"),
						 errdetail("The key identifies rows in the audit trail; a key column can be hashed instead.")));
		}
	}
	CheckSensitiveKeys(relid, key_names, names[2], names[3]);
	if (names[2] != NIL && (guc_hmac_key == NULL || guc_hmac_key[0] == '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit_chain.hmac_key is not set"),
				 errhint("A superuser sets it in postgresql.conf or with ALTER SYSTEM SET audit_chain.hmac_key.")));

	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < kNumPolicyLists; i++)
		PushNameList(&state, kPolicyLists[i], names[i]);
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

// Stores the settings of a registered table and records them as a CONFIGURE event. Every
// event spooled afterwards, in this backend (baselines included) and in others, follows them.
void
StorePolicies(const CatalogOids *oids, Oid relid, Jsonb *settings)
{
	RegistrySetSettings(relid, settings);
	// Every backend rebuilds its capture policies for this table (and its partitions).
	CacheInvalidateRelcacheByRelid(relid);
	SpoolEvent(oids, "CONFIGURE", QualifiedRelationName(relid), NULL, NULL, NULL, settings, 's');
}

// The policy lists among fcinfo's arguments first .. first + 3 (NULL where not given).
void
PolicyArguments(FunctionCallInfo fcinfo, int first, ArrayType *given[kNumPolicyLists])
{
	for (int i = 0; i < kNumPolicyLists; i++)
		given[i] = PG_ARGISNULL(first + i) ? NULL : PG_GETARG_ARRAYTYPE_P(first + i);
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

	ArrayType *given[kNumPolicyLists];
	PolicyArguments(fcinfo, 1, given);
	Jsonb *settings = ResolvePolicies(relid, entry.settings, given);
	StorePolicies(oids, relid, settings);
	PG_RETURN_JSONB_P(settings);
}

PG_FUNCTION_INFO_V1(audit_chain_track);
PG_FUNCTION_INFO_V1(audit_chain_untrack);
PG_FUNCTION_INFO_V1(audit_chain_on_ddl_command_end);
PG_FUNCTION_INFO_V1(audit_chain_on_sql_drop);

// track(target regclass, baseline boolean DEFAULT true, exclude text[] DEFAULT NULL,
//       redact text[] DEFAULT NULL, hash text[] DEFAULT NULL, record text[] DEFAULT NULL)
//       RETURNS boolean
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
	Oid capture_fn = CaptureFunction(oids);

	// Column policies given here are checked before anything changes and stored before the
	// baseline is recorded, so no value they hide is ever written, not even once.
	ArrayType *given[kNumPolicyLists];
	PolicyArguments(fcinfo, 2, given);
	RegistryEntry entry;
	bool registered = RegistryGet(relid, &entry);
	bool configuring = false;
	for (int i = 0; i < kNumPolicyLists; i++)
		configuring |= given[i] != NULL;
	Jsonb *settings = configuring ? ResolvePolicies(relid, registered ? entry.settings : NULL, given) : NULL;
	if (!configuring && !registered)
		CheckSensitiveKeys(relid, KeyNames(relid), NIL, NIL);

	// Any row capture trigger will do, whatever its name: a second one would record every
	// change twice.
	bool newly = !HasCaptureTrigger(relid, capture_fn, CaptureKind::kRow);
	if (newly)
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   kRowTrigger, QualifiedRelationName(relid)));
	CreateTruncateTrigger(relid, capture_fn);
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
		ListCell *lc;
		foreach (lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
			if (lfirst_oid(lc) != relid && get_rel_relkind(lfirst_oid(lc)) != RELKIND_FOREIGN_TABLE)
				CreateTruncateTrigger(lfirst_oid(lc), capture_fn);
	}

	// A new tracking period starts when the table was not registered, or when its capture
	// trigger had been dropped by hand: capture resumes with a TRACK event and a baseline.
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
		if (settings != NULL)
			StorePolicies(oids, relid, settings);
		if (baseline)
			(void) SpoolBaseline(oids, relid, name);
		newly = true;
	} else if (settings != NULL) {
		StorePolicies(oids, relid, settings);  // already tracked: as configure() would
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

	RegistryEntry entry;
	bool was = RegistryGet(relid, &entry);
	if (was)
		RegistryDelete(relid);
	// The capture triggers are found by their function, so renamed ones go too; the row
	// trigger's clones go with it.
	Oid capture_fn = CaptureFunction(oids);
	was |= DropCaptureTriggers(relid, capture_fn, false);
	// The partitions' own TRUNCATE triggers, unless a partition is still part of a tracked
	// table (tracked itself, or below another tracked ancestor).
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
		ListCell *lc;
		foreach (lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
			if (lfirst_oid(lc) != relid && !OidIsValid(TrackedTableOf(lfirst_oid(lc))))
				(void) DropCaptureTriggers(lfirst_oid(lc), capture_fn, true);
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
	Oid capture_fn = CaptureFunction(oids);
	if (trigdata->tag == CMDTAG_ALTER_TABLE) {
		RecordTriggerToggles(oids, trigdata->parsetree);
		FollowPartitionChanges(trigdata->parsetree, capture_fn);
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
				if (HasCaptureTrigger(lfirst_oid(a), capture_fn, CaptureKind::kRow)) {
					CreateTruncateTrigger(relid, capture_fn);
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
	// The lists outlive SPI_finish, which frees what was allocated in SPI's own context.
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
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		Oid relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext spi = MemoryContextSwitchTo(caller);
		candidates = lappend_oid(candidates, relid);
		MemoryContextSwitchTo(spi);
	}
	// Triggers dropped by hand (not by untrack(), not with their table); whether they were
	// capture triggers is told by their function, not their name (they may have been renamed).
	List *trigger_oids = NIL, *trigger_names = NIL;
	if (!untracking) {
		rc = SPI_execute("SELECT objid, address_names[3] FROM pg_catalog.pg_event_trigger_dropped_objects() "
						 "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass "
						 "AND original",
						 true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %d", rc);
		for (uint64 i = 0; i < SPI_processed; i++) {
			bool isnull;
			Oid tgoid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
			if (name == NULL)
				continue;
			MemoryContext spi = MemoryContextSwitchTo(caller);
			trigger_oids = lappend_oid(trigger_oids, tgoid);
			trigger_names = lappend(trigger_names, pstrdup(name));
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	Oid capture_fn = trigger_oids != NIL ? CaptureFunction(oids) : InvalidOid;
	ListCell *tc, *nc;
	forboth (tc, trigger_oids, nc, trigger_names) {
		Oid relid, fn;
		if (!DroppedTrigger(lfirst_oid(tc), &relid, &fn) || fn != capture_fn)
			continue;
		Oid root = TrackedTableOf(relid);
		if (!OidIsValid(root))
			continue;
		StringInfoData json;
		initStringInfo(&json);
		appendStringInfoString(&json, "{\"trigger\": ");
		escape_json(&json, (const char *) lfirst(nc));
		appendStringInfoString(&json, ", \"table\": ");
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
