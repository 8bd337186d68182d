// src/pg/event_view.hpp: a stored (or about to be stored) event as the core's EventView.
//
// The commit writer and verify() both go through BuildEventView, so the bytes that are
// hashed when an event is written are, by construction, the bytes verify() hashes again.
#pragma once

#include "core/event_encoding.hpp"
#include "pg/catalog.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace audit_chain::pg {

// values/nulls: one row of audit_chain.events (kEvNumAttrs columns; the hash column is
// ignored). context_hash and resource_type are the resolved references. Allocates in
// CurrentMemoryContext; everything referenced by values must outlive the view.
// Returns NULL, or what makes the row malformed (a tampered row must not stop verify()).
const char *BuildEventView(const Datum *values, const bool *nulls, const core::Hash *context_hash,
						   const char *resource_type, core::EventView *view);

// Microseconds since the Unix epoch, as the hash specification writes times, and back.
int64 UnixMicros(TimestampTz t);
TimestampTz TimestampFromUnixMicros(int64 us);

}  // namespace audit_chain::pg
