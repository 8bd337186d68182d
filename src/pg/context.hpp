// src/pg/context.hpp: who/where/why of events, interned in audit_chain.contexts.
//
// The context of an event is the application's settings (audit_chain.actor_id, ...) with
// fallbacks to the session's own facts (session_user, client address, application_name).
// While it does not change, all events of a session share one contexts row; a new row is
// written, in the same transaction as the events, when it does change.
#pragma once

#include "core/event_encoding.hpp"

extern "C" {
#include "postgres.h"
#include "utils/snapshot.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// The context_id for the current settings, creating the contexts row if needed.
int64 InternCurrentContext(const CatalogOids *oids);

// The attributes of a context and their columns in audit_chain.contexts, in canonical key
// order (by length, then bytewise): the order the context hash takes them in.
struct ContextAttribute {
	const char *name;
	int attnum;
};
constexpr int kContextAttributeCount = 11;
extern const ContextAttribute kContextAttributes[kContextAttributeCount];

// A contexts row as the core's ContextView (which points into this struct: do not copy it).
struct ContextUnits {
	core::ValueUnit units[kContextAttributeCount];
	core::JsonToken tokens[kContextAttributeCount];
	int unit_of_attribute[kContextAttributeCount];  // index into units, -1 if absent
	core::ContextView view;
};

// Builds the view of a contexts row (with its salt, or its erasure record applied); returns
// NULL, or what makes the row malformed. Allocates in CurrentMemoryContext.
const char *BuildContextView(const Datum *values, const bool *nulls, ContextUnits *units);

// Hash of a contexts row (src/core/event_encoding.hpp, HashContext) from its datums; returns
// NULL, or what makes the row malformed (a tampered row must not stop verify()).
const char *ContextHashFromRow(const Datum *values, const bool *nulls, core::Hash *hash);

// Hash of the contexts row context_id as seen by snapshot; false if there is no such row,
// *problem set (and the hash undefined) if the row is malformed.
bool ReadContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash,
					 const char **problem);

// For writing events: the hash this session computed when it created the row, else read
// as ReadContextHash does. (Verification never uses this cache: it reads what is stored.)
bool WriterContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash);

// Transaction end: rows written by an aborted (sub)transaction no longer exist.
void ContextAtAbort(void);
void ContextAtCommit(void);

}  // namespace audit_chain::pg
