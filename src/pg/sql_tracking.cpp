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
#include "access/relation.h"
#include "access/xact.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
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
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
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
	bool every;    // kRow: AFTER INSERT OR UPDATE OR DELETE, without WHEN condition or UPDATE OF columns
	char enabled;  // pg_trigger.tgenabled
};

CaptureKind
KindOf(int16 tgtype)
{
	if (TRIGGER_FOR_ROW(tgtype))
		return CaptureKind::kRow;
	return TRIGGER_FOR_TRUNCATE(tgtype) ? CaptureKind::kTruncate : CaptureKind::kNone;
}

// A row trigger that sees every row change: fired AFTER INSERT, UPDATE and DELETE, with
// neither a WHEN condition nor an UPDATE OF column list. A capture trigger of any other
// shape leaves changes out of the trail.
bool
SeesEveryRowChange(HeapTuple tuple, TupleDesc tgdesc)
{
	Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
	int16 t = form->tgtype;
	return TRIGGER_FOR_ROW(t) && TRIGGER_FOR_AFTER(t) && TRIGGER_FOR_INSERT(t) && TRIGGER_FOR_UPDATE(t) &&
		   TRIGGER_FOR_DELETE(t) && form->tgattr.dim1 == 0 && heap_attisnull(tuple, Anum_pg_trigger_tgqual, tgdesc);
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
		t->every = SeesEveryRowChange(tuple, RelationGetDescr(tgrel));
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
DroppedTrigger(Oid tgoid, Oid *relid, Oid *fn, Oid *parent)
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
		*parent = form->tgparentid;
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

// Refuses what cannot be audited, with a reason per kind of object: by track() (trigger
// false) and when a trigger executing audit_chain.capture() is created (trigger true).
void
CheckAuditable(Oid relid, const CatalogOids *oids, bool trigger)
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
				 trigger ? errmsg("audit_chain.capture() cannot audit %s \"%s\"", what, name)
						 : errmsg("cannot track %s \"%s\"", what, name),
				 trigger ? errdetail("Only tables and partitioned tables can be audited.")
						 : errdetail("Only tables and partitioned tables can be tracked.")));
	}
	if (persistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 trigger ? errmsg("audit_chain.capture() cannot audit temporary table \"%s\"", name)
						 : errmsg("cannot track temporary table \"%s\"", name),
				 errdetail("A temporary table disappears with its session and no other session sees its rows; "
						   "its changes cannot be audited.")));
	if (persistence == RELPERSISTENCE_UNLOGGED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 trigger ? errmsg("audit_chain.capture() cannot audit unlogged table \"%s\"", name)
						 : errmsg("cannot track unlogged table \"%s\"", name),
				 errdetail("A crash empties an unlogged table while its events stay in the trail, which would then "
						   "describe rows that no longer exist."),
				 errhint("Make it a permanent table first with ALTER TABLE ... SET LOGGED.")));
	if (nsp == oids->schema)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 trigger ? errmsg("audit_chain.capture() cannot audit audit_chain's own table \"%s\"", name)
						 : errmsg("cannot track audit_chain's own table \"%s\"", name),
				 errdetail("The audit tables protect themselves and are verified by audit_chain.verify().")));
	if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 trigger ? errmsg("audit_chain.capture() cannot audit system table \"%s\"", name)
						 : errmsg("cannot track system table \"%s\"", name)));
}

void
CheckTrackable(Oid relid, const CatalogOids *oids)
{
	CheckAuditable(relid, oids, false);
}

// A partition of a tracked table must be able to hold audited rows: an unlogged partition
// would lose them in a crash without a trace in the trail. Foreign partitions are allowed:
// changes made through this database are captured (see README, Tracking).
void
CheckAuditablePartition(Oid relid, Oid root)
{
	if (get_rel_persistence(relid) == RELPERSISTENCE_UNLOGGED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 relid == root ? errmsg("tracked table \"%s\" cannot be unlogged", get_rel_name(relid))
							   : errmsg("unlogged table \"%s\" cannot be part of tracked table \"%s\"",
										get_rel_name(relid), get_rel_name(root)),
				 errdetail("A crash empties an unlogged table while its events stay in the trail, which would then "
						   "describe rows that no longer exist.")));
}

