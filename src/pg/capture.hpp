// src/pg/capture.hpp: turning a change into a spooled event.
#pragma once

extern "C" {
#include "postgres.h"
#include "commands/trigger.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// Spools one event of the current transaction with the current context. Shared by row
// capture, TRUNCATE capture and application events (log_event). Returns its event_id.
pg_uuid_t SpoolEvent(const CatalogOids *oids, const char *action, const char *resource_type, text *resource_id,
				Jsonb *old_data, Jsonb *new_data, Jsonb *details, char outcome);

// The TRUNCATE trigger's work (see capture.cpp).
void CaptureTruncate(const CatalogOids *oids, TriggerData *td);

// Forgets per-transaction capture state (tables truncated by the current command).
void CaptureAtEndOfTransaction(void);

}  // namespace audit_chain::pg
