// src/core/core_only.hpp: compile-time fence for the PostgreSQL-independent core.
//
// Every file under src/core includes this header last. The core is built by CMake without
// the server include path, so including postgres.h fails there; this fence also catches a
// core file that gets a PostgreSQL header through some other include path.
#pragma once

#ifdef POSTGRES_H
#error "src/core must not include PostgreSQL headers (postgres.h seen before core_only.hpp)"
#endif
