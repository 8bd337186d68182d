// src/pg/digest_json.hpp: the digest as a JSON value users keep outside the database.
//
// {"format": "audit_chain.digest.v1", "ledger_id": "<uuid>", "taken_at": "<UTC time>",
//  "heads": [{"chain_id": 1, "seq": 42, "committed_at": "<UTC time>",
//             "committed_at_us": <microseconds since the Unix epoch>, "hash": "<hex>"}, ...],
//  "digest": "<hex SHA-256 over ledger_id and heads, see the hash specification>"}
#pragma once

#include "core/chain.hpp"

extern "C" {
#include "postgres.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

namespace audit_chain::pg {

Jsonb *DigestToJsonb(const pg_uuid_t *ledger_id, const core::ChainHead *heads, int nheads);

// Parses and checks a digest (format, internal digest hash); errors with 22023 or 22P02.
void DigestFromJsonb(Jsonb *digest, pg_uuid_t *ledger_id, core::ChainHead **heads, int *nheads);

}  // namespace audit_chain::pg
