// src/pg/numeric_text.hpp: a numeric's text, as numeric_out prints it, without numeric_out.
//
// Every number in hashed event data is hashed as its printed literal. numeric_out goes
// through a NumericVar, a palloc'd digit buffer and a palloc'd string; printing straight
// from the stored digits is several times cheaper, and verification prints one or more
// numbers per event.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace audit_chain::pg {

// Text of the numeric datum at num (any varlena header, not necessarily aligned, not
// toasted), palloc'd; its length in *len. Special values (NaN, infinities: never in jsonb)
// go through numeric_out.
char *NumericText(const char *num, int *len);

}  // namespace audit_chain::pg