// The topmost ancestor of partition relid that has a row capture trigger (hand-made or
// created by track(), registered or not), or InvalidOid.
Oid
CapturingAncestor(Oid relid, Oid capture_fn)
{
	Oid root = InvalidOid;
	if (get_rel_relispartition(relid)) {
		ListCell *lc;
		foreach (lc, get_partition_ancestors(relid))
			if (HasCaptureTrigger(lfirst_oid(lc), capture_fn, CaptureKind::kRow))
				root = lfirst_oid(lc);
	}
	return root;
}

// Refuses a second capture trigger of the same kind as trigger_name on relid (its changes
// would be recorded twice), counting its ancestors' clones and, for a row trigger, the
// partitions' own row capture triggers. trigger_name is NULL for the one track() is about
// to create.
void
CheckSingleCapture(Oid relid, Oid capture_fn, CaptureKind kind, const char *trigger_name)
{
	ListCell *lc;
	foreach (lc, CaptureTriggersOf(relid, capture_fn)) {
		const CaptureTrigger *t = (const CaptureTrigger *) lfirst(lc);
		if (t->kind != kind || (trigger_name != NULL && strcmp(t->name, trigger_name) == 0))
			continue;
		if (t->cloned)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" is a partition of a table whose capture trigger \"%s\" already captures its "
							"changes",
							get_rel_name(relid), t->name),
					 errdetail("Tracking a partitioned table audits all its partitions; its changes would be recorded "
							   "twice.")));
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" already has capture trigger \"%s\"", get_rel_name(relid), t->name),
				 errdetail("Its changes would be recorded twice.")));
	}
	if (kind != CaptureKind::kRow || get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return;
	foreach (lc, find_all_inheritors(relid, NoLock, NULL)) {
		if (lfirst_oid(lc) == relid)
			continue;
		ListCell *tc;
		foreach (tc, CaptureTriggersOf(lfirst_oid(lc), capture_fn)) {
			const CaptureTrigger *t = (const CaptureTrigger *) lfirst(tc);
			if (t->kind == CaptureKind::kRow && !t->cloned)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("partition \"%s\" of \"%s\" has its own capture trigger \"%s\"",
								get_rel_name(lfirst_oid(lc)), get_rel_name(relid), t->name),
						 errdetail("Its changes would be recorded twice."),
						 errhint("Untrack the partition first, or drop that trigger.")));
		}
	}
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

// A name for a new capture trigger of relid: base, or base_2, base_3, ... when another
// trigger has it (on relid or, for a row trigger of a partitioned table, on one of the
// partitions, which get a clone of the same name): e.g. a trigger that took the name of a
// capture trigger dropped or replaced by hand.
const char *
FreeTriggerName(Oid relid, const char *base, bool partitions)
{
	List *rels = partitions && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE
					 ? find_all_inheritors(relid, NoLock, NULL)
					 : list_make1_oid(relid);
	for (int n = 1;; n++) {
		char *name = n == 1 ? pstrdup(base) : psprintf("%s_%d", base, n);
		bool taken = false;
		ListCell *lc;
		foreach (lc, rels)
			taken |= OidIsValid(get_trigger_oid(lfirst_oid(lc), name, true));
		if (!taken)
			return quote_identifier(name);
	}
}

