// src/pg/guard.cpp: audit_chain.refuse_change(), the append-only guard of the audit tables.
//
// Fired BEFORE UPDATE, DELETE and TRUNCATE on the audit tables, for every role. A superuser
// can still get around it (disable triggers, session_replication_role = replica): what is
// then changed is caught by verify(), since every stored field is covered by the chain.
#include "pg/guard.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"
}

namespace audit_chain::pg {

namespace {

// Nesting level of the (sub)transaction that let the extension's own writes through, 0 when
// nothing is let through. An error inside that (sub)transaction may skip the code that would
// close the window; its abort closes it instead (GuardAtSubAbort), even when the outer
// transaction goes on after ROLLBACK TO SAVEPOINT.
int allow_audit_updates_level = 0;
int allow_registry_writes_level = 0;

int
LevelFor(bool allow)
{
	return allow ? GetCurrentTransactionNestLevel() : 0;
}

}  // namespace

void
AllowRegistryWrites(bool allow)
{
	allow_registry_writes_level = LevelFor(allow);
}

void
AllowAuditUpdates(bool allow)
{
	allow_audit_updates_level = LevelFor(allow);
}

bool
AuditUpdatesAllowed(void)
{
	return allow_audit_updates_level > 0;
}

bool
RegistryWritesAllowed(void)
{
	return allow_registry_writes_level > 0;
}

void
GuardAtSubAbort(void)
{
	int level = GetCurrentTransactionNestLevel();
	if (allow_audit_updates_level >= level)
		allow_audit_updates_level = 0;
	if (allow_registry_writes_level >= level)
		allow_registry_writes_level = 0;
}

}  // namespace audit_chain::pg

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_refuse_change);

Datum
audit_chain_refuse_change(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_chain.refuse_change() can only be called as a trigger")));
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *table = RelationGetRelationName(td->tg_relation);
	if (audit_chain::pg::AuditUpdatesAllowed() && TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		(strcmp(table, "events") == 0 || strcmp(table, "contexts") == 0))
		return PointerGetDatum(NULL);  // erase() rewriting erased values (see sql_erase.cpp)
	if (audit_chain::pg::RegistryWritesAllowed() && strcmp(table, "tracked_tables") == 0)
		return PointerGetDatum(NULL);  // track(), configure(), DDL handling (see registry.cpp)
	const char *what = TRIGGER_FIRED_BY_UPDATE(td->tg_event)	  ? "UPDATE"
					   : TRIGGER_FIRED_BY_DELETE(td->tg_event)	  ? "DELETE"
					   : TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ? "TRUNCATE"
																  : "INSERT";
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s of audit_chain.%s is not allowed", what, RelationGetRelationName(td->tg_relation)),
			 errdetail("The audit trail is append-only."),
			 errhint("Events are written by tracked tables and audit_chain functions only.")));
	PG_RETURN_NULL();
}
}
