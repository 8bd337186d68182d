// src/pg/random_pool.cpp: see random_pool.hpp.
#include "pg/random_pool.hpp"

extern "C" {
#include "miscadmin.h"
#include "port.h"
}

namespace audit_chain::pg {

namespace {

constexpr size_t kPoolSize = 1024;

uint8 pool[kPoolSize];
size_t pool_used = kPoolSize;  // empty
int pool_pid = 0;              // process that drew the pool

void
Refill()
{
	if (!pg_strong_random(pool, kPoolSize))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random values")));
	pool_used = 0;
	pool_pid = MyProcPid;
}

}  // namespace

void
RandomBytes(void *buf, size_t len)
{
	uint8 *out = (uint8 *) buf;
	if (pool_pid != MyProcPid)
		pool_used = kPoolSize;  // a forked child must not reuse its parent's bytes
	while (len > 0) {
		if (pool_used == kPoolSize)
			Refill();
		size_t n = Min(len, kPoolSize - pool_used);
		memcpy(out, pool + pool_used, n);
		explicit_bzero(pool + pool_used, n);  // handed out once: no copy stays behind
		pool_used += n;
		out += n;
		len -= n;
	}
}

}  // namespace audit_chain::pg
