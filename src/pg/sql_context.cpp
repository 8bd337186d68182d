// src/pg/sql_context.cpp: audit_chain.set_context() and audit_chain.log_event().
#include "pg/capture.hpp"
#include "pg/catalog.hpp"
#include "pg/jsonb_util.hpp"
#include "pg/row_image.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

using namespace audit_chain::pg;

namespace {

// Actions that only the extension itself records (row changes, tracking, schema changes).
const char *const kReservedActions[] = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "BASELINE", "TRACK", "UNTRACK",
										"ALTER TABLE", "DROP TABLE", "ERASE", "DISABLE TRIGGER", "ENABLE TRIGGER",
										"DROP TRIGGER", "ALTER TRIGGER", "CONFIGURE", "ALTER EXTENSION"};

constexpr int kMaxActionLength = 128;
constexpr int kMaxResourceIdLength = 4096;

char
OutcomeCode(const char *outcome)
{
	if (strcmp(outcome, "success") == 0)
		return 's';
	if (strcmp(outcome, "failure") == 0)
		return 'f';
	if (strcmp(outcome, "denied") == 0)
		return 'd';
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid outcome \"%s\"", outcome),
			 errhint("Use success, failure or denied.")));
	pg_unreachable();
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_set_context);
PG_FUNCTION_INFO_V1(audit_chain_log_event);

// set_context(actor_id, actor_type, client_addr, user_agent, request_id, session_id, reason,
//             is_local boolean DEFAULT true): sets the non-NULL ones, validated as by SET.
Datum
audit_chain_set_context(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"audit_chain.actor_id",   "audit_chain.actor_type", "audit_chain.client_addr",
										"audit_chain.user_agent", "audit_chain.request_id", "audit_chain.session_id",
										"audit_chain.reason"};
	bool is_local = PG_ARGISNULL(7) ? true : PG_GETARG_BOOL(7);
	// Outside a transaction block a transaction-local setting ends with this statement, which
	// is rarely what the caller meant: warn as SET LOCAL does. A function cannot tell whether
	// the statement calling it is the top-level one, so it counts as top-level.
	if (is_local)
		WarnNoTransactionBlock(true, "audit_chain.set_context()");
	for (int i = 0; i < (int) lengthof(names); i++) {
		if (PG_ARGISNULL(i))
			continue;
		char *value = text_to_cstring(PG_GETARG_TEXT_PP(i));
		(void) set_config_option(names[i], value, PGC_USERSET, PGC_S_SESSION,
								 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET, true, 0, false);
	}
	PG_RETURN_VOID();
}

// log_event(action text, resource_type text, resource_id text, outcome text DEFAULT 'success',
//           details jsonb DEFAULT '{}') RETURNS uuid
Datum
audit_chain_log_event(PG_FUNCTION_ARGS)
{
	// Recording an event writes to the audit tables, so a read-only transaction (or a
	// standby) refuses it like any other write, naming this function rather than whichever
	// internal write would fail first.
	PreventCommandIfReadOnly("audit_chain.log_event()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("action and resource_type must not be NULL")));
	char *action = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char *resource_type = text_to_cstring(PG_GETARG_TEXT_PP(1));
	text *resource_id = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_P_COPY(2);
	// An explicit NULL outcome is refused rather than recorded as a success: an event must
	// not claim an outcome its caller did not state.
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("outcome must not be NULL"),
				 errhint("Use success, failure or denied, or leave the argument out for success.")));
	char *outcome = text_to_cstring(PG_GETARG_TEXT_PP(3));
	Jsonb *details = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P_COPY(4);

	if (action[0] == '\0' || strlen(action) > kMaxActionLength)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("action must be between 1 and %d bytes long", kMaxActionLength)));
	for (const char *reserved : kReservedActions)
		if (pg_strcasecmp(action, reserved) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("action \"%s\" is reserved for events recorded by audit_chain itself", action),
					 errhint("Name application events differently, e.g. \"login\" or \"export\".")));
	if (resource_type[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("resource_type must not be empty")));
	if (resource_id != NULL && VARSIZE_ANY_EXHDR(resource_id) > kMaxResourceIdLength)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_id is longer than %d bytes", kMaxResourceIdLength)));
	char code = OutcomeCode(outcome);
	if (details != NULL && (!JB_ROOT_IS_OBJECT(details) || JB_ROOT_IS_SCALAR(details)))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("details must be a JSON object")));
	// "reverts" marks the row changes audit_chain.revert() applies; nobody else may claim it.
	if (details != NULL && JsonbMember(&details->root, "reverts") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("details member \"reverts\" is reserved for events recorded by audit_chain.revert()")));

	const CatalogOids *oids = GetCatalogOids(false);
	pg_uuid_t id = SpoolEvent(oids, action, resource_type, resource_id, NULL, NULL, details, code);
	pg_uuid_t *result = (pg_uuid_t *) palloc(sizeof(pg_uuid_t));
	*result = id;
	PG_RETURN_UUID_P(result);
}
}

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_keyed_hash);

// keyed_hash(value text) RETURNS text
Datum
audit_chain_keyed_hash(PG_FUNCTION_ARGS)
{
	text *value = PG_GETARG_TEXT_PP(0);
	PG_RETURN_TEXT_P(cstring_to_text(KeyedHashOfText(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value))));
}
}
