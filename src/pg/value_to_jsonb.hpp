// src/pg/value_to_jsonb.hpp: column values to JSON, the same for every session.
//
// Values keep their JSON types (numbers, booleans, nested arrays and objects), like
// to_jsonb(), but nothing depends on session settings: timestamptz is written in UTC,
// floats in their shortest exact form whatever extra_float_digits says, intervals and bytea
// in one fixed style, and any other type is printed under fixed settings (DateStyle ISO,
// TimeZone UTC, IntervalStyle postgres, extra_float_digits 1, bytea_output hex,
// lc_monetary C, search_path pg_catalog).
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

// Pins the session settings lazily for the span of one conversion (one event).
struct PinnedSettings {
	int nest_level;  // 0 while not pinned
};

inline PinnedSettings
NoPinnedSettings()
{
	return PinnedSettings{0};
}

// Restores the settings changed by PinSettingsIfNeeded, if any.
void UnpinSettings(PinnedSettings *pinned);

// Pushes value (of type typid) as a WJB_VALUE or WJB_ELEM (seq) into state.
void PushDatumAsJson(JsonbParseState **state, JsonbIteratorToken seq, Datum value, bool isnull, Oid typid,
					 PinnedSettings *pinned);

}  // namespace audit_chain::pg
