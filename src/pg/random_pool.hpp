// src/pg/random_pool.hpp: cryptographically strong random bytes for event ids and salts.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace audit_chain::pg {

// Fills buf with len bytes from pg_strong_random(), drawn in blocks: one call per event
// for an id and a salt costs more than the hashing of the event. The block is drawn in the
// process that uses it (refilled after fork) and every byte is handed out once.
void RandomBytes(void *buf, size_t len);

}  // namespace audit_chain::pg
