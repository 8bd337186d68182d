// src/pg/sql_tracking.cpp: audit_chain.track(), audit_chain.untrack() and the event trigger
// that extends tracking to new partitions.
//
// Tracking is two triggers on the table: audit_chain_capture (AFTER INSERT OR UPDATE OR
// DELETE FOR EACH ROW; PostgreSQL clones it to every partition, present and future) and
// audit_chain_capture_truncate (AFTER TRUNCATE FOR EACH STATEMENT; created on the table and
// each of its partitions, since statement triggers are not cloned). The DDL runs as the
// table's owner, after checking that the caller owns the table or is audit_chain_admin.
#include "pg/capture.hpp"
#include "pg/catalog.hpp"

extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
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
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

#include "pg/row_writer.hpp"

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
	Oid owner;
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
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
		RunAsOwner(relid, psprintf("CREATE TRIGGER %s AFTER TRUNCATE ON %s FOR EACH STATEMENT "
								   "EXECUTE FUNCTION audit_chain.capture()",
								   kTruncateTrigger, QualifiedName(relid)));
}

// The registry row of relid, or an invalid tid.
bool
FindRegistryRow(Relation registry, Oid relid, ItemPointer tid)
{
	Oid pkey = get_relname_relid("tracked_tables_pkey", RelationGetNamespace(registry));
	ScanKeyData key;
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc scan = systable_beginscan(registry, pkey, true, snapshot, 1, &key);
	HeapTuple tuple = systable_getnext(scan);
	bool found = HeapTupleIsValid(tuple);
	if (found)
		*tid = tuple->t_self;
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	return found;
}

void
Register(const CatalogOids *oids, Oid relid)
{
	Oid registry_oid = get_relname_relid("tracked_tables", oids->schema);
	Relation registry = table_open(registry_oid, RowExclusiveLock);
	ItemPointerData tid;
	bool found = FindRegistryRow(registry, relid, &tid);
	table_close(registry, NoLock);
	if (found)
		return;
	RowWriter writer;
	RowWriterOpen(&writer, registry_oid, 1);
	TupleTableSlot *slot = RowWriterSlot(&writer);
	slot->tts_values[0] = ObjectIdGetDatum(relid);
	slot->tts_values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	slot->tts_values[2] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	slot->tts_values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	memset(slot->tts_isnull, 0, sizeof(bool) * 4);
	RowWriterAdd(&writer);
	RowWriterClose(&writer);
}

void
Unregister(const CatalogOids *oids, Oid relid)
{
	Oid registry_oid = get_relname_relid("tracked_tables", oids->schema);
	Relation registry = table_open(registry_oid, RowExclusiveLock);
	ItemPointerData tid;
	if (FindRegistryRow(registry, relid, &tid))
		simple_heap_delete(registry, &tid);
	table_close(registry, NoLock);
}

void
LogTrackingEvent(const CatalogOids *oids, const char *action, Oid relid)
{
	SpoolEvent(oids, action, QualifiedName(relid), NULL, NULL, NULL, NULL, 's');
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_track);
PG_FUNCTION_INFO_V1(audit_chain_untrack);
PG_FUNCTION_INFO_V1(audit_chain_on_ddl_command_end);

Datum
audit_chain_track(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	const CatalogOids *oids = GetCatalogOids(false);
	// Serialises track/untrack of one table, and DML on it while triggers are created.
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
	Register(oids, relid);
	if (newly)
		LogTrackingEvent(oids, "TRACK", relid);
	PG_RETURN_BOOL(newly);
}

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
	Unregister(oids, relid);
	if (was)
		LogTrackingEvent(oids, "UNTRACK", relid);
	PG_RETURN_BOOL(was);
}

// ddl_command_end for CREATE TABLE / ALTER TABLE: a new or attached partition of a tracked
// table gets the TRUNCATE trigger.
Datum
audit_chain_on_ddl_command_end(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.on_ddl_command_end() can only be called as an event trigger")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	int rc = SPI_execute("SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands() "
						 "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass",
						 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %d", rc);
	List *partitions = NIL;
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		Oid relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull || !get_rel_relispartition(relid))
			continue;
		char kind = get_rel_relkind(relid);
		if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
			continue;
		ListCell *lc;
		foreach (lc, get_partition_ancestors(relid))
			if (HasTrigger(lfirst_oid(lc), kRowTrigger)) {
				partitions = lappend_oid(partitions, relid);
				break;
			}
	}
	SPI_finish();
	ListCell *lc;
	foreach (lc, partitions)
		CreateTruncateTrigger(lfirst_oid(lc));
	PG_RETURN_VOID();
}
}
