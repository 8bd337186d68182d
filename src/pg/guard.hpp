// src/pg/guard.hpp: the append-only guard's one exception, erasure.
#pragma once

namespace audit_chain::pg {

// While true, the guard lets UPDATE of audit_chain.events through (erasure only; reset at
// the end of every transaction, and when the subtransaction that allowed it aborts).
void AllowAuditUpdates(bool allow);
bool AuditUpdatesAllowed(void);

// While true, the guard lets the extension's own writes of audit_chain.tracked_tables through
// (reset like the above).
void AllowRegistryWrites(bool allow);
bool RegistryWritesAllowed(void);

// Subtransaction abort: closes what the aborting subtransaction (or one inside it) opened.
void GuardAtSubAbort(void);

}  // namespace audit_chain::pg
