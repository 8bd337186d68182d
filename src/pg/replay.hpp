// src/pg/replay.hpp: reconstructing rows from their events.
//
// Events are applied in commit order (commit_seq, seq). For each row id the replayer knows
// the whole row image (with a count, since a table without key may hold equal rows), that
// the row does not exist, or that its state is unknown; and whether it knows every row of
// the table (after a baseline or a TRUNCATE in the current tracking period). Reconstruction
// never guesses: asking for what it does not know is an error (55000), and so is asking
// across an inconsistency in the history (XX001) until a full re-baseline.
//
// A deferrable key lets two rows share a key inside a transaction (UPDATE t SET id = 3 - id):
// the replayer then holds both, tells which one a later change of that key is about by the
// values the change found (old_data) and by the rule that a statement never changes a row it
// moved itself, and requires the key to be unique again when the transaction ends.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

struct ReplayEvent {
	int64 commit_seq;
	int64 seq;
	TimestampTz committed_at;
	TimestampTz event_time;   // the statement's start: tells rows moved by the same statement
	const char *action;
	const char *resource_id;  // NULL for table-wide events (TRACK, TRUNCATE, ALTER TABLE, ...)
	Jsonb *old_data;
	Jsonb *new_data;
	Jsonb *details;
};

struct Replayer {
	MemoryContext cxt;
	HTAB *buckets;        // hash of id -> chain of rows
	List *key_names;      // key column names at the current point of the replay (NIL: keyless)
	bool keyless;
	bool tracked;         // inside a tracking period, with capture on
	bool complete;        // every row of the table is known (not only those seen)
	bool lenient;         // history(): unknown states are not errors
	char *inconsistent;   // the first inconsistency met since the last full re-baseline, or NULL
	List *crowded;        // ids two rows share inside the current transaction (deferred keys)
	int64 crowded_commit_seq;
	TimestampTz tracked_since;
	const char *table;    // for messages
};

// key_names: key column names as they were when the replay starts.
void ReplayInit(Replayer *r, List *key_names, bool keyless, const char *table);

// Applies one event. For a row event, *row_id_after is the id the row has afterwards
// (differs from e->resource_id when its key changed), else NULL.
void ReplayApply(Replayer *r, const ReplayEvent *e, const char **row_id_after);

// The image of row id (NULL if the row does not exist); errors if it cannot be known
// (unless lenient: then NULL too).
Jsonb *ReplayRowAt(Replayer *r, const char *id, const char *when);

// The image of the row event e (an UPDATE or DELETE not yet applied) is about: like
// ReplayRowAt(r, e->resource_id, ...), but in the middle of e's transaction.
Jsonb *ReplayRowFor(Replayer *r, const ReplayEvent *e, const char *when);

// The image of id if the replay holds one (no error when unknown).
Jsonb *ReplayPeek(Replayer *r, const char *id);

// Sets the image of a row (used when a row arrives under a new key).
void ReplaySetRow(Replayer *r, const char *id, Jsonb *image);

// Calls fn for every existing row (as many times as equal rows exist); errors if the set of
// rows cannot be known.
void ReplayForEachRow(Replayer *r, void (*fn)(Jsonb *image, void *arg), void *arg, const char *when);

// Whether e is a CONFIGURE event that excludes columns image holds (their values leave the
// row images when it is applied).
bool ReplayDropsColumns(const ReplayEvent *e, Jsonb *image);

// The key a key-changing UPDATE moved its row to (details.new_resource_id), or NULL.
const char *NewResourceId(const ReplayEvent *e);

}  // namespace audit_chain::pg
