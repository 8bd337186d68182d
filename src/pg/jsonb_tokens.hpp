// src/pg/jsonb_tokens.hpp: flattens a stored jsonb object into the core's token form.
//
// String and key tokens point into the jsonb itself (no copy); number tokens point to the
// numeric's text as numeric_out prints it, which is what the hash specification hashes.
#pragma once

#include "core/json_value.hpp"

extern "C" {
#include "postgres.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

// The top-level members of a jsonb object, each with the token range of its value.
struct JsonbMembers {
	int count;
	core::TextView *keys;
	uint32 *first;   // index of the member's first value token in tokens
	uint32 *ntokens;
	core::JsonToken *tokens;
	uint32 total_tokens;
	bool tokens_inline;  // tokens share the allocation of keys (not repalloc'able)
};

// False unless jb is an object. Allocates in CurrentMemoryContext; jb must stay alive
// while the result is used.
bool JsonbObjectMembers(Jsonb *jb, JsonbMembers *out);

// The same for a jsonb datum as stored (any varlena header, possibly unaligned); the
// datum must stay alive while the result is used.
bool JsonbDatumMembers(Datum d, JsonbMembers *out);

// The same for a container (a Jsonb's root), which need not be aligned.
bool JsonbContainerMembers(const char *container, JsonbMembers *out);

// Member index of key in members (keys are in canonical order), or -1.
int FindMember(const JsonbMembers *members, const char *key, int keylen);

}  // namespace audit_chain::pg
