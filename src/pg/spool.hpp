// src/pg/spool.hpp: events captured by the current transaction, waiting for its commit.
//
// Capture appends here; at commit the events are chained and written (commit_writer.cpp).
// The spool is a tuplestore: in memory up to work_mem, then in a temporary file, so a
// transaction of any size needs bounded memory. Each event remembers the (sub)transaction
// that captured it; events of rolled-back savepoints are skipped when writing.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

namespace audit_chain::pg {

struct SpooledEvent {
	TransactionId subxid;      // (sub)transaction that captured the event
	TimestampTz event_time;
	int64 context_id;
	pg_uuid_t event_id;
	int32 resource_ref;
	char outcome;              // 's', 'f' or 'd'
	text *action;
	text *resource_id;         // NULL when the event has none
	Jsonb *old_data;           // NULL for SQL NULL
	Jsonb *new_data;
	Jsonb *details;
	bytea *salt;
};

// Appends a copy of the event (values are copied; the caller's memory may be freed).
void SpoolAppend(const SpooledEvent *event);

bool SpoolHasEvents(void);
// True if the spool holds an event other than ERASE (even one of a rolled-back savepoint).
bool SpoolHasEventsWithValues(void);

// Reads the events back in capture order; returns false at the end. Values stay valid
// until the next call.
void SpoolBeginRead(void);
bool SpoolNext(SpooledEvent *event);

// Forgets the spool (end of transaction, either way).
void SpoolReset(bool release_resources);

}  // namespace audit_chain::pg
