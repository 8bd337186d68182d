// src/pg/replay.hpp: reconstructing rows from their events.
//
// Events are applied in commit order (commit_seq, seq). The replayer knows, per row id, the
// whole row image or that the row does not exist, and whether it knows every row of the
// table (after a baseline or a TRUNCATE in the current tracking period) or only those it
// has seen. Reconstruction never guesses: what it cannot know is an error.
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
	const char *action;
	const char *resource_id;  // NULL for table-wide events (TRACK, TRUNCATE, ALTER TABLE, ...)
	Jsonb *old_data;
	Jsonb *new_data;
	Jsonb *details;
};

struct ReplayRow;

struct Replayer {
	MemoryContext cxt;
	HTAB *buckets;        // hash of id -> chain of ReplayRow
	List *key_names;      // key column names at the current point of the replay (NIL: keyless)
	bool keyless;
	bool tracked;         // inside a tracking period
	bool complete;        // every row of the table is known (not only those seen)
	bool lenient;         // history(): an unknown row image is not an error
	TimestampTz tracked_since;
	const char *table;    // for messages
};

// key_names: key column names as they were when the replay starts.
void ReplayInit(Replayer *r, List *key_names, bool keyless, const char *table);

// Applies one event. For a row event, *row_id_after is the id the row has afterwards
// (differs from e->resource_id when its key changed), else NULL.
void ReplayApply(Replayer *r, const ReplayEvent *e, const char **row_id_after);

// The image of row id (NULL if the row does not exist); errors if it cannot be known.
Jsonb *ReplayRowAt(Replayer *r, const char *id, const char *when);

// The image of id if present in the replay (no error when unknown).
Jsonb *ReplayPeek(Replayer *r, const char *id);

// Calls fn for every existing row; errors if the set of rows cannot be known.
void ReplayForEachRow(Replayer *r, void (*fn)(Jsonb *image, void *arg), void *arg, const char *when);

// Sets the image of a row (used when a row arrives under a new key).
void ReplaySetRow(Replayer *r, const char *id, Jsonb *image);

// The key a key-changing UPDATE moved its row to (details.new_resource_id), or NULL.
const char *NewResourceId(const ReplayEvent *e);

// Renames keys of an image by a {"old": "new"} map (used to express rows in today's names).
Jsonb *RenameKeys(Jsonb *image, Jsonb *renames);

}  // namespace audit_chain::pg
