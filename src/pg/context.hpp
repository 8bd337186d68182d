// src/pg/context.hpp: who/where/why of events, interned in audit_chain.contexts.
//
// The context of an event is the application's settings (audit_chain.actor_id, ...) with
// fallbacks to the session's own facts (session_user, client address, application_name).
// While it does not change, all events of a session share one contexts row; a new row is
// written, in the same transaction as the events, when it does change.
#pragma once

#include "core/views.hpp"

extern "C" {
#include "postgres.h"
#include "utils/snapshot.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// The context_id for the current settings, creating the contexts row if needed.
int64 InternCurrentContext(const CatalogOids *oids);

// Hash of a contexts row (src/core/event_encoding.hpp, HashContext) from its datums.
core::Hash ContextHashFromRow(const Datum *values, const bool *nulls);

// Hash of the contexts row context_id as seen by snapshot; false if there is no such row.
bool ReadContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash);

// For writing events: the hash this session computed when it created the row, else read
// as ReadContextHash does. (Verification never uses this cache: it reads what is stored.)
bool WriterContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash);

// Transaction end: rows written by an aborted (sub)transaction no longer exist.
void ContextAtAbort(void);
void ContextAtCommit(void);

}  // namespace audit_chain::pg
