// tools/export_event.hpp: one event of audit_chain.events_export, read from its JSON text
// into the core's EventView, as the hash specification in README.md describes. Shared by the standalone
// verifier, the test-vector generator and the unit tests; built on src/core only.
//
// Two kinds of failure are kept apart:
// - FormatError: the text is not an events_export event (not JSON, a field missing or of the
//   wrong JSON type, a malformed uuid or hex field). The verifier reports a parse error.
// - problem(): the event has the export's form but cannot be hashed as stored (no resource
//   type, a salt and an erasure record together or neither, a broken erasure record, a value
//   where one was erased; the same for its context and the context's own salt and erasure
//   record). The verifier reports the event as malformed (invalid).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/chain.hpp"
#include "core/error.hpp"
#include "core/event_encoding.hpp"
#include "core/hex.hpp"
#include "core/json_text.hpp"
#include "core/json_value.hpp"

namespace audit_chain::tools {

class FormatError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// Members of the object whose kObject token is tokens[first].
struct Member {
	std::string_view key;
	uint32_t first;  // index of the value's first token
	uint32_t count;  // number of tokens of the value
};

inline std::vector<Member>
ObjectMembers(const std::vector<core::JsonToken> &tokens, uint32_t first)
{
	std::vector<Member> out;
	const uint32_t total = static_cast<uint32_t>(tokens.size());
	uint32_t pos = first + 1;
	for (uint32_t i = 0; i < tokens[first].count; i++) {
		std::string_view key = tokens[pos].text.str();
		pos++;
		uint32_t n = core::JsonValueTokenCount(&tokens[pos], total - pos);
		out.push_back({key, pos, n});
		pos += n;
	}
	return out;
}

// An integer literal (no fraction, no exponent, no leading zeros) within [min, max].
inline bool
ParseIntegerLiteral(std::string_view s, bool allow_negative, uint64_t max_magnitude, bool *negative, uint64_t *magnitude)
{
	size_t i = 0;
	*negative = false;
	if (i < s.size() && s[i] == '-') {
		if (!allow_negative)
			return false;
		*negative = true;
		i++;
	}
	if (i >= s.size() || (s[i] == '0' && s.size() - i > 1))
		return false;
	uint64_t v = 0;
	for (; i < s.size(); i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = unsigned(s[i] - '0');
		if (v > (max_magnitude - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*magnitude = v;
	return true;
}

inline uint64_t
ToUnsigned(const core::JsonToken &t, uint64_t max, const char *field)
{
	bool negative;
	uint64_t v;
	if (t.kind != core::JsonKind::kNumber || !ParseIntegerLiteral(t.text.str(), false, max, &negative, &v))
		throw FormatError(std::string("\"") + field + "\" must be a non-negative integer in range");
	return v;
}

inline int64_t
ToSigned(const core::JsonToken &t, const char *field)
{
	bool negative;
	uint64_t v;
	if (t.kind != core::JsonKind::kNumber ||
		!ParseIntegerLiteral(t.text.str(), true, uint64_t(INT64_MAX) + 1, &negative, &v) ||
		(!negative && v > uint64_t(INT64_MAX)))
		throw FormatError(std::string("\"") + field + "\" must be a 64-bit integer");
	return negative ? int64_t(0 - v) : int64_t(v);
}

// A UUID in its text form (8-4-4-4-12 hex digits) into 16 bytes.
inline void
ParseUuid(std::string_view s, uint8_t *out, const char *field)
{
	if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		throw FormatError(std::string("\"") + field + "\" must be a UUID");
	std::string hex;
	for (size_t i = 0; i < s.size(); i++)
		if (i != 8 && i != 13 && i != 18 && i != 23)
			hex += s[i];
	try {
		core::HexDecode(hex, out, core::kUuidSize);
	} catch (const core::Error &) {
		throw FormatError(std::string("\"") + field + "\" must be a UUID");
	}
}

inline void
ParseHexField(std::string_view s, uint8_t *out, size_t size, const char *field)
{
	try {
		core::HexDecode(s, out, size);
	} catch (const core::Error &) {
		throw FormatError(std::string("\"") + field + "\" must be " + std::to_string(2 * size) + " hexadecimal digits");
	}
}

// Decimal unit index of an erasure record: no sign, no leading zeros, below nunits.
inline bool
ParseUnitIndex(std::string_view s, uint32_t nunits, uint32_t *index)
{
	bool negative;
	uint64_t v;
	if (!ParseIntegerLiteral(s, false, UINT32_MAX, &negative, &v) || v >= nunits)
		return false;
	*index = static_cast<uint32_t>(v);
	return true;
}

// How a problem with a salt and an erasure record is worded: the event's own (units keyed by
// index) or its context's (attributes keyed by name).
struct ErasureWording {
	const char *holder;  // "it has both a salt and an erasure record"
	const char *record;  // "its erasure record holds a non-string"
	const char *item;    // "... has no key for a value that was not erased"
};
constexpr ErasureWording kEventErasureWording{"it", "its erasure record", "a value"};
constexpr ErasureWording kContextErasureWording{"its context", "its context erasure record", "an attribute"};

class ExportEvent {
public:
	// Parses one events_export value. With require_hash false the "hash" member may be
	// absent (the vector generator computes it).
	explicit ExportEvent(std::string_view text, bool require_hash = true) : doc(ParseDocument(text))
	{
		Read(require_hash);
	}
	ExportEvent(const ExportEvent &) = delete;
	ExportEvent &operator=(const ExportEvent &) = delete;

	core::JsonDocument doc;

	std::string ledger_text;
	uint8_t ledger_id[core::kUuidSize] = {};
	uint32_t chain_id = 0;
	uint64_t seq = 0;
	uint64_t commit_seq = 0;
	int64_t committed_at_us = 0;
	uint64_t xid = 0;
	int64_t event_time_us = 0;
	uint8_t event_id[core::kUuidSize] = {};
	bool has_salt = false;
	uint8_t salt[core::kSaltSize] = {};
	bool has_hash = false;
	uint8_t hash[core::kHashSize] = {};

	// The context: its attributes in canonical order, each a unit keyed by its name, committed
	// under the context's salt (or, once an attribute was erased, its erasure record).
	bool has_context_salt = false;
	uint8_t context_salt[core::kSaltSize] = {};
	std::vector<core::ValueUnit> context_fields;
	core::ContextView context{};
	core::Hash context_hash{};  // all zero when the context is malformed (see problem())

	// Units in index order; view.resource_id / columns / details point into this.
	std::vector<core::ValueUnit> units;
	// Description of each unit, for reports: "resource_id", "column <key>", "details <key>".
	std::vector<std::string> unit_names;

	core::EventView view{};

	// Non-empty when the event cannot be hashed as stored.
	const std::string &problem() const { return problem_; }

	// The hash of this event after previous (throws core::Error on malformed data, including a
	// context that could not be hashed: its hash would not be the context's).
	core::Hash ComputeHash(const core::Hash &previous) const
	{
		if (!context_problem_.empty())
			throw core::Error(core::ErrorCode::kDataCorrupted, context_problem_);
		return core::HashEvent(previous, view);
	}

	std::string HashHex() const { return core::HexEncode(hash, core::kHashSize); }

private:
	static core::JsonDocument ParseDocument(std::string_view text)
	{
		try {
			return core::JsonDocument::Parse(text);
		} catch (const core::Error &e) {
			throw FormatError(std::string(e.what()) + (e.detail().empty() ? "" : ": " + e.detail()));
		}
	}

	const core::JsonToken &Tok(uint32_t i) const { return doc.tokens()[i]; }

	std::string_view String(const Member &m, const char *field) const
	{
		if (Tok(m.first).kind != core::JsonKind::kString)
			throw FormatError(std::string("\"") + field + "\" must be a string");
		return Tok(m.first).text.str();
	}

	bool IsNull(const Member &m) const { return Tok(m.first).kind == core::JsonKind::kNull; }

	void Read(bool require_hash)
	{
		if (doc.tokens().empty() || Tok(0).kind != core::JsonKind::kObject)
			throw FormatError("an event must be a JSON object");
		const Member *field[kFieldCount] = {};
		std::vector<Member> members = ObjectMembers(doc.tokens(), 0);
		for (const Member &m : members)
			for (int f = 0; f < kFieldCount; f++)
				if (m.key == kFieldNames[f])
					field[f] = &m;
		for (int f = 0; f < kFieldCount; f++)
			if (field[f] == nullptr && !(f == kHash && !require_hash))
				throw FormatError(std::string("missing field \"") + kFieldNames[f] + "\"");

		ledger_text = std::string(String(*field[kLedgerId], "ledger_id"));
		ParseUuid(ledger_text, ledger_id, "ledger_id");
		chain_id = static_cast<uint32_t>(ToUnsigned(Tok(field[kChainId]->first), UINT32_MAX, "chain_id"));
		seq = ToUnsigned(Tok(field[kSeq]->first), UINT64_MAX, "seq");
		commit_seq = ToUnsigned(Tok(field[kCommitSeq]->first), UINT64_MAX, "commit_seq");
		committed_at_us = ToSigned(Tok(field[kCommittedAt]->first), "committed_at_us");
		xid = ToUnsigned(Tok(field[kXid]->first), UINT64_MAX, "xid");
		event_time_us = ToSigned(Tok(field[kEventTime]->first), "event_time_us");
		ParseUuid(String(*field[kEventId], "event_id"), event_id, "event_id");
		std::string_view action = String(*field[kAction], "action");
		std::string_view outcome = String(*field[kOutcome], "outcome");
		// The context is checked first, as the database's verify() does.
		ReadContext(*field[kContext], *field[kContextSalt], *field[kContextErasure]);
		problem_ = context_problem_;
		std::string_view resource_type;
		if (IsNull(*field[kResourceType])) {
			if (problem_.empty())
				problem_ = "it has no resource_type";
		} else {
			resource_type = String(*field[kResourceType], "resource_type");
		}
		if (!IsNull(*field[kSalt])) {
			ParseHexField(String(*field[kSalt], "salt"), salt, core::kSaltSize, "salt");
			has_salt = true;
		}
		if (field[kHash] != nullptr) {
			ParseHexField(String(*field[kHash], "hash"), hash, core::kHashSize, "hash");
			has_hash = true;
		}

		// Units: resource_id, the union of old_data and new_data keys, details members.
		std::vector<Member> old_m, new_m, det_m;
		uint8_t data_flags = 0;
		bool has_details = false;
		if (ObjectOrNull(*field[kOldData], "old_data", &old_m))
			data_flags |= core::kHasOld;
		if (ObjectOrNull(*field[kNewData], "new_data", &new_m))
			data_flags |= core::kHasNew;
		has_details = ObjectOrNull(*field[kDetails], "details", &det_m);

		units.reserve(1 + old_m.size() + new_m.size() + det_m.size());
		bool has_resource_id = !IsNull(*field[kResourceId]);
		if (has_resource_id) {
			String(*field[kResourceId], "resource_id");
			core::ValueUnit u{};
			u.flags = core::kHasNew;
			u.new_value = &Tok(field[kResourceId]->first);
			u.new_tokens = 1;
			units.push_back(u);
			unit_names.push_back("resource_id");
		}
		const size_t columns_start = units.size();
		size_t i = 0, j = 0;
		while (i < old_m.size() || j < new_m.size()) {
			core::ValueUnit u{};
			const bool take_old = i < old_m.size() && (j >= new_m.size() || !core::KeyLess(new_m[j].key, old_m[i].key));
			const bool take_new = j < new_m.size() && (i >= old_m.size() || !core::KeyLess(old_m[i].key, new_m[j].key));
			if (take_old) {
				u.key = Text(old_m[i].key);
				u.flags |= core::kHasOld;
				u.old_value = &Tok(old_m[i].first);
				u.old_tokens = old_m[i].count;
				i++;
			}
			if (take_new) {
				u.key = Text(new_m[j].key);
				u.flags |= core::kHasNew;
				u.new_value = &Tok(new_m[j].first);
				u.new_tokens = new_m[j].count;
				j++;
			}
			units.push_back(u);
			unit_names.push_back("column " + std::string(u.key.str()));
		}
		const size_t details_start = units.size();
		for (const Member &m : det_m) {
			core::ValueUnit u{};
			u.key = Text(m.key);
			u.flags = core::kHasNew;
			u.new_value = &Tok(m.first);
			u.new_tokens = m.count;
			units.push_back(u);
			unit_names.push_back("details " + std::string(m.key));
		}

		// Erasure (as the extension's own verifier reads it): an event keeps either its salt or
		// an erasure record with a key for every value kept and a commitment for every value
		// erased, which must read "[ERASED]" (or a pseudonym).
		if (problem_.empty()) {
			const uint32_t unit_count = static_cast<uint32_t>(units.size());
			problem_ = ApplyErasureRecord(
				*field[kErasure], has_salt, units, kEventErasureWording,
				[unit_count](std::string_view key, uint32_t *index) { return ParseUnitIndex(key, unit_count, index); });
		}
		view.chain_id = chain_id;
		view.seq = seq;
		view.commit_seq = commit_seq;
		view.committed_at = committed_at_us;
		view.xid = xid;
		view.event_time = event_time_us;
		view.event_id = event_id;
		view.action = Text(action);
		view.outcome = Text(outcome);
		view.resource_type = Text(resource_type);
		view.resource_id = has_resource_id ? &units[0] : nullptr;
		view.context_hash = context_hash.bytes;
		view.salt = has_salt ? salt : nullptr;
		view.data_flags = data_flags;
		view.columns = units.data() + columns_start;
		view.column_count = static_cast<uint32_t>(details_start - columns_start);
		view.has_details = has_details;
		view.details = units.data() + details_start;
		view.detail_count = static_cast<uint32_t>(units.size() - details_start);
	}

	bool ObjectOrNull(const Member &m, const char *field, std::vector<Member> *out) const
	{
		if (IsNull(m))
			return false;
		if (Tok(m.first).kind != core::JsonKind::kObject)
			throw FormatError(std::string("\"") + field + "\" must be an object or null");
		*out = ObjectMembers(doc.tokens(), m.first);
		return true;
	}

	// The context: "context" an object of strings (in canonical order once parsed), with
	// "context_salt" (hex or null) and "context_erasure" (an erasure record keyed by attribute
	// name, or null). Sets context_problem_ instead of hashing a context that is malformed.
	void ReadContext(const Member &attributes, const Member &salt_member, const Member &erasure)
	{
		if (Tok(attributes.first).kind != core::JsonKind::kObject)
			throw FormatError("\"context\" must be an object");
		for (const Member &m : ObjectMembers(doc.tokens(), attributes.first)) {
			if (Tok(m.first).kind != core::JsonKind::kString)
				throw FormatError("\"context\" values must be strings");
			core::ValueUnit f{};
			f.key = Text(m.key);
			f.flags = core::kHasNew;
			f.new_value = &Tok(m.first);
			f.new_tokens = 1;
			context_fields.push_back(f);
		}
		if (!IsNull(salt_member)) {
			ParseHexField(String(salt_member, "context_salt"), context_salt, core::kSaltSize, "context_salt");
			has_context_salt = true;
		}
		// An attribute is named (an unnamed unit would be the resource_id's form).
		for (const core::ValueUnit &f : context_fields)
			if (f.key.size == 0)
				context_problem_ = "its context has an attribute without a name";
		if (context_problem_.empty()) {
			context_problem_ = ApplyErasureRecord(
				erasure, has_context_salt, context_fields, kContextErasureWording,
				[this](std::string_view name, uint32_t *index) {
					for (uint32_t i = 0; i < context_fields.size(); i++) {
						if (context_fields[i].key.str() == name) {
							*index = i;
							return true;
						}
					}
					*index = kIgnoredEntry;  // no attribute of this context: the specification ignores it
					return true;
				});
		}
		context = core::ContextView{context_fields.data(), static_cast<uint32_t>(context_fields.size()),
									has_context_salt ? context_salt : nullptr};
		if (context_problem_.empty()) {
			try {
				context_hash = core::HashContext(context);
			} catch (const core::Error &e) {
				context_problem_ = std::string("its context cannot be hashed: ") + e.what();
			}
		}
	}

	// Checks the salt / erasure record form and applies the record
	// {"value_keys": {"<key>": hex16}, "commitments": {"<key>": hex32}} (other members are
	// ignored) to units. find(key, &index) gives the unit a key names, kIgnoredEntry for an
	// entry to ignore, or false where naming no unit is an error (event units).
	// Returns the problem, or an empty string.
	template <typename Find>
	std::string ApplyErasureRecord(const Member &record, bool has_record_salt, std::vector<core::ValueUnit> &targets,
								   const ErasureWording &w, Find find)
	{
		const std::string holder = w.holder, rec = w.record;
		if (IsNull(record))
			return has_record_salt ? std::string() : holder + " has neither a salt nor an erasure record";
		if (Tok(record.first).kind != core::JsonKind::kObject)
			return rec + " is not an object";
		if (has_record_salt)
			return holder + " has both a salt and an erasure record";
		for (const Member &section : ObjectMembers(doc.tokens(), record.first)) {
			const bool keys = section.key == "value_keys";
			if (!keys && section.key != "commitments")
				continue;
			if (Tok(section.first).kind != core::JsonKind::kObject)
				return rec + "'s \"" + std::string(section.key) + "\" is not an object";
			const size_t size = keys ? core::kValueKeySize : core::kHashSize;
			for (const Member &entry : ObjectMembers(doc.tokens(), section.first)) {
				uint32_t index;
				if (!find(entry.key, &index))
					return rec + " names a value that does not exist";
				if (index == kIgnoredEntry)
					continue;
				const core::JsonToken &v = Tok(entry.first);
				if (v.kind != core::JsonKind::kString)
					return rec + " holds a non-string";
				std::array<uint8_t, core::kHashSize> bytes{};
				try {
					core::HexDecode(v.text.str(), bytes.data(), size);
				} catch (const core::Error &) {
					return rec + " holds a malformed key or commitment";
				}
				erasure_bytes_.push_back(bytes);
				if (keys)
					targets[index].value_key = erasure_bytes_.back().data();
				else
					targets[index].commitment = erasure_bytes_.back().data();
			}
		}
		for (const core::ValueUnit &u : targets) {
			if (u.commitment == nullptr && u.value_key == nullptr)
				return rec + " has no key for " + w.item + " that was not erased";
			if (u.commitment != nullptr && (((u.flags & core::kHasOld) && !core::IsErasedValue(u.old_value, u.old_tokens)) ||
											((u.flags & core::kHasNew) && !core::IsErasedValue(u.new_value, u.new_tokens))))
				return holder + " holds a value where one was erased";
		}
		return {};
	}

	static constexpr uint32_t kIgnoredEntry = UINT32_MAX;

	static core::TextView Text(std::string_view s)
	{
		return core::TextView{s.data(), static_cast<uint32_t>(s.size())};
	}

	enum Field {
		kLedgerId, kChainId, kSeq, kCommitSeq, kCommittedAt, kXid, kEventTime, kEventId, kAction, kOutcome,
		kResourceType, kResourceId, kContext, kContextSalt, kContextErasure, kSalt, kOldData, kNewData, kDetails,
		kErasure, kHash, kFieldCount
	};
	static constexpr const char *kFieldNames[kFieldCount] = {
		"ledger_id", "chain_id", "seq",         "commit_seq", "committed_at_us", "xid",      "event_time_us",
		"event_id",  "action",   "outcome",     "resource_type", "resource_id", "context", "context_salt",
		"context_erasure", "salt", "old_data", "new_data", "details", "erasure", "hash"};

	std::deque<std::array<uint8_t, core::kHashSize>> erasure_bytes_;  // keys and commitments of both records
	std::string context_problem_;
	std::string problem_;
};

}  // namespace audit_chain::tools