void
CreateTruncateTrigger(Oid relid, Oid capture_fn)
{
	if (!HasCaptureTrigger(relid, capture_fn, CaptureKind::kTruncate))
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s BEFORE TRUNCATE ON %s FOR EACH STATEMENT "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   FreeTriggerName(relid, kTruncateTrigger, false), QualifiedRelationName(relid)));
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
	if (change.details == NULL) {
		// A registration from before key positions were recorded gets them now, so that the
		// next change of the key is seen.
		if (!SnapshotRecordsKey(entry.columns))
			RegistryUpdate(relid, name, columns);
		return;
	}
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
		Oid tracked = cmd->subtype == AT_AttachPartition ? TrackedTableOf(part) : InvalidOid;
		bool attached = OidIsValid(tracked);
		ListCell *rc;
		foreach (rc, rels) {
			Oid relid = lfirst_oid(rc);
			if (attached) {
				// An attached table tracked by itself would have its changes recorded twice.
				ListCell *tc;
				foreach (tc, CaptureTriggersOf(relid, capture_fn)) {
					const CaptureTrigger *t = (const CaptureTrigger *) lfirst(tc);
					if (t->kind == CaptureKind::kRow && !t->cloned)
						ereport(ERROR,
								(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
								 errmsg("table \"%s\" has its own capture trigger \"%s\"", get_rel_name(relid), t->name),
								 errdetail("As a partition of tracked table \"%s\" its changes would be recorded twice.",
										   get_rel_name(tracked)),
								 errhint("Untrack it first, or drop that trigger.")));
				}
				CheckAuditablePartition(relid, tracked);
			}
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

// The trigger relid has under name after CREATE [OR REPLACE] TRIGGER: whether it executes
// capture_fn, its shape, and whether the version it replaced (CREATE OR REPLACE updates the
// trigger's catalog row in place) executed capture_fn, and as what kind of trigger.
struct CreatedTrigger {
	bool found;
	bool captures;
	CaptureKind kind;
	bool every;
	int16 tgtype;
	Oid fn;
	bool replaced_capture;
	CaptureKind replaced_kind;
};

CreatedTrigger
DescribeCreatedTrigger(Oid relid, const char *name, Oid capture_fn)
{
	CreatedTrigger result = {false, false, CaptureKind::kNone, false, 0, InvalidOid, false, CaptureKind::kNone};
	Relation tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum(name));
	SysScanDesc scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 2, keys);
	HeapTuple tuple = systable_getnext(scan);
	Oid tgoid = InvalidOid;
	ItemPointerData current;
	ItemPointerSetInvalid(&current);
	if (HeapTupleIsValid(tuple)) {
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
		result.found = true;
		result.fn = form->tgfoid;
		result.captures = form->tgfoid == capture_fn;
		result.kind = KindOf(form->tgtype);
		result.tgtype = form->tgtype;
		result.every = SeesEveryRowChange(tuple, RelationGetDescr(tgrel));
		tgoid = form->oid;
		current = tuple->t_self;
	}
	systable_endscan(scan);
	if (result.found) {
		// The version this command replaced points to the current one and was updated by this
		// transaction; a trigger's older versions from before are not its predecessor.
		ScanKeyData key;
		ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(tgoid));
		scan = systable_beginscan(tgrel, TriggerOidIndexId, true, SnapshotAny, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
			HeapTupleHeader header = tuple->t_data;
			if (ItemPointerEquals(&tuple->t_self, &current) || !ItemPointerEquals(&header->t_ctid, &current) ||
				(header->t_infomask & HEAP_XMAX_INVALID) != 0 || HEAP_XMAX_IS_LOCKED_ONLY(header->t_infomask) ||
				!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(header)))
				continue;
			Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
			result.replaced_capture = form->tgfoid == capture_fn;
			result.replaced_kind = KindOf(form->tgtype);
		}
		systable_endscan(scan);
	}
	table_close(tgrel, AccessShareLock);
	return result;
}

// CREATE [OR REPLACE] TRIGGER. A trigger executing audit_chain.capture() is checked as
// capture() itself checks when it fires (refused: a BEFORE or INSTEAD OF row trigger, a
// statement trigger on other events than TRUNCATE, a relation that cannot be audited), and
// may not make a table's changes recorded twice nor capture only part of a tracked table's
// changes. Replacing a tracked table's capture trigger by another function turns capture
// off: recorded as DROP TRIGGER.
void
CheckCreatedTrigger(const CatalogOids *oids, Node *parsetree)
{
	if (parsetree == NULL || !IsA(parsetree, CreateTrigStmt))
		return;
	CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;
	Oid relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || stmt->trigname == NULL)
		return;
	Oid capture_fn = CaptureFunction(oids);
	CreatedTrigger t = DescribeCreatedTrigger(relid, stmt->trigname, capture_fn);
	if (!t.found)
		return;
	Oid root = TrackedTableOf(relid);
	bool lost = t.replaced_capture && t.replaced_kind != CaptureKind::kNone && (!t.captures || t.kind != t.replaced_kind);
	if (lost && OidIsValid(root)) {
		JsonbParseState *state = NULL;
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		PushJsonbKey(&state, "trigger");
		PushJsonbString(&state, WJB_VALUE, stmt->trigname);
		PushJsonbKey(&state, "table");
		PushJsonbString(&state, WJB_VALUE, QualifiedRelationName(relid));
		PushJsonbKey(&state, "replaced_by");
		PushJsonbString(&state, WJB_VALUE, format_procedure_qualified(t.fn));
		Jsonb *details = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
		SpoolEvent(oids, "DROP TRIGGER", QualifiedRelationName(root), NULL, NULL, NULL, details, 's');
	}
	if (!t.captures)
		return;

	CheckAuditable(relid, oids, true);
	if (t.kind == CaptureKind::kNone ||
		(!TRIGGER_FOR_ROW(t.tgtype) &&
		 (TRIGGER_FOR_INSERT(t.tgtype) || TRIGGER_FOR_UPDATE(t.tgtype) || TRIGGER_FOR_DELETE(t.tgtype))))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() must be fired FOR EACH ROW for INSERT, UPDATE and DELETE"),
				 errdetail("A statement-level capture trigger may fire on TRUNCATE only."),
				 errhint("Use audit_chain.track(), or CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ... FOR EACH "
						 "ROW.")));
	if (t.kind == CaptureKind::kRow && !TRIGGER_FOR_AFTER(t.tgtype))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.capture() must be fired AFTER the change"),
				 errhint("Use audit_chain.track(), or CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ... FOR EACH "
						 "ROW.")));
	CheckSingleCapture(relid, capture_fn, t.kind, stmt->trigname);
	if (t.kind == CaptureKind::kRow && !t.every && OidIsValid(root))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("capture trigger \"%s\" of tracked table \"%s\" must capture every row change", stmt->trigname,
						get_rel_name(root)),
				 errdetail("A WHEN condition, an UPDATE OF column list or a missing event would leave changes out of "
						   "the trail."),
				 errhint("Fire it AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, or untrack the table first.")));
}

