// src/pg/registry.cpp: reading and writing audit_chain.tracked_tables.
#include "pg/registry.hpp"

#include "pg/catalog.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace audit_chain::pg {

namespace {

Oid
ExtensionOwner()
{
	// The audit_chain schema is created by, and belongs to, the extension's owner.
	const CatalogOids *oids = GetCatalogOids(false);
	HeapTuple tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(oids->schema));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for schema audit_chain");
	Oid owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

struct SavedUser {
	Oid userid;
	int sec_context;
};

// Switches to the extension owner and connects SPI.
SavedUser
EnterAsExtensionOwner()
{
	SavedUser saved;
	GetUserIdAndSecContext(&saved.userid, &saved.sec_context);
	SetUserIdAndSecContext(ExtensionOwner(), saved.sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return saved;
}

void
LeaveAsExtensionOwner(const SavedUser &saved)
{
	SPI_finish();
	SetUserIdAndSecContext(saved.userid, saved.sec_context);
}

}  // namespace

uint64
RunAsExtensionOwner(const char *sql, int nargs, const Oid *types, const Datum *values, const char *nulls,
					bool read_only)
{
	SavedUser saved = EnterAsExtensionOwner();
	AllowRegistryWrites(true);  // the guard lets the extension's own registry changes through
	int rc = SPI_execute_with_args(sql, nargs, const_cast<Oid *>(types), const_cast<Datum *>(values), nulls,
								   read_only, 0);
	AllowRegistryWrites(false);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed (%d) for: %s", rc, sql);
	uint64 processed = SPI_processed;
	LeaveAsExtensionOwner(saved);
	return processed;
}

bool
RegistryGet(Oid relid, RegistryEntry *entry)
{
	Oid types[1] = {OIDOID};
	Datum values[1] = {ObjectIdGetDatum(relid)};
	MemoryContext caller = CurrentMemoryContext;
	SavedUser saved = EnterAsExtensionOwner();
	// Not read-only: a fresh snapshot sees registry changes made earlier in this command.
	int rc = SPI_execute_with_args("SELECT resource_type, baseline, columns, settings FROM audit_chain.tracked_tables "
								   "WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
								   1, types, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %d", rc);
	bool found = SPI_processed == 1;
	if (found) {
		HeapTuple t = SPI_tuptable->vals[0];
		TupleDesc d = SPI_tuptable->tupdesc;
		bool isnull;
		MemoryContext spi = MemoryContextSwitchTo(caller);
		entry->resource_type = TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
		entry->baseline = DatumGetBool(SPI_getbinval(t, d, 2, &isnull));
		entry->columns = DatumGetJsonbPCopy(SPI_getbinval(t, d, 3, &isnull));
		entry->settings = DatumGetJsonbPCopy(SPI_getbinval(t, d, 4, &isnull));
		MemoryContextSwitchTo(spi);
	}
	LeaveAsExtensionOwner(saved);
	return found;
}

List *
RegistryRelids(void)
{
	MemoryContext caller = CurrentMemoryContext;
	SavedUser saved = EnterAsExtensionOwner();
	int rc = SPI_execute("SELECT relid::pg_catalog.oid FROM audit_chain.tracked_tables", false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %d", rc);
	List *relids = NIL;
	MemoryContext spi = MemoryContextSwitchTo(caller);
	for (uint64 i = 0; i < SPI_processed; i++) {
		bool isnull;
		relids = lappend_oid(relids,
							 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
	}
	MemoryContextSwitchTo(spi);
	LeaveAsExtensionOwner(saved);
	return relids;
}

void
RegistryInsert(Oid relid, const char *resource_type, bool baseline, Jsonb *columns)
{
	Oid types[5] = {OIDOID, TEXTOID, TEXTOID, BOOLOID, JSONBOID};
	Datum values[5] = {ObjectIdGetDatum(relid), CStringGetTextDatum(resource_type),
					   CStringGetTextDatum(GetUserNameFromId(GetUserId(), false)), BoolGetDatum(baseline),
					   JsonbPGetDatum(columns)};
	RunAsExtensionOwner("INSERT INTO audit_chain.tracked_tables (relid, resource_type, tracked_at, tracked_by, baseline, "
						"columns) VALUES ($1::pg_catalog.regclass, $2, pg_catalog.now(), $3, $4, $5)",
						5, types, values, NULL, false);
}

void
RegistryUpdate(Oid relid, const char *resource_type, Jsonb *columns)
{
	Oid types[3] = {OIDOID, TEXTOID, JSONBOID};
	Datum values[3] = {ObjectIdGetDatum(relid), CStringGetTextDatum(resource_type), JsonbPGetDatum(columns)};
	RunAsExtensionOwner("UPDATE audit_chain.tracked_tables SET resource_type = $2, columns = $3 "
						"WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						3, types, values, NULL, false);
}

void
RegistrySetSettings(Oid relid, Jsonb *settings)
{
	Oid types[2] = {OIDOID, JSONBOID};
	Datum values[2] = {ObjectIdGetDatum(relid), JsonbPGetDatum(settings)};
	RunAsExtensionOwner("UPDATE audit_chain.tracked_tables SET settings = $2 "
						"WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						2, types, values, NULL, false);
}

void
RegistryDelete(Oid relid)
{
	Oid types[1] = {OIDOID};
	Datum values[1] = {ObjectIdGetDatum(relid)};
	RunAsExtensionOwner("DELETE FROM audit_chain.tracked_tables WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						1, types, values, NULL, false);
}

}  // namespace audit_chain::pg
