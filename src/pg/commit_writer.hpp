// src/pg/commit_writer.hpp: chaining and storing a transaction's events at commit.
#pragma once

namespace audit_chain::pg {

// XACT_EVENT_PRE_COMMIT: takes a chain lock (held through the commit), links every spooled
// event of committed (sub)transactions to the chain head with one commit time, and writes
// them. Only this moment is serialised, and only per chain.
void WriteSpooledEvents(void);

// XACT_EVENT_PRE_PREPARE: refuses two-phase commit of audited changes.
void RefusePrepareWithEvents(void);

}  // namespace audit_chain::pg
