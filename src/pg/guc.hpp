// src/pg/guc.hpp: the audit_chain.* settings.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace audit_chain::pg {

// Number of independent hash chains commits spread over (audit_chain.chains).
extern int guc_chain_count;

// Per-transaction context set by applications (SET LOCAL audit_chain.actor_id = ...).
// NULL or empty means "not set": the event falls back to the session's own facts.
extern char *guc_actor_id;
extern char *guc_actor_type;
extern char *guc_client_addr;
extern char *guc_user_agent;
extern char *guc_request_id;
extern char *guc_session_id;
extern char *guc_reason;

// Key of hashed columns (audit_chain.hmac_key); visible to superusers only.
extern char *guc_hmac_key;

// Column names redacted by default (audit_chain.sensitive_columns), comma-separated.
extern char *guc_sensitive_columns;

// Bumped when audit_chain.sensitive_columns or audit_chain.hmac_key changes, so cached
// capture policies are rebuilt.
extern uint64 policy_settings_generation;

// Bumped whenever one of the context settings changes (including SET LOCAL being undone at
// transaction end), so capture can tell cheaply that its cached context is still current.
extern uint64 context_settings_generation;

void DefineSettings(void);

// Errors if a context setting's value was rejected when the library loaded (see guc.cpp).
void CheckNoRejectedContext(void);

}  // namespace audit_chain::pg
