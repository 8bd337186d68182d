// src/pg/catalog.cpp: lookup of the extension's relations.
#include "pg/catalog.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

namespace {

CatalogOids cached;
bool cached_valid = false;
uint64 generation = 1;

Oid
RelOid(Oid schema, const char *name, bool missing_ok, bool *missing)
{
	Oid oid = get_relname_relid(name, schema);
	if (!OidIsValid(oid)) {
		*missing = true;
		if (!missing_ok)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"audit_chain.%s\" does not exist", name),
					 errhint("Reinstall the extension with DROP EXTENSION and CREATE EXTENSION audit_chain.")));
	}
	return oid;
}

// Fails loudly if a table does not have the layout the C code was written for.
void
CheckLayout(Oid relid, const char *name, const char *const *columns, const Oid *types, int ncolumns)
{
	Relation rel = table_open(relid, AccessShareLock);
	TupleDesc desc = RelationGetDescr(rel);
	bool ok = desc->natts == ncolumns;
	for (int i = 0; ok && i < ncolumns; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ok = !att->attisdropped && strcmp(NameStr(att->attname), columns[i]) == 0 && att->atttypid == types[i];
	}
	table_close(rel, AccessShareLock);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit_chain.%s does not have the expected columns", name),
				 errdetail("The audit tables were altered after installation."),
				 errhint("Restore the original table definition from the extension script.")));
}

void
CheckLayouts(const CatalogOids &c)
{
	static const char *const events_cols[] = {"seq", "commit_seq", "xid", "committed_at", "event_time", "context_id",
											  "event_id", "chain_id", "resource_ref", "outcome", "action", "resource_id",
											  "old_data", "new_data", "details", "salt", "hash", "erasure"};
	static const Oid events_types[] = {INT8OID, INT8OID, XID8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID,
									   UUIDOID, INT4OID, INT4OID, CHAROID, TEXTOID, TEXTOID,
									   JSONBOID, JSONBOID, JSONBOID, BYTEAOID, BYTEAOID, JSONBOID};
	static const char *const contexts_cols[] = {"context_id", "actor_id", "actor_type", "session_user_name",
												"current_user_name", "client_addr", "application_name",
												"user_agent", "request_id", "session_id", "reason", "privileged",
												"salt", "erasure"};
	static const Oid contexts_types[] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INETOID,
										 TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID,
										 BYTEAOID, JSONBOID};
	static const char *const resources_cols[] = {"resource_ref", "resource_type"};
	static const Oid resources_types[] = {INT4OID, TEXTOID};

	static_assert(lengthof(events_cols) == kEvNumAttrs && lengthof(events_types) == kEvNumAttrs);
	static_assert(lengthof(contexts_cols) == kCtxNumAttrs && lengthof(contexts_types) == kCtxNumAttrs);
	static_assert(lengthof(resources_cols) == kResNumAttrs && lengthof(resources_types) == kResNumAttrs);

	CheckLayout(c.events, "events", events_cols, events_types, kEvNumAttrs);
	CheckLayout(c.contexts, "contexts", contexts_cols, contexts_types, kCtxNumAttrs);
	CheckLayout(c.resources, "resources", resources_cols, resources_types, kResNumAttrs);
}

}  // namespace

const CatalogOids *
GetCatalogOids(bool missing_ok)
{
	if (cached_valid)
		return &cached;

	CatalogOids c;
	bool missing = false;
	c.schema = get_namespace_oid("audit_chain", true);
	if (!OidIsValid(c.schema)) {
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"audit_chain\" does not exist"),
				 errhint("Run CREATE EXTENSION audit_chain in this database.")));
	}
	c.ledger = RelOid(c.schema, "ledger", missing_ok, &missing);
	c.ledger_pkey = RelOid(c.schema, "ledger_pkey", missing_ok, &missing);
	c.events = RelOid(c.schema, "events", missing_ok, &missing);
	c.events_pkey = RelOid(c.schema, "events_pkey", missing_ok, &missing);
	c.contexts = RelOid(c.schema, "contexts", missing_ok, &missing);
	c.contexts_pkey = RelOid(c.schema, "contexts_pkey", missing_ok, &missing);
	c.resources = RelOid(c.schema, "resources", missing_ok, &missing);
	c.resources_pkey = RelOid(c.schema, "resources_pkey", missing_ok, &missing);
	c.resources_type_idx = RelOid(c.schema, "resources_resource_type_idx", missing_ok, &missing);
	c.commit_seq = RelOid(c.schema, "commit_seq", missing_ok, &missing);
	c.context_id_seq = RelOid(c.schema, "context_id_seq", missing_ok, &missing);
	c.resource_ref_seq = RelOid(c.schema, "resource_ref_seq", missing_ok, &missing);
	if (missing)
		return NULL;

	CheckLayouts(c);
	cached = c;
	cached_valid = true;
	return &cached;
}

void
CatalogInvalidate(Oid relid)
{
	if (!cached_valid)
		return;
	if (!OidIsValid(relid) || relid == cached.ledger || relid == cached.events || relid == cached.contexts ||
		relid == cached.resources || relid == cached.commit_seq || relid == cached.context_id_seq ||
		relid == cached.resource_ref_seq || relid == cached.events_pkey || relid == cached.contexts_pkey ||
		relid == cached.resources_pkey || relid == cached.resources_type_idx || relid == cached.ledger_pkey) {
		cached_valid = false;
		generation++;
	}
}

uint64
CatalogGeneration(void)
{
	return generation;
}

}  // namespace audit_chain::pg
