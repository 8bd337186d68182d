// src/pg/guard.hpp: the append-only guard's one exception, erasure.
#pragma once

namespace audit_chain::pg {

// While true, the guard lets UPDATE of audit_chain.events through (erasure only; reset at
// the end of every transaction).
void AllowAuditUpdates(bool allow);
bool AuditUpdatesAllowed(void);

// While true, the guard lets the extension's own writes of audit_chain.tracked_tables through.
void AllowRegistryWrites(bool allow);

}  // namespace audit_chain::pg
