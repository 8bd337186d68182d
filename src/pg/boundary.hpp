// src/pg/boundary.hpp: the one crossing between C++ exceptions and PostgreSQL errors.
//
// PostgreSQL reports errors by longjmp, which skips C++ destructors; C++ reports them by
// exceptions, which must never unwind through PostgreSQL's C frames. So glue code (the
// "PG frames") holds only trivially destructible data and reaches the core only through
// RunCore(), which catches every exception, copies it into a POD CoreError and returns;
// the caller then raises the PostgreSQL error after the C++ handler has ended.
//
// This header includes no PostgreSQL header, so glue files can include it before theirs.
#pragma once

#include <new>
#include <type_traits>

#include "core/error.hpp"

namespace audit_chain::pg {

struct CoreError {
	int sqlstate;  // PostgreSQL's packed SQLSTATE (ERRCODE_*)
	char message[512];
	char detail[512];
	char hint[256];
};

static_assert(std::is_trivially_destructible_v<CoreError>);

void FillCoreError(CoreError &err, const core::Error &e) noexcept;
void FillCoreError(CoreError &err, int sqlstate, const char *message) noexcept;
int SqlstateOutOfMemory() noexcept;
int SqlstateInternal() noexcept;

// Calls fn() (core code, which never calls PostgreSQL) and converts any exception into err.
template <typename Fn>
bool
RunCore(CoreError &err, Fn &&fn) noexcept
{
	try {
		fn();
		return true;
	} catch (const core::Error &e) {
		FillCoreError(err, e);
	} catch (const std::bad_alloc &) {
		FillCoreError(err, SqlstateOutOfMemory(), "out of memory");
	} catch (const std::exception &e) {
		FillCoreError(err, SqlstateInternal(), e.what());
	} catch (...) {
		FillCoreError(err, SqlstateInternal(), "unexpected C++ exception");
	}
	return false;  // the handler has ended: it is now safe to longjmp
}

// ereport(ERROR) with the captured SQLSTATE, message, detail and hint.
[[noreturn]] void ReportCoreError(const CoreError &err);

// RunCore, then raise on failure. fn must capture only trivially destructible state.
template <typename Fn>
inline void
CallCore(Fn &&fn)
{
	static_assert(std::is_trivially_destructible_v<std::remove_reference_t<Fn>>,
				  "a lambda passed across the boundary may capture only trivially destructible state");
	CoreError err;
	if (!RunCore(err, fn))
		ReportCoreError(err);
}

}  // namespace audit_chain::pg
