// src/pg/guc.cpp: definitions and validation of the audit_chain.* settings.
//
// Context values are validated when they are SET, so a malformed value fails the SET with
// a clear error instead of producing a broken event later.
#include "pg/guc.hpp"

#include <sys/socket.h>

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"
}

namespace audit_chain::pg {

int guc_chain_count = 16;
char *guc_actor_id = NULL;
char *guc_actor_type = NULL;
char *guc_client_addr = NULL;
char *guc_user_agent = NULL;
char *guc_request_id = NULL;
char *guc_session_id = NULL;
char *guc_reason = NULL;
uint64 context_settings_generation = 0;
char *guc_hmac_key = NULL;
char *guc_sensitive_columns = NULL;
uint64 policy_settings_generation = 0;

namespace {

constexpr int kMaxContextLength = 1024;

bool
IsEmpty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

bool
CheckLength(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) > kMaxContextLength) {
		GUC_check_errdetail("Context values are limited to %d bytes.", kMaxContextLength);
		return false;
	}
	return true;
}

bool
CheckActorType(char **newval, void **extra, GucSource source)
{
	static const char *const allowed[] = {"user", "service", "system", "admin"};
	if (IsEmpty(*newval))
		return true;
	for (const char *a : allowed)
		if (strcmp(*newval, a) == 0)
			return true;
	GUC_check_errdetail("actor_type must be one of user, service, system, admin.");
	return false;
}

// One host's address, as inet reads it (the family chosen as inet_in() chooses it). A value
// with a netmask names a network, not where a request came from: refused, except the mask
// of a single host (/32, /128), which inet drops.
bool
CheckClientAddr(char **newval, void **extra, GucSource source)
{
	if (IsEmpty(*newval))
		return true;
	unsigned char buf[16];
	bool v6 = strchr(*newval, ':') != NULL;
	int max_bits = v6 ? 128 : 32;
	int bits = pg_inet_net_pton(v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET, *newval, buf, -1);
	if (bits < 0 || bits > max_bits) {
		GUC_check_errdetail("\"%s\" is not a valid IPv4 or IPv6 address.", *newval);
		return false;
	}
	if (bits != max_bits) {
		GUC_check_errdetail("\"%s\" is a network (/%d), not one host's address.", *newval, bits);
		return false;
	}
	return true;
}

// The HMAC key must not be stored where other roles can read it: ALTER ROLE/DATABASE SET
// (pg_db_role_setting) and a function's SET clause (pg_proc.proconfig) are readable by every
// role. Such a value is refused when stored (PGC_S_TEST) and ignored when a session applies
// one stored before audit_chain was loaded. The message never shows the value (PostgreSQL's
// default one would, also to the ordinary role whose session applies it).
bool
CheckHmacKey(char **newval, void **extra, GucSource source)
{
	if (IsEmpty(*newval))
		return true;
	if (source != PGC_S_TEST && source != PGC_S_GLOBAL && source != PGC_S_DATABASE && source != PGC_S_USER &&
		source != PGC_S_DATABASE_USER)
		return true;
	GUC_check_errmsg("audit_chain.hmac_key cannot be set per role, per database or per function");
	GUC_check_errdetail("Those settings are stored in catalogs that every role can read.");
	GUC_check_errhint("Set it in postgresql.conf or with ALTER SYSTEM SET audit_chain.hmac_key.");
	return false;
}

// A context setting given an invalid value before the library was loaded: PostgreSQL keeps
// such a value as a placeholder and, when the library defines the setting, drops it with a
// WARNING. Events must not silently fall back to defaults, so capture refuses until the
// setting is set again.
char rejected_placeholder[256] = "";
char rejected_name[64] = "";
bool defining = false;

// Setting the rejected setting again (after the library is loaded) lifts the refusal.
void
SettingChanged(const char *name)
{
	context_settings_generation++;
	if (!defining && strcmp(rejected_name, name) == 0) {
		rejected_placeholder[0] = '\0';
		rejected_name[0] = '\0';
	}
}

#define ASSIGN_HOOK(fn, setting) \
	void fn(const char *newval, void *extra) { SettingChanged(setting); }
