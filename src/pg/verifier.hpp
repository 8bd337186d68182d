// src/pg/verifier.hpp: re-checking the stored chains.
#pragma once

#include "core/chain.hpp"

extern "C" {
#include "postgres.h"
#include "utils/uuid.h"
}

namespace audit_chain::pg {

struct VerifyRequest {
	int32 only_chain;            // 0: every chain
	int64 from_seq;              // 1: from the start; else trust the stored hash of from_seq - 1
	int64 to_seq;                // 0: to the end
	const core::ChainHead *expected;  // heads of a digest taken earlier (or NULL)
	int nexpected;
	bool start_at_expected;      // incremental: check only what follows each expected head
	const pg_uuid_t *expected_ledger;  // the digest's ledger id (or NULL)
};

struct VerifyOutcome {
	bool valid;
	int64 events_checked;
	int32 chain_id;              // first invalid place (when !valid)
	int64 seq;
	char *reason;
	bool has_ledger;
	pg_uuid_t ledger_id;
	core::ChainHead *heads;      // the last verified event of each chain checked
	int nheads;
};

// Verifies as seen by the active snapshot. Damage is reported in outcome, not raised.
void RunVerify(const VerifyRequest *request, VerifyOutcome *outcome);

}  // namespace audit_chain::pg
