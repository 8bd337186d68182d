// src/pg/boundary.cpp: SQLSTATEs of core errors and the raising half of the boundary.
#include "pg/boundary.hpp"

#include <cstdio>

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
}

namespace audit_chain::pg {

namespace {

// Every SQLSTATE the core can cause, in one place.
int
SqlstateFor(core::ErrorCode code) noexcept
{
	switch (code) {
	case core::ErrorCode::kInvalidParameter:
		return ERRCODE_INVALID_PARAMETER_VALUE;
	case core::ErrorCode::kInvalidText:
		return ERRCODE_INVALID_TEXT_REPRESENTATION;
	case core::ErrorCode::kDataCorrupted:
		return ERRCODE_DATA_CORRUPTED;
	case core::ErrorCode::kInternal:
		return ERRCODE_INTERNAL_ERROR;
	}
	return ERRCODE_INTERNAL_ERROR;
}

}  // namespace

void
FillCoreError(CoreError &err, const core::Error &e) noexcept
{
	err.sqlstate = SqlstateFor(e.code());
	snprintf(err.message, sizeof(err.message), "%s", e.what());
	snprintf(err.detail, sizeof(err.detail), "%s", e.detail().c_str());
	snprintf(err.hint, sizeof(err.hint), "%s", e.hint().c_str());
}

void
FillCoreError(CoreError &err, int sqlstate, const char *message) noexcept
{
	err.sqlstate = sqlstate;
	snprintf(err.message, sizeof(err.message), "%s", message);
	err.detail[0] = '\0';
	err.hint[0] = '\0';
}

int
SqlstateOutOfMemory() noexcept
{
	return ERRCODE_OUT_OF_MEMORY;
}

int
SqlstateInternal() noexcept
{
	return ERRCODE_INTERNAL_ERROR;
}

void
ReportCoreError(const CoreError &err)
{
	ereport(ERROR,
			(errcode(err.sqlstate),
			 errmsg("%s", err.message),
			 err.detail[0] ? errdetail("%s", err.detail) : 0,
			 err.hint[0] ? errhint("%s", err.hint) : 0));
	pg_unreachable();
}

}  // namespace audit_chain::pg
