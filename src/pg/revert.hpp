// src/pg/revert.hpp: the marker that audit_chain.revert() puts on the events it applies.
//
// While revert() runs one of its statements, a backend-local marker describes the one event
// that statement must produce: the exact inverse of the event it undoes. Capture asks for it
// and records {"reverts": "<xid>"} on that event only. The marker is set by revert()'s C code
// alone (no setting, no SQL-callable helper), so no role can make its own changes claim to
// be a revert.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

// The transaction (decimal xid) that the row event described by the arguments undoes, when it
// is the event the running revert() statement is waiting for; that uses the marker up.
// Otherwise NULL. relid is the tracked table, new_id the key an UPDATE moved the row to.
const char *RevertedTransactionOf(Oid relid, const char *action, text *resource_id, text *new_id, Jsonb *old_data,
								  Jsonb *new_data);

// Transaction end and subtransaction abort: the marker never outlives the statement it was
// set for (revert() clears it itself; these make sure of it).
void RevertAtEndOfTransaction(void);
void RevertAtSubAbort(void);

}  // namespace audit_chain::pg
