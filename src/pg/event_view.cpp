// src/pg/event_view.cpp: events rows to core::EventView.
#include "pg/event_view.hpp"

#include "core/hex.hpp"
#include "pg/boundary.hpp"
#include "pg/jsonb_tokens.hpp"

extern "C" {
#include "access/transam.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/xid8.h"
}

namespace audit_chain::pg {

namespace {

constexpr int64 kPostgresEpochInUnixMicros = (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

core::TextView
TextOf(Datum d)
{
	text *t = DatumGetTextPP(d);
	return core::TextView{VARDATA_ANY(t), (uint32) VARSIZE_ANY_EXHDR(t)};
}

// The erasure record: {"value_keys": {"<unit index>": hex}, "commitments": {"<unit index>": hex}}.
const char *
ApplyErasure(Jsonb *erasure, core::ValueUnit *units, uint32 nunits)
{
	if (!JB_ROOT_IS_OBJECT(erasure))
		return "its erasure record is not an object";
	JsonbIterator *it = JsonbIteratorInit(&erasure->root);
	JsonbValue v;
	JsonbIteratorToken tok;
	int depth = 0;
	enum { kNone, kKeys, kCommitments } section = kNone;
	long index = -1;
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
		if (tok == WJB_BEGIN_OBJECT) {
			depth++;
		} else if (tok == WJB_END_OBJECT) {
			depth--;
		} else if (tok == WJB_KEY && depth == 1) {
			std::string_view key(v.val.string.val, v.val.string.len);
			section = key == "value_keys" ? kKeys : key == "commitments" ? kCommitments : kNone;
		} else if ((tok == WJB_VALUE || tok == WJB_BEGIN_ARRAY) && depth == 1 && section != kNone) {
			return "its erasure record has a section that is not an object";
		} else if ((tok == WJB_BEGIN_ARRAY || tok == WJB_ELEM) && depth >= 2 && section != kNone) {
			return "its erasure record holds a non-string";
		} else if (tok == WJB_KEY && depth == 2 && section != kNone) {
			// A unit index: decimal digits, no sign, no leading zero.
			const char *p = v.val.string.val;
			int len = v.val.string.len;
			bool digits = len > 0 && len < 10 && (len == 1 || p[0] != '0');
			for (int i = 0; digits && i < len; i++)
				digits = p[i] >= '0' && p[i] <= '9';
			index = digits ? strtol(pnstrdup(p, len), NULL, 10) : -1;
			if (index < 0 || (uint32) index >= nunits)
				return "its erasure record names a value that does not exist";
		} else if (tok == WJB_VALUE && depth == 2 && section != kNone) {
			if (v.type != jbvString)
				return "its erasure record holds a non-string";
			size_t size = section == kKeys ? core::kValueKeySize : core::kHashSize;
			uint8 *bytes = (uint8 *) palloc(size);
			std::string_view hex(v.val.string.val, v.val.string.len);
			CoreError err;
			if (!RunCore(err, [&] { core::HexDecode(hex, bytes, size); }))
				return "its erasure record holds a malformed key or commitment";
			if (section == kKeys)
				units[index].value_key = bytes;
			else
				units[index].commitment = bytes;
		} else if (depth > 2 && section != kNone) {
			return "its erasure record is nested too deeply";
		}
	}
	return NULL;
}

// Every value an erased unit holds reads as erased ("[ERASED]" or a pseudonym).
bool
IsErasedUnit(const core::ValueUnit &u)
{
	if ((u.flags & core::kHasOld) && !core::IsErasedValue(u.old_value, u.old_tokens))
		return false;
	if ((u.flags & core::kHasNew) && !core::IsErasedValue(u.new_value, u.new_tokens))
		return false;
	return true;
}

void
SetOld(core::ValueUnit &u, const JsonbMembers &m, int i)
{
	u.flags |= core::kHasOld;
	u.old_value = m.tokens + m.first[i];
	u.old_tokens = m.ntokens[i];
}

void
SetNew(core::ValueUnit &u, const JsonbMembers &m, int i)
{
	u.flags |= core::kHasNew;
	u.new_value = m.tokens + m.first[i];
	u.new_tokens = m.ntokens[i];
}

}  // namespace

int64
UnixMicros(TimestampTz t)
{
	return t + kPostgresEpochInUnixMicros;
}

TimestampTz
TimestampFromUnixMicros(int64 us)
{
	return us - kPostgresEpochInUnixMicros;
}

const char *
BuildEventView(const Datum *values, const bool *nulls, const core::Hash *context_hash, const char *resource_type,
			   core::EventView *view)
{
	*view = core::EventView{};
	for (int attr : {kEvSeq, kEvCommitSeq, kEvXid, kEvCommittedAt, kEvEventTime, kEvContextId, kEvEventId, kEvChainId,
					 kEvResourceRef, kEvOutcome, kEvAction})
		if (nulls[attr - 1])
			return "a required column is NULL";

	view->chain_id = (uint32) DatumGetInt32(values[kEvChainId - 1]);
	view->seq = (uint64) DatumGetInt64(values[kEvSeq - 1]);
	view->commit_seq = (uint64) DatumGetInt64(values[kEvCommitSeq - 1]);
	view->committed_at = UnixMicros(DatumGetTimestampTz(values[kEvCommittedAt - 1]));
	view->xid = U64FromFullTransactionId(DatumGetFullTransactionId(values[kEvXid - 1]));
	view->event_time = UnixMicros(DatumGetTimestampTz(values[kEvEventTime - 1]));
	view->event_id = DatumGetUUIDP(values[kEvEventId - 1])->data;
	view->action = TextOf(values[kEvAction - 1]);
	static const char *const outcomes[] = {"success", "failure", "denied"};
	char outcome = DatumGetChar(values[kEvOutcome - 1]);
	const char *outcome_text = outcome == 's' ? outcomes[0] : outcome == 'f' ? outcomes[1] : outcome == 'd' ? outcomes[2] : NULL;
	if (outcome_text == NULL)
		return "its outcome is unknown";
	view->outcome = core::TextView{outcome_text, (uint32) strlen(outcome_text)};
	view->resource_type = core::TextView{resource_type, (uint32) strlen(resource_type)};
	view->context_hash = context_hash->bytes;

	if (!nulls[kEvSalt - 1]) {
		bytea *salt = DatumGetByteaPP(values[kEvSalt - 1]);
		if (VARSIZE_ANY_EXHDR(salt) != core::kSaltSize)
			return "its salt has the wrong length";
		view->salt = (const uint8 *) VARDATA_ANY(salt);
	}

	// Units, in index order: resource_id, columns (old/new merged by key), details members.
	JsonbMembers old_m = {}, new_m = {}, det_m = {};
	if (!nulls[kEvOldData - 1]) {
		if (!JsonbDatumMembers(values[kEvOldData - 1], &old_m))
			return "its old_data is not a JSON object";
		view->data_flags |= core::kHasOld;
	}
	if (!nulls[kEvNewData - 1]) {
		if (!JsonbDatumMembers(values[kEvNewData - 1], &new_m))
			return "its new_data is not a JSON object";
		view->data_flags |= core::kHasNew;
	}
	if (!nulls[kEvDetails - 1]) {
		if (!JsonbDatumMembers(values[kEvDetails - 1], &det_m))
			return "its details are not a JSON object";
		view->has_details = true;
	}
	uint32 max_units = 1 + old_m.count + new_m.count + det_m.count;
	core::ValueUnit *units = (core::ValueUnit *) palloc0(sizeof(core::ValueUnit) * max_units);
	uint32 n = 0;

	if (!nulls[kEvResourceId - 1]) {
		core::JsonToken *tok = (core::JsonToken *) palloc(sizeof(core::JsonToken));
		*tok = core::JsonToken{core::JsonKind::kString, 0, TextOf(values[kEvResourceId - 1])};
		units[n].flags = core::kHasNew;
		units[n].new_value = tok;
		units[n].new_tokens = 1;
		view->resource_id = &units[n];
		n++;
	}

	uint32 columns_start = n;
	int i = 0, j = 0;
	while (i < old_m.count || j < new_m.count) {
		core::ValueUnit &u = units[n++];
		if (j >= new_m.count || (i < old_m.count && core::KeyLess(old_m.keys[i].str(), new_m.keys[j].str()))) {
			u.key = old_m.keys[i];
			SetOld(u, old_m, i++);
		} else if (i >= old_m.count || core::KeyLess(new_m.keys[j].str(), old_m.keys[i].str())) {
			u.key = new_m.keys[j];
			SetNew(u, new_m, j++);
		} else {
			u.key = old_m.keys[i];
			SetOld(u, old_m, i++);
			SetNew(u, new_m, j++);
		}
	}
	view->columns = units + columns_start;
	view->column_count = n - columns_start;

	uint32 details_start = n;
	for (int k = 0; k < det_m.count; k++) {
		core::ValueUnit &u = units[n++];
		u.key = det_m.keys[k];
		SetNew(u, det_m, k);
	}
	view->details = units + details_start;
	view->detail_count = n - details_start;

	if (nulls[kEvErasure - 1]) {
		if (view->salt == NULL)
			return "it has neither a salt nor an erasure record";
		return NULL;
	}
	// Erasure destroys the salt; an event with both could carry a forged commitment.
	if (view->salt != NULL)
		return "it has both a salt and an erasure record";
	const char *problem = ApplyErasure(DatumGetJsonbP(values[kEvErasure - 1]), units, n);
	if (problem != NULL)
		return problem;
	for (uint32 i = 0; i < n; i++) {
		if (units[i].commitment == NULL && units[i].value_key == NULL)
			return "its erasure record has no key for a value that was not erased";
		// An erased value must read as erased: a value put in its place would not be covered.
		if (units[i].commitment != NULL && !IsErasedUnit(units[i]))
			return "it holds a value where one was erased";
	}
	return NULL;
}

}  // namespace audit_chain::pg