// ALTER EXTENSION audit_chain UPDATE / ADD / DROP: recorded as an ALTER EXTENSION event of
// resource type "audit_chain", with the new version or the object added or dropped.
void
RecordAlterExtension(const CatalogOids *oids, Node *parsetree)
{
	if (parsetree == NULL)
		return;
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (IsA(parsetree, AlterExtensionStmt)) {
		if (strcmp(((AlterExtensionStmt *) parsetree)->extname, "audit_chain") != 0)
			return;
		// The version the command left installed (UPDATE without TO goes to the default one).
		const char *version = "";
		MemoryContext caller = CurrentMemoryContext;  // SPI_finish frees what SPI's own context holds
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		int rc = SPI_execute("SELECT extversion FROM pg_catalog.pg_extension "
							 "WHERE extname OPERATOR(pg_catalog.=) 'audit_chain'",
							 true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %d", rc);
		if (SPI_processed == 1) {
			char *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			if (v != NULL)
				version = MemoryContextStrdup(caller, v);
		}
		SPI_finish();
		PushJsonbKey(&state, "version");
		PushJsonbString(&state, WJB_VALUE, version);
		Jsonb *details = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
		SpoolEvent(oids, "ALTER EXTENSION", "audit_chain", NULL, NULL, NULL, details, 's');
		return;
	}
	if (!IsA(parsetree, AlterExtensionContentsStmt))
		return;
	AlterExtensionContentsStmt *stmt = (AlterExtensionContentsStmt *) parsetree;
	if (strcmp(stmt->extname, "audit_chain") != 0)
		return;
	Relation rel = NULL;
	ObjectAddress address = get_object_address(stmt->objtype, stmt->object, &rel, AccessShareLock, false);
	if (rel != NULL)
		relation_close(rel, NoLock);
	PushJsonbKey(&state, stmt->action > 0 ? "member_added" : "member_dropped");
	PushJsonbString(&state, WJB_VALUE, getObjectDescription(&address, false));
	Jsonb *details = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
	SpoolEvent(oids, "ALTER EXTENSION", "audit_chain", NULL, NULL, NULL, details, 's');
}

// The tracked tables some of whose partitions the current command drops (not the tracked
// tables it drops itself). Each dropped partition held a clone of a capture trigger; its
// chain of parent triggers leads to the first relation that still exists.
List *
TablesLosingPartitions(List *dropped_trigger_oids, Oid capture_fn)
{
	List *roots = NIL;
	ListCell *lc;
	foreach (lc, dropped_trigger_oids) {
		Oid relid, fn, parent;
		if (!DroppedTrigger(lfirst_oid(lc), &relid, &fn, &parent) || fn != capture_fn || !OidIsValid(parent) ||
			SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;  // not a capture trigger, or dropped by itself rather than with its partition
		Oid live = InvalidOid;
		for (int guard = 0; guard < 1000 && OidIsValid(parent); guard++) {
			Oid tgrelid, tgfn, next;
			if (!DroppedTrigger(parent, &tgrelid, &tgfn, &next))
				break;
			if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(tgrelid))) {
				live = tgrelid;
				break;
			}
			parent = next;
		}
		Oid root = OidIsValid(live) ? TrackedTableOf(live) : InvalidOid;
		if (OidIsValid(root))
			roots = list_append_unique_oid(roots, root);
	}
	return roots;
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
	return settings != NULL ? JsonbStringListMember(&settings->root, key) : NIL;
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

	// A partition of a tracked table is tracked already, as part of it: its events name that
	// table, whose column policies apply.
	Oid ancestor = registered ? InvalidOid : CapturingAncestor(relid, capture_fn);
	if (OidIsValid(ancestor)) {
		if (configuring)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot set column policies of partition \"%s\"", get_rel_name(relid)),
					 errdetail("It is tracked as part of \"%s\", whose column policies apply to it.",
							   get_rel_name(ancestor)),
					 errhint("Use audit_chain.configure() on \"%s\".", get_rel_name(ancestor))));
		ereport(NOTICE,
				(errmsg("table \"%s\" is already tracked as a partition of \"%s\"", get_rel_name(relid),
						get_rel_name(ancestor))));
		PG_RETURN_BOOL(false);
	}
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
		ListCell *lc;
		foreach (lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
			CheckAuditablePartition(lfirst_oid(lc), relid);
	}
	Jsonb *settings = configuring ? ResolvePolicies(relid, registered ? entry.settings : NULL, given) : NULL;
	if (!configuring && !registered)
		CheckSensitiveKeys(relid, KeyNames(relid), NIL, NIL);

	// Any row capture trigger will do, whatever its name: a second one would record every
	// change twice. One that leaves changes out (a WHEN condition, UPDATE OF columns, not
	// every event) will not, and cannot be kept beside a second one either.
	ListCell *tc;
	foreach (tc, CaptureTriggersOf(relid, capture_fn)) {
		const CaptureTrigger *t = (const CaptureTrigger *) lfirst(tc);
		if (t->kind == CaptureKind::kRow && !t->every)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("capture trigger \"%s\" of table \"%s\" does not capture every row change", t->name,
							get_rel_name(relid)),
					 errdetail("A tracked table's capture trigger fires AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, "
							   "without WHEN condition or UPDATE OF columns."),
					 errhint("Drop that trigger first.")));
	}
	bool newly = !HasCaptureTrigger(relid, capture_fn, CaptureKind::kRow);
	if (newly)
		CheckSingleCapture(relid, capture_fn, CaptureKind::kRow, NULL);
	if (newly)
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   FreeTriggerName(relid, kRowTrigger, true), QualifiedRelationName(relid)));
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
	if (trigdata->tag == CMDTAG_CREATE_TRIGGER) {
		CheckCreatedTrigger(oids, trigdata->parsetree);
		PG_RETURN_VOID();
	}
	if (trigdata->tag == CMDTAG_ALTER_EXTENSION) {
		RecordAlterExtension(oids, trigdata->parsetree);
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
		// CREATE UNLOGGED TABLE ... PARTITION OF, ALTER TABLE ... SET UNLOGGED.
		Oid tracked = TrackedTableOf(relid);
		if (OidIsValid(tracked))
			CheckAuditablePartition(relid, tracked);
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
	// Every dropped trigger, also those dropped with their table (a dropped partition's clones).
	List *all_trigger_oids = NIL;
	rc = SPI_execute("SELECT objid FROM pg_catalog.pg_event_trigger_dropped_objects() "
					 "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass",
					 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %d", rc);
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		Oid tgoid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext spi = MemoryContextSwitchTo(caller);
		all_trigger_oids = lappend_oid(all_trigger_oids, tgoid);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	Oid capture_fn = trigger_oids != NIL ? CaptureFunction(oids) : InvalidOid;
	ListCell *tc, *nc;
	forboth (tc, trigger_oids, nc, trigger_names) {
		Oid relid, fn, parent;
		if (!DroppedTrigger(lfirst_oid(tc), &relid, &fn, &parent) || fn != capture_fn)
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
	// Partitions dropped from a tracked table take their rows out of it: recorded as a
	// change of its partitions, with its rows recorded again (as DETACH PARTITION is).
	ListCell *lc;
	if (capture_fn == InvalidOid && all_trigger_oids != NIL)
		capture_fn = CaptureFunction(oids);
	foreach (lc, TablesLosingPartitions(all_trigger_oids, capture_fn))
		if (!list_member_oid(candidates, lfirst_oid(lc)))
			RecordSchemaChange(oids, lfirst_oid(lc), true);
	List *dropped = NIL, *names = NIL;
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
