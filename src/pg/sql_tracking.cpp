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
#include "pg/table_schema.hpp"

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
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
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

using namespace audit_chain::pg;

namespace {

constexpr char kRowTrigger[] = "audit_chain_capture";
constexpr char kTruncateTrigger[] = "audit_chain_capture_truncate";

char *
QualifiedName(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
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
								   kTruncateTrigger, QualifiedName(relid)));
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
	char *name = QualifiedName(relid);
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
		if (!isnull)
			relids = lappend_oid(relids, relid);
	}
	SPI_finish();
	return relids;
}

}  // namespace

extern "C" {

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
	// Keeps writers out while the triggers are created and the rows are recorded, so no
	// change falls between the baseline and the first captured event.
	LockRelationOid(relid, ShareRowExclusiveLock);
	CheckTrackable(relid, oids);
	CheckMayTrack(relid, "track");

	bool newly = !HasTrigger(relid, kRowTrigger);
	if (newly)
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   kRowTrigger, QualifiedName(relid)));
	CreateTruncateTrigger(relid);
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
		ListCell *lc;
		foreach (lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
			if (lfirst_oid(lc) != relid && get_rel_relkind(lfirst_oid(lc)) != RELKIND_FOREIGN_TABLE)
				CreateTruncateTrigger(lfirst_oid(lc));
	}

	RegistryEntry entry;
	if (!RegistryGet(relid, &entry)) {
		char *name = QualifiedName(relid);
		Relation rel = table_open(relid, AccessShareLock);
		Jsonb *columns = ColumnsSnapshot(rel);
		table_close(rel, AccessShareLock);
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
	LockRelationOid(relid, ShareRowExclusiveLock);
	CheckMayTrack(relid, "untrack");

	bool was = HasTrigger(relid, kRowTrigger);
	if (was)
		RunAsOwner(relid, psprintf("DROP TRIGGER %s ON %s", kRowTrigger, QualifiedName(relid)));
	List *rels = list_make1_oid(relid);
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		rels = find_all_inheritors(relid, ShareRowExclusiveLock, NULL);
	ListCell *lc;
	foreach (lc, rels)
		if (HasTrigger(lfirst_oid(lc), kTruncateTrigger))
			RunAsOwner(lfirst_oid(lc), psprintf("DROP TRIGGER %s ON %s", kTruncateTrigger, QualifiedName(lfirst_oid(lc))));
	RegistryEntry entry;
	if (RegistryGet(relid, &entry)) {
		RegistryDelete(relid);
		was = true;
	}
	if (was)
		SpoolEvent(oids, "UNTRACK", QualifiedName(relid), NULL, NULL, NULL, NULL, 's');
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
		candidates = lappend_oid(candidates,
								 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
	}
	SPI_finish();
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
