// src/core/core_only.hpp: compile-time fence for the PostgreSQL-independent core.
//
// Every file under src/core includes this header last. The core is built by CMake without
// the server include path, so including postgres.h fails there; this fence also catches a
// core file that gets a PostgreSQL header (server or client) through any other include path,
// such as <postgresql/15/server/...> or <postgresql/libpq-fe.h>: each of them defines one of
// the macros below.
#pragma once

#if defined(POSTGRES_H) || defined(POSTGRES_FE_H) || defined(C_H) || defined(FMGR_H)
#error "src/core must not include PostgreSQL server headers"
#endif
#if defined(PG_VERSION_NUM) || defined(PG_MAJORVERSION) || defined(NAMEDATALEN)
#error "src/core must not include PostgreSQL configuration headers (pg_config*.h)"
#endif
#if defined(POSTGRES_EXT_H) || defined(LIBPQ_FE_H) || defined(PG_LIST_H)
#error "src/core must not include PostgreSQL headers"
#endif
