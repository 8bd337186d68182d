// src/core/event_encoding.hpp: the hash specification of one audit event.
//
// An event is hashed together with its predecessor's hash, so the event hash is also the
// chain link. Data values never enter the event hash directly: each erasable unit (the
// resource_id, one column of a row event with its old and new value, one top-level member
// of details) is hashed first into a commitment keyed by a per-value key derived from the
// event's secret salt. Erasing a value later replaces it by its stored commitment and
// destroys the salt, keeping explicit keys for the other units, so the event still verifies
// and nothing is left from which the erased value could be brute-forced.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/json_value.hpp"
#include "core/views.hpp"

namespace audit_chain::core {

// The hash specification these functions implement (README, "Hash specification (format N)"),
// stored in audit_chain.ledger.hash_format.
constexpr int kHashFormat = 2;

// Presence bits of a unit, and of the event's old_data/new_data maps.
constexpr uint8_t kHasOld = 1;
constexpr uint8_t kHasNew = 2;

struct ValueUnit {
	TextView key;                  // column or member name; empty for the resource_id
	uint8_t flags;                 // kHasOld | kHasNew: which values the unit holds
	const JsonToken *old_value;    // tokens of the old value, when present and not erased
	uint32_t old_tokens;
	const JsonToken *new_value;    // tokens of the new value (details and resource_id use this)
	uint32_t new_tokens;
	const uint8_t *value_key;      // kValueKeySize bytes kept after the salt was destroyed, or null
	const uint8_t *commitment;     // kHashSize bytes of an erased unit, or null
};

struct EventView {
	uint32_t chain_id;
	uint64_t seq;
	uint64_t commit_seq;
	int64_t committed_at;          // microseconds since 1970-01-01 00:00:00 UTC
	uint64_t xid;                  // full (epoch-extended) transaction id
	int64_t event_time;            // microseconds since 1970-01-01 00:00:00 UTC
	const uint8_t *event_id;       // kUuidSize bytes
	TextView action;
	TextView outcome;
	TextView resource_type;
	const ValueUnit *resource_id;  // null when the event has no resource_id
	const uint8_t *context_hash;   // kHashSize bytes, see HashContext
	const uint8_t *salt;           // kSaltSize bytes, null once a unit of the event was erased
	uint8_t data_flags;            // kHasOld: old_data is not NULL; kHasNew: new_data is not NULL
	const ValueUnit *columns;      // union of old_data and new_data keys, canonical key order
	uint32_t column_count;
	bool has_details;              // details is not NULL
	const ValueUnit *details;      // top-level members of details, canonical key order
	uint32_t detail_count;
};

static_assert(std::is_trivially_destructible_v<ValueUnit>);
static_assert(std::is_trivially_destructible_v<EventView>);

// Index of each unit in the event: resource_id (if any), then columns, then details members.
// The per-value key of unit i is 16 bytes of SHA-256("ACK1" || salt || u32(i / 2)).
void DeriveValueKey(const uint8_t *salt, uint32_t index, uint8_t *key_out);

// SHA-256("ACV1" || key || u8 flags || [canon(old)] || [canon(new)]).
Hash ComputeCommitment(const uint8_t *value_key, const ValueUnit &unit);

// What an erased value reads: "[ERASED]", or a pseudonym "[ERASED:" 16 lowercase hex digits "]"
// where the value named a row (resource_id, details.new_resource_id), so that erased rows stay
// apart. Only these may stand where a commitment replaced the value.
bool IsErasedValue(const JsonToken *tokens, uint32_t count);

constexpr size_t kErasedPseudonymSize = 25;  // "[ERASED:" + 16 hex + "]"

// The pseudonym of row id `id` under a secret that is discarded after the erasure: the first
// 8 bytes of HMAC-SHA-256(secret, id) in hex. Equal ids get equal pseudonyms within one erasure;
// nothing links a pseudonym back to the id once the secret is gone.
void ErasedPseudonym(const uint8_t *secret, size_t secret_size, const char *id, size_t id_size,
					 char out[kErasedPseudonymSize + 1]);

// Writes the canonical bytes of the event link (predecessor hash and event) into sink.
template <typename Sink>
void WriteEvent(Sink &sink, const Hash &previous, const EventView &event);

// SHA-256 of WriteEvent's bytes: the hash stored with the event.
Hash HashEvent(const Hash &previous, const EventView &event);

// The context of an event (actor_id, session_user, ...): its attributes present, in canonical
// key order, each a unit like a details member (key = attribute name, flags = kHasNew, the new
// value one string token), committed under keys derived from the context's own salt. Erasing
// an attribute keeps its commitment and explicit keys for the others, as for event units.
struct ContextView {
	const ValueUnit *fields;
	uint32_t count;
	const uint8_t *salt;           // kSaltSize bytes, null once an attribute was erased
};

static_assert(std::is_trivially_destructible_v<ContextView>);

// SHA-256("ACC2" || u32 n || (str name || u8 2 || C_i)*), C_i as ComputeCommitment with the
// per-value key of field i derived from the context's salt (DeriveValueKey).
template <typename Sink>
void WriteContext(Sink &sink, const ContextView &context);
Hash HashContext(const ContextView &context);

}  // namespace audit_chain::core