ASSIGN_HOOK(ActorIdChanged, "audit_chain.actor_id")
ASSIGN_HOOK(ActorTypeChanged, "audit_chain.actor_type")
ASSIGN_HOOK(ClientAddrChanged, "audit_chain.client_addr")
ASSIGN_HOOK(UserAgentChanged, "audit_chain.user_agent")
ASSIGN_HOOK(RequestIdChanged, "audit_chain.request_id")
ASSIGN_HOOK(SessionIdChanged, "audit_chain.session_id")
ASSIGN_HOOK(ReasonChanged, "audit_chain.reason")
#undef ASSIGN_HOOK

typedef bool (*Validator)(char **newval, void **extra, GucSource source);

void
NoteInvalidPlaceholder(const char *name, const char *value, Validator check)
{
	if (value == NULL || check == NULL)
		return;
	char *copy = pstrdup(value);
	void *extra = NULL;
	if (!check(&copy, &extra, PGC_S_SESSION)) {
		snprintf(rejected_placeholder, sizeof(rejected_placeholder), "%s = '%s'", name, value);
		snprintf(rejected_name, sizeof(rejected_name), "%s", name);
	}
}

void
BumpPolicyGeneration(const char *newval, void *extra)
{
	policy_settings_generation++;
}

void
DefineContextString(const char *name, const char *description, char **var, GucStringCheckHook check,
					GucStringAssignHook assign)
{
	const char *placeholder = GetConfigOption(name, true, false);
	char *before = placeholder != NULL ? pstrdup(placeholder) : NULL;
	defining = true;
	DefineCustomStringVariable(name, description, NULL, var, "", PGC_USERSET, 0, check, assign, NULL);
	defining = false;
	NoteInvalidPlaceholder(name, before, check);
}

}  // namespace

void
CheckNoRejectedContext(void)
{
	if (rejected_placeholder[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit context setting %s", rejected_placeholder),
				 errdetail("The value was set before audit_chain was loaded in this session, and was rejected when "
						   "it loaded."),
				 errhint("Set it again to a valid value, or use audit_chain.set_context().")));
}

void
DefineSettings(void)
{
	DefineCustomIntVariable("audit_chain.chains",
							"Number of independent hash chains that concurrent commits spread over.",
							"A commit holds one chain while it writes its events; more chains let more "
							"audited transactions commit at the same time.",
							&guc_chain_count, 16, 1, 1024, PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineContextString("audit_chain.actor_id", "Application-level identity of whoever causes the changes.",
						&guc_actor_id, CheckLength, ActorIdChanged);
	DefineContextString("audit_chain.actor_type", "Kind of actor: user, service, system or admin.", &guc_actor_type,
						CheckActorType, ActorTypeChanged);
	DefineContextString("audit_chain.client_addr", "Address of the end user (e.g. behind a proxy).",
						&guc_client_addr, CheckClientAddr, ClientAddrChanged);
	DefineContextString("audit_chain.user_agent", "User agent of the end user.", &guc_user_agent, CheckLength, UserAgentChanged);
	DefineContextString("audit_chain.request_id", "Application request identifier.", &guc_request_id, CheckLength, RequestIdChanged);
	DefineContextString("audit_chain.session_id", "Application session identifier.", &guc_session_id, CheckLength, SessionIdChanged);
	DefineContextString("audit_chain.reason", "Why the change is made (ticket, justification).", &guc_reason,
						CheckLength, ReasonChanged);

	DefineCustomStringVariable("audit_chain.hmac_key",
							   "Secret key of columns recorded as keyed hashes (HMAC-SHA256).",
							   "Set it in postgresql.conf or with ALTER SYSTEM; only superusers can read it.",
							   &guc_hmac_key, "", PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   CheckHmacKey, BumpPolicyGeneration, NULL);
	DefineCustomStringVariable("audit_chain.sensitive_columns",
							   "Column names whose values are redacted unless a table's settings say otherwise.",
							   "A comma-separated list, compared without regard to case.",
							   &guc_sensitive_columns,
							   "password,password_hash,passwd,secret,client_secret,token,access_token,refresh_token,"
							   "api_key,apikey,private_key,ssn,social_security_number,credit_card,credit_card_number,"
							   "card_number,cvv,cvc,pin",
							   PGC_SUSET, GUC_LIST_INPUT, NULL, BumpPolicyGeneration, NULL);

	MarkGUCPrefixReserved("audit_chain");
}

}  // namespace audit_chain::pg
