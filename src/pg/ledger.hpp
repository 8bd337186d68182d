// src/pg/ledger.hpp: the identity of this audit trail (audit_chain.ledger).
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/snapshot.h"
#include "utils/uuid.h"
}

namespace audit_chain::pg {

struct CatalogOids;

// Number of ledger rows as seen by snapshot (1 normally, 0 before the first event); *id is
// the (last) row's id.
int ReadLedgerRows(const CatalogOids *oids, Snapshot snapshot, pg_uuid_t *id);

// The ledger id as seen by snapshot; false if there is no ledger row yet. Errors if there is
// more than one row (the table was tampered with).
bool ReadLedgerId(const CatalogOids *oids, Snapshot snapshot, pg_uuid_t *id);

// The ledger id, creating the ledger row on first use (by the first commit with events).
void GetOrCreateLedgerId(const CatalogOids *oids, pg_uuid_t *id);

}  // namespace audit_chain::pg
