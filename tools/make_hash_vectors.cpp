// tools/make_hash_vectors.cpp: generates the published hash test vectors (test/vectors/).
//
//   audit_chain_make_vectors OUTDIR
//
// writes OUTDIR/hash_vectors.json (events with every intermediate value, and a digest),
// OUTDIR/hash_vectors.jsonl (the events as events_export lines) and
// OUTDIR/hash_vectors_digest.json (the digest as audit_chain.digest() returns it).
// The committed files are data: ctest checks this generator still reproduces them and
// test/unit/hash_vectors_test.cpp recomputes everything from their JSON.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/byte_sink.hpp"
#include "core/chain.hpp"
#include "core/error.hpp"
#include "core/event_encoding.hpp"
#include "core/hex.hpp"
#include "core/json_text.hpp"
#include "core/sha256.hpp"
#include "export_event.hpp"
#include "jsonb_text.hpp"

namespace {

namespace core = audit_chain::core;
namespace tools = audit_chain::tools;
using core::Hash;

constexpr char kLedger[] = "5f0c7a3e-2b1d-4c8e-9a6f-0123456789ab";

// ---- the events (export form without "hash"; member order does not matter) ----

// A row of audit_chain.contexts: its attributes and the salt their commitments are keyed by.
// Events of one session share it (chain1-seq1 and -seq2, chain1-seq3 and chain2-seq3).
struct Context {
	const char *attributes;
	const char *salt;
};

constexpr Context kCtxA{
	R"J({"actor_id": "alice@example.com", "actor_type": "user", "session_user": "app", "current_user": "app",)J"
	R"J( "client_addr": "192.0.2.10", "application_name": "billing-api", "request_id": "req-7f3a", "session_id": "sess-19"})J",
	"e869ebbfe619a32a5b83f861d43b0e81"};
constexpr Context kCtxB{
	R"J({"actor_id": "svc-reconciler", "actor_type": "service", "session_user": "batch", "current_user": "batch"})J",
	"de39671fef3e98a38b9d9dd5f7db0137"};
constexpr Context kCtxC{
	R"J({"actor_id": "root-ops", "actor_type": "admin", "session_user": "postgres", "current_user": "postgres",)J"
	R"J( "client_addr": "2001:db8::5", "application_name": "psql", "reason": "GDPR cleanup, ticket #4411 \u2013 \u00fcn\u00efc\u00f6d\u00e9"})J",
	"49a7b9d3297323adeb784be1a6c3a7c1"};
constexpr Context kCtxD{
	R"J({"actor_id": "alice", "actor_type": "user", "session_user": "web", "current_user": "web",)J"
	R"J( "client_addr": "198.51.100.23", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "request_id": "r-1"})J",
	"4e933a8e86939ec60f510cb1a9a232d4"};
constexpr Context kCtxE{
	R"J({"actor_id": "dpo", "actor_type": "admin", "session_user": "app", "current_user": "app", "reason": "customer update"})J",
	"5f56790018d246dbb2367ecd006b9771"};

// The context members of an export row whose context was never erased.
std::string
ContextMembers(const Context &c)
{
	return std::string("\"context\": ") + c.attributes + ", \"context_salt\": \"" + c.salt + "\", \"context_erasure\": null";
}

// Secret of the vectors' one context erasure; audit_chain.erase_value() draws a random one and
// forgets it, so a verifier never needs it.
constexpr char kPseudonymSeed[] = "audit_chain vectors erasure secret";
const core::Hash kPseudonymSecret = core::Sha256::Of(kPseudonymSeed, sizeof kPseudonymSeed - 1);

// The pseudonym erasure leaves in place of an identifier (actor_id, session ids).
std::string
Pseudonym(const std::string &value)
{
	char out[core::kErasedPseudonymSize + 1];
	core::ErasedPseudonym(kPseudonymSecret.bytes, core::kHashSize, value.data(), value.size(), out);
	return out;
}

// An erased context attribute and what the export shows in its place.
struct ErasedAttribute {
	std::string name;
	std::string reads;
};

constexpr char kAccountRow[] = R"J({
	"id": 1001,
	"owner": "Zo\u00eb \u00c7elik",
	"balance": 1250.50,
	"rate": 0.0700,
	"limit": 123456789012345678901234567890,
	"tiny": 0.000000000000000000000000000001,
	"delta": -42.000,
	"active": true,
	"closed_at": null,
	"opened_at": "2026-01-01T10:00:00.1+00:00",
	"note": "line 1\nline 2\t\"quoted\" \\ back\u0001",
	"tags": ["vip", "\u00e9t\u00e9", "\ud83d\ude00"],
	"profile": {"prefs": {"lang": "de-CH", "emails": false},
				"address": {"zip": "8001", "city": "Z\u00fcrich", "lines": ["Bahnhofstrasse 1", ""]},
				"scores": [1, 2.50, -0.5, 100]},
	"gr\u00f6\u00dfe": 1.80,
	"\u540d\u524d": "\u30be\u30fc\u30a4",
	"\u00e9": "acute",
	"zz": "ascii",
	"\u03a9": "omega"
})J";

struct Spec {
	const char *name;
	const char *covers;
	std::string text;  // export form without "hash"
	// Set when the exported row shows its context erased: the original context (text holds it
	// as ContextMembers writes it) and the erased attributes. The event hash is the original's.
	const Context *context = nullptr;
	std::vector<ErasedAttribute> erased_attributes = {};
};

std::string
Event(const std::string &fields)
{
	return std::string("{\"ledger_id\": \"") + kLedger + "\", " + fields + "}";
}

std::vector<Spec>
Specs()
{
	std::vector<Spec> s;
	s.push_back({"chain1-seq1-insert",
				 "INSERT: nested objects and arrays, numbers with trailing zeros (1250.50, 0.0700, -42.000), "
				 "exponent-free big and tiny numbers, escapes and a control character in a string, unicode strings, "
				 "keys of equal byte length in bytewise order (id < zz < \u00e9 < \u03a9), multi-byte keys whose "
				 "byte length differs from their character count (gr\u00f6\u00dfe: 7 bytes, \u540d\u524d: 6 bytes)",
				 Event(std::string(R"J("chain_id": 1, "seq": 1, "commit_seq": 41, "committed_at_us": 1767261600123456,)J"
								   R"J( "xid": 4294968037, "event_time_us": 1767261600101010,)J"
								   R"J( "event_id": "a288fb56-261b-4222-bc31-009a92e4e084", "action": "INSERT",)J"
								   R"J( "outcome": "success", "resource_type": "public.accounts", "resource_id": "1001", )J") +
					   ContextMembers(kCtxA) +
					   R"J(, "salt": "b21dfec00c41872300d9218bc0bcf127", "old_data": null, "new_data": )J" + kAccountRow +
					   R"J(, "details": null, "erasure": null)J")});
	s.push_back({"chain1-seq2-update",
				 "UPDATE of several columns (old and new value in each unit) in the same transaction as the INSERT: "
				 "same commit_seq and committed_at",
				 Event(std::string(R"J("chain_id": 1, "seq": 2, "commit_seq": 41, "committed_at_us": 1767261600123456,)J"
								   R"J( "xid": 4294968037, "event_time_us": 1767261600111111,)J"
								   R"J( "event_id": "fe9d4a99-3c19-4d48-87fe-3e0c0c13b03a", "action": "UPDATE",)J"
								   R"J( "outcome": "success", "resource_type": "public.accounts", "resource_id": "1001", )J") +
					   ContextMembers(kCtxA) +
					   R"J(, "salt": "b6c74403e36c2c9954078cc4cc0ddf37",)J"
					   R"J( "old_data": {"rate": 0.0700, "owner": "Zo\u00eb \u00c7elik", "balance": 1250.50,)J"
					   R"J( "profile": {"prefs": {"lang": "de-CH", "emails": false}, "address": {"zip": "8001", "city": "Z\u00fcrich", "lines": ["Bahnhofstrasse 1", ""]}, "scores": [1, 2.50, -0.5, 100]}},)J"
					   R"J( "new_data": {"rate": 0.0650, "owner": "Zo\u00eb \u00c7elik-Meyer", "balance": 1180.25,)J"
					   R"J( "profile": {"prefs": {"lang": "fr-CH", "emails": true}, "address": {"zip": "1201", "city": "Gen\u00e8ve", "lines": []}, "scores": [1, 2.50, -0.5, 100]}},)J"
					   R"J( "details": null, "erasure": null)J")});
	s.push_back({"chain1-seq3-delete",
				 "DELETE with a composite primary key (resource_id is a JSON array text), old_data only",
				 Event(std::string(R"J("chain_id": 1, "seq": 3, "commit_seq": 57, "committed_at_us": 1767265200000001,)J"
								   R"J( "xid": 4294968101, "event_time_us": 1767265199999000,)J"
								   R"J( "event_id": "659610a6-b1e5-4a17-a309-2dbc2e9f107f", "action": "DELETE",)J"
								   R"J( "outcome": "success", "resource_type": "public.order_lines", "resource_id": "[7, \"eu\"]", )J") +
					   ContextMembers(kCtxB) +
					   R"J(, "salt": "f2f633b7ba4a6b6a34347bce006ce0eb",)J"
					   R"J( "old_data": {"order_id": 7, "region": "eu", "qty": 3, "price": 19.90, "sku": "A-1", "shipped": null},)J"
					   R"J( "new_data": null, "details": null, "erasure": null)J")});
	s.push_back({"chain1-seq4-truncate",
				 "TRUNCATE: no resource_id, no data, no details (no units); another transaction with the same "
				 "committed_at as its predecessor, which is allowed",
				 Event(std::string(R"J("chain_id": 1, "seq": 4, "commit_seq": 60, "committed_at_us": 1767265200000001,)J"
								   R"J( "xid": 4294968102, "event_time_us": 1767265199999500,)J"
								   R"J( "event_id": "f6303252-29ac-40d6-a334-20f55278eb31", "action": "TRUNCATE",)J"
								   R"J( "outcome": "success", "resource_type": "public.order_lines", "resource_id": null, )J") +
					   ContextMembers(kCtxC) +
					   R"J(, "salt": "609f233c02b916edaed3c2d0c1d6456d", "old_data": null, "new_data": null,)J"
					   R"J( "details": null, "erasure": null)J")});
	s.push_back({"chain2-seq1-application",
				 "application-style event with details (outcome failure, no row data); details keys of 4 bytes where "
				 "bytewise order (\uff21b < \U0001F600) differs from UTF-16 order. Its context was erased later: "
				 "actor_id (\"alice\") reads as a pseudonym \"[ERASED:\" + 16 hex digits + \"]\" (HMAC-SHA-256 of the "
				 "value under a secret the erasure discarded; verifiers do not recompute it), client_addr "
				 "(\"198.51.100.23\") reads \"[ERASED]\"; context_salt (originally 4e933a8e86939ec60f510cb1a9a232d4) "
				 "is null and context_erasure keeps the two attributes' commitments (F_0 and F_4) and an explicit key "
				 "for each other attribute, so the context hash and the event hash are those computed before erasure",
				 Event(std::string(R"J("chain_id": 2, "seq": 1, "commit_seq": 42, "committed_at_us": 1767261600200000,)J"
								   R"J( "xid": 4294968040, "event_time_us": 1767261600199000,)J"
								   R"J( "event_id": "0c0dcf38-d844-4c22-9fec-f58a09fb23bd", "action": "LOGIN",)J"
								   R"J( "outcome": "failure", "resource_type": "app.session", "resource_id": "user:alice", )J") +
					   ContextMembers(kCtxD) +
					   R"J(, "salt": "633b0fde0cb66c40fa5741a8ba71e9f1", "old_data": null, "new_data": null,)J"
					   R"J( "details": {"method": "password", "attempt": 3, "mfa": {"required": true, "passed": false},)J"
					   R"J( "geo": {"country": "CH", "lat": 47.3769, "lon": 8.5417}, "\uff21b": "fullwidth", "\ud83d\ude00": "emoji"},)J"
					   R"J( "erasure": null)J"),
				 &kCtxD,
				 {{"actor_id", Pseudonym("alice")}, {"client_addr", "[ERASED]"}}});
	// The erased event is generated from this original (see Erase below).
	s.push_back({"chain2-seq2-erased",
				 "erased event: salt removed; units 3 (email) and 4 (phone) replaced by their commitments, units 0-2 "
				 "keep explicit value keys; the hash is the one computed before erasure. Erased values are not hashed; "
				 "audit_chain.erase() replaces them with the string \"[ERASED]\". Also: old_data and new_data with different keys (name only old, tier only "
				 "new) exercise the union rule and flags 1 and 2",
				 Event(std::string(R"J("chain_id": 2, "seq": 2, "commit_seq": 58, "committed_at_us": 1767268800000000,)J"
								   R"J( "xid": 4294968120, "event_time_us": 1767268799000000,)J"
								   R"J( "event_id": "a658e739-aa67-4730-935e-6c6e0ba6a702", "action": "UPDATE",)J"
								   R"J( "outcome": "success", "resource_type": "public.customers", "resource_id": "c-77", )J") +
					   ContextMembers(kCtxE) +
					   R"J(, "salt": "57dee95eeb25ca88e297a1c12728016a",)J"
					   R"J( "old_data": {"email": "ann@example.com", "name": "Ann", "phone": "+41 44 000 00 00"},)J"
					   R"J( "new_data": {"email": "ann.m@example.org", "phone": null, "tier": "gold"},)J"
					   R"J( "details": null, "erasure": null)J")});
	s.push_back({"chain2-seq3-insert-empty-row",
				 "INSERT of a row of a table without columns and without a key: new_data is the empty object (data "
				 "flag set, zero columns), resource_id is the SHA-256 hex of the row's jsonb text",
				 Event(std::string(R"J("chain_id": 2, "seq": 3, "commit_seq": 61, "committed_at_us": 1767268800000005,)J"
								   R"J( "xid": 4294968125, "event_time_us": 1767268800000004,)J"
								   R"J( "event_id": "1e51e0cc-d355-4327-a202-b1383c5df590", "action": "INSERT",)J"
								   R"J( "outcome": "success", "resource_type": "public.empty_rows",)J"
								   R"J( "resource_id": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", )J") +
					   ContextMembers(kCtxB) +
					   R"J(, "salt": "c19748dc8113727a3a6863e666ad8d7a", "old_data": null, "new_data": {},)J"
					   R"J( "details": null, "erasure": null)J")});
	return s;
}

// The erased form of chain2-seq2, as audit_chain.erase_value() leaves it: the values of
// units 3 and 4 replaced by "[ERASED]",
// the salt removed and an erasure record (placeholders filled in by the caller).
constexpr char kErasedTemplate[] =
	R"J("chain_id": 2, "seq": 2, "commit_seq": 58, "committed_at_us": 1767268800000000,)J"
	R"J( "xid": 4294968120, "event_time_us": 1767268799000000,)J"
	R"J( "event_id": "a658e739-aa67-4730-935e-6c6e0ba6a702", "action": "UPDATE",)J"
	R"J( "outcome": "success", "resource_type": "public.customers", "resource_id": "c-77",)J"
	R"J( @CTX@, "salt": null,)J"
	R"J( "old_data": {"email": "[ERASED]", "name": "Ann", "phone": "[ERASED]"},)J"
	R"J( "new_data": {"email": "[ERASED]", "phone": "[ERASED]", "tier": "gold"},)J"
	R"J( "details": null,)J"
	R"J( "erasure": {"value_keys": {"0": "@K0@", "1": "@K1@", "2": "@K2@"}, "commitments": {"3": "@C3@", "4": "@C4@"}})J";

[[noreturn]] void
Die(const std::string &why)
{
	std::cerr << "audit_chain_make_vectors: " << why << "\n";
	std::exit(1);
}

std::string
Hex(const uint8_t *b, size_t n)
{
	return core::HexEncode(b, n);
}

std::string
Hex(const Hash &h)
{
	return Hex(h.bytes, core::kHashSize);
}

std::string
Hex(const std::string &bytes)
{
	return Hex(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
}

void
ReplaceAll(std::string &s, const std::string &from, const std::string &to)
{
	for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
		s.replace(pos, from.size(), to);
}

// Canonical text (jsonb form) of a JSON text.
std::string
Canonical(const std::string &text)
{
	core::JsonDocument doc = core::JsonDocument::Parse(text);
	return tools::JsonbText(doc.tokens().data());
}

std::string
WithHash(const std::string &text, const Hash &h)
{
	return Canonical(text.substr(0, text.rfind('}')) + ", \"hash\": \"" + Hex(h) + "\"}");
}

std::string
CommitmentBytes(const uint8_t *key, const core::ValueUnit &u)
{
	core::ByteSink s;
	s.Update("ACV1", 4);
	core::PutBytes(s, key, core::kValueKeySize);
	core::PutU8(s, u.flags);
	if (u.flags & core::kHasOld)
		core::EncodeJsonValue(s, u.old_value, u.old_tokens);
	if (u.flags & core::kHasNew)
		core::EncodeJsonValue(s, u.new_value, u.new_tokens);
	return s.bytes();
}

std::string
Sha(const std::string &bytes)
{
	Hash h = core::Sha256::Of(bytes.data(), bytes.size());
	return std::string(reinterpret_cast<const char *>(h.bytes), core::kHashSize);
}

struct UnitInfo {
	std::string key_hex;  // empty for an erased unit
	std::string key_source;
	std::string commitment_bytes_hex;  // empty for an erased unit
	std::string commitment_hex;
	bool erased = false;
};

// Where a unit's key comes from: the export member holding the salt, or the erasure record.
struct KeySources {
	const uint8_t *salt;  // null once erased
	const char *salt_member;
	const char *record_member;
};

KeySources
EventKeys(const tools::ExportEvent &e)
{
	return {e.has_salt ? e.salt : nullptr, "salt", "erasure"};
}

KeySources
ContextKeys(const tools::ExportEvent &e)
{
	return {e.has_context_salt ? e.context_salt : nullptr, "context_salt", "context_erasure"};
}

// Value keys and commitments of the event's units or of its context's fields.
std::vector<UnitInfo>
Units(const std::vector<core::ValueUnit> &units, const KeySources &sources)
{
	std::vector<UnitInfo> out;
	for (uint32_t i = 0; i < units.size(); i++) {
		const core::ValueUnit &u = units[i];
		UnitInfo info;
		if (u.commitment != nullptr) {
			info.erased = true;
			info.commitment_hex = Hex(u.commitment, core::kHashSize);
		} else {
			uint8_t key[core::kValueKeySize];
			if (u.value_key != nullptr) {
				std::memcpy(key, u.value_key, sizeof key);
				info.key_source = sources.record_member;
			} else {
				if (sources.salt == nullptr)
					Die("unit without key or salt");
				core::DeriveValueKey(sources.salt, i, key);
				info.key_source = sources.salt_member;
			}
			info.key_hex = Hex(key, sizeof key);
			std::string bytes = CommitmentBytes(key, u);
			info.commitment_bytes_hex = Hex(bytes);
			Hash c = core::ComputeCommitment(key, u);
			if (Hex(Sha(bytes)) != Hex(c))
				Die("commitment bytes do not hash to the commitment");
			info.commitment_hex = Hex(c);
		}
		out.push_back(info);
	}
	return out;
}

// Civil date of a Unix microsecond time, as PostgreSQL writes timestamptz in JSON at UTC.
std::string
UtcText(int64_t us)
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	if (frac < 0)
		frac += 1000000, secs--;
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0)
		rem += 86400, days--;
	// Howard Hinnant's civil_from_days.
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	char buf[64];
	std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", (long long) y, (long long) m,
				  (long long) d, (long long) (rem / 3600), (long long) (rem / 60 % 60), (long long) (rem % 60));
	std::string out = buf;
	if (frac) {
		std::snprintf(buf, sizeof buf, ".%06lld", (long long) frac);
		std::string f = buf;
		while (f.back() == '0')
			f.pop_back();
		out += f;
	}
	return out + "+00:00";
}

std::string
JsonStr(const std::string &s)
{
	std::string out;
	tools::AppendJsonString(out, s);
	return out;
}

// The context members of the row as erasure leaves it: the erased attributes read as given,
// context_salt is null, and context_erasure keeps each erased attribute's commitment and the
// key of every other one (keys derived from the original salt).
std::string
ErasedContextMembers(const tools::ExportEvent &original, const std::vector<ErasedAttribute> &erased)
{
	std::string attributes, keys, commitments;
	for (uint32_t i = 0; i < original.context_fields.size(); i++) {
		const core::ValueUnit &f = original.context_fields[i];
		const std::string name(f.key.str());
		std::string value(f.new_value[0].text.str());
		uint8_t key[core::kValueKeySize];
		core::DeriveValueKey(original.context_salt, i, key);
		bool is_erased = false;
		for (const ErasedAttribute &a : erased) {
			if (a.name == name) {
				commitments += (commitments.empty() ? "" : ", ") + JsonStr(name) + ": \"" +
							   Hex(core::ComputeCommitment(key, f)) + "\"";
				value = a.reads;
				is_erased = true;
			}
		}
		if (!is_erased)
			keys += (keys.empty() ? "" : ", ") + JsonStr(name) + ": \"" + Hex(key, sizeof key) + "\"";
		attributes += (attributes.empty() ? "" : ", ") + JsonStr(name) + ": " + JsonStr(value);
	}
	return "\"context\": {" + attributes + "}, \"context_salt\": null, \"context_erasure\": {\"value_keys\": {" + keys +
		   "}, \"commitments\": {" + commitments + "}}";
}

// One entry of expected.units or expected.context_fields.
std::string
UnitEntry(uint32_t index, const std::string &naming, uint8_t flags, const UnitInfo &info, const char *indent)
{
	std::string u = std::string(indent) + "{\"index\": " + std::to_string(index) + naming + ", \"flags\": " +
					std::to_string(flags);
	if (info.erased)
		return u + ", \"erased\": true, \"commitment\": \"" + info.commitment_hex + "\"}";
	return u + ", \"value_key_from\": " + JsonStr(info.key_source) + ", \"value_key\": \"" + info.key_hex + "\",\n" +
		   indent + " \"commitment_bytes\": \"" + info.commitment_bytes_hex + "\",\n" + indent + " \"commitment\": \"" +
		   info.commitment_hex + "\"}";
}

// "ACC2" || u32(n) || (str(name) || u8(2) || F_i)*, written out from the fields' commitments.
std::string
SpecContextBytes(const tools::ExportEvent &e, const std::vector<UnitInfo> &fields)
{
	core::ByteSink s;
	s.Update("ACC2", 4);
	core::PutU32(s, static_cast<uint32_t>(fields.size()));
	for (uint32_t i = 0; i < fields.size(); i++) {
		core::PutStr(s, e.context_fields[i].key.str());
		core::PutU8(s, core::kHasNew);
		uint8_t commitment[core::kHashSize];
		core::HexDecode(fields[i].commitment_hex, commitment, sizeof commitment);
		core::PutBytes(s, commitment, sizeof commitment);
	}
	return s.bytes();
}

}  // namespace

int
main(int argc, char **argv)
{
	if (argc != 2)
		Die("usage: audit_chain_make_vectors OUTDIR");
	const std::string outdir = argv[1];
	try {
		std::vector<Spec> specs = Specs();
		uint8_t ledger[core::kUuidSize];
		tools::ParseUuid(kLedger, ledger, "ledger_id");

		std::map<uint32_t, Hash> previous;  // chain -> hash of its last event
		std::map<uint32_t, std::pair<uint64_t, int64_t>> head_pos;
		std::string events_json, lines;
		for (size_t n = 0; n < specs.size(); n++) {
			Spec &spec = specs[n];
			auto original = std::make_unique<tools::ExportEvent>(spec.text, false);
			if (!original->problem().empty())
				Die(spec.name + std::string(": ") + original->problem());
			uint32_t chain = original->chain_id;
			if (!previous.count(chain))
				previous[chain] = core::GenesisHash(ledger, chain);
			const Hash prev = previous[chain];
			const Hash hash = original->ComputeHash(prev);

			std::string text = spec.text;
			if (spec.context != nullptr) {
				if (text.find(ContextMembers(*spec.context)) == std::string::npos)
					Die(spec.name + std::string(": the context to erase is not in the event"));
				ReplaceAll(text, ContextMembers(*spec.context), ErasedContextMembers(*original, spec.erased_attributes));
			}
			if (std::string(spec.name) == "chain2-seq2-erased") {
				std::vector<UnitInfo> u = Units(original->units, EventKeys(*original));
				std::string t = Event(kErasedTemplate);
				ReplaceAll(t, "@CTX@", ContextMembers(kCtxE));
				for (int i = 0; i < 3; i++)
					ReplaceAll(t, "@K" + std::to_string(i) + "@", u[i].key_hex);
				for (int i = 3; i < 5; i++)
					ReplaceAll(t, "@C" + std::to_string(i) + "@", u[i].commitment_hex);
				text = t;
			}
			const std::string final_text = WithHash(text, hash);
			tools::ExportEvent e(final_text);
			if (!e.problem().empty())
				Die(spec.name + std::string(": ") + e.problem());
			// The stored (possibly erased) form must hash like the original.
			core::ChainCursor cursor = core::ResumeChain(chain, e.seq - 1, INT64_MIN, prev);
			Hash computed;
			if (core::CheckNext(cursor, e.view, e.hash, computed) != core::LinkStatus::kOk)
				Die(spec.name + std::string(": stored form does not verify"));
			previous[chain] = hash;
			head_pos[chain] = {e.seq, e.committed_at_us};

			// The context as stored (possibly erased) hashes like the original.
			if (Hex(e.context_hash) != Hex(original->context_hash))
				Die(spec.name + std::string(": the stored context does not hash like the original"));
			std::vector<UnitInfo> fields = Units(e.context_fields, ContextKeys(e));
			core::ByteSink ctx_bytes;
			core::WriteContext(ctx_bytes, e.context);
			if (Hex(ctx_bytes.bytes()) != Hex(SpecContextBytes(e, fields)))
				Die(spec.name + std::string(": context bytes differ from the specification"));
			core::ByteSink event_bytes;
			core::WriteEvent(event_bytes, prev, e.view);
			if (Hex(Sha(event_bytes.bytes())) != Hex(hash))
				Die("event bytes do not hash to the event hash");

			std::string c;
			for (uint32_t i = 0; i < fields.size(); i++)
				c += std::string(i ? ",\n" : "") +
					 UnitEntry(i, ", \"name\": " + JsonStr(std::string(e.context_fields[i].key.str())),
							   e.context_fields[i].flags, fields[i], "        ");
			std::vector<UnitInfo> units = Units(e.units, EventKeys(e));
			std::string u;
			for (uint32_t i = 0; i < units.size(); i++) {
				const std::string &name = e.unit_names[i];
				std::string kind = name.substr(0, name.find(' '));
				std::string naming = ", \"unit\": " + JsonStr(kind);
				if (kind != "resource_id")
					naming += ", \"key\": " + JsonStr(name.substr(name.find(' ') + 1));
				u += std::string(i ? ",\n" : "") + UnitEntry(i, naming, e.units[i].flags, units[i], "        ");
			}
			events_json += std::string(n ? ",\n" : "") + "    {\n      \"name\": " + JsonStr(spec.name) +
						   ",\n      \"covers\": " + JsonStr(spec.covers) + ",\n      \"event\": " + final_text +
						   ",\n      \"expected\": {\n        \"previous_hash\": \"" + Hex(prev) +
						   "\",\n        \"context_fields\": [" + (fields.empty() ? "" : "\n" + c + "\n      ") +
						   "],\n        \"context_bytes\": \"" + Hex(ctx_bytes.bytes()) +
						   "\",\n        \"context_hash\": \"" + Hex(e.context_hash) + "\",\n        \"units\": [" +
						   (units.empty() ? "" : "\n" + u + "\n      ") + "],\n        \"event_bytes\": \"" +
						   Hex(event_bytes.bytes()) + "\",\n        \"hash\": \"" + Hex(hash) + "\"\n      }\n    }";
			lines += final_text + "\n";
		}

		// Genesis hashes, with their bytes.
		std::string genesis;
		for (const auto &[chain, unused] : previous) {
			core::ByteSink b;
			b.Update("ACG1", 4);
			core::PutBytes(b, ledger, core::kUuidSize);
			core::PutU32(b, chain);
			Hash g = core::GenesisHash(ledger, chain);
			if (Hex(Sha(b.bytes())) != Hex(g))
				Die("genesis bytes");
			genesis += std::string(genesis.empty() ? "" : ",\n") + "    {\"chain_id\": " + std::to_string(chain) +
					   ", \"bytes\": \"" + Hex(b.bytes()) + "\", \"hash\": \"" + Hex(g) + "\"}";
		}

		// The digest of both chain heads, as audit_chain.digest() returns it.
		std::vector<core::ChainHead> heads;
		std::string heads_text;
		for (const auto &[chain, pos] : head_pos) {
			core::ChainHead h{};
			h.chain_id = chain;
			h.seq = pos.first;
			h.committed_at = pos.second;
			h.hash = previous[chain];
			heads.push_back(h);
			heads_text += std::string(heads_text.empty() ? "" : ", ") + "{\"chain_id\": " + std::to_string(chain) +
						  ", \"seq\": " + std::to_string(h.seq) + ", \"committed_at\": \"" + UtcText(h.committed_at) +
						  "\", \"committed_at_us\": " + std::to_string(h.committed_at) + ", \"hash\": \"" +
						  Hex(h.hash) + "\"}";
		}
		core::ByteSink digest_bytes;
		core::WriteDigest(digest_bytes, ledger, heads.data(), static_cast<uint32_t>(heads.size()));
		Hash digest = core::HashDigest(ledger, heads.data(), static_cast<uint32_t>(heads.size()));
		const std::string digest_text = Canonical(
			std::string("{\"format\": \"audit_chain.digest.v1\", \"ledger_id\": \"") + kLedger +
			"\", \"taken_at\": \"" + UtcText(1767272400000000) + "\", \"heads\": [" + heads_text +
			"], \"digest\": \"" + Hex(digest) + "\"}");

		std::string doc;
		doc += "{\n";
		doc += "  \"title\": \"audit_chain hash specification, format 2: test vectors\",\n";
		doc += "  \"generated_by\": \"tools/make_hash_vectors.cpp (build target audit_chain_make_vectors); do not edit\",\n";
		doc += "  \"description\": [\n";
		const std::vector<const char *> description = {
				 "Each entry of events is one row of audit_chain.events_export (member event, exactly as PostgreSQL "
				 "prints the jsonb) with the values an implementation of the hash specification (README.md) computes on the way.",
				 "The events form two chains of one ledger, each starting at its genesis hash; events are listed in "
				 "chain order, and hash_vectors.jsonl holds the same events one per line.",
				 "expected.previous_hash: the genesis hash (seq 1) or the hash of the preceding event of the chain.",
				 "expected.context_fields: the context's attributes (event.context, an object of strings) in key "
				 "order (byte length, then bytewise), numbered from 0, each committed like a details member under "
				 "the context's own salt. flags: always 2. value_key: 16 bytes, bytes 16 x (i mod 2) to "
				 "16 x (i mod 2) + 15 of SHA-256(\"ACK1\" || context_salt || u32(i div 2)) (value_key_from "
				 "context_salt), or taken from event.context_erasure.value_keys by attribute name (value_key_from "
				 "context_erasure). commitment_bytes: \"ACV1\" || value_key || u8(2) || canon(value), the value a "
				 "JSON string ('s' || str(value)); commitment (F_i): its SHA-256. An erased attribute reads "
				 "\"[ERASED]\" or a pseudonym \"[ERASED:\" + 16 lower-case hex digits + \"]\" and has only its "
				 "commitment, from event.context_erasure.commitments; its value is not hashed.",
				 "expected.context_bytes / context_hash: \"ACC2\" || u32(n) || (str(name) || u8(2) || F_i)*, "
				 "and its SHA-256.",
				 "expected.units: the event's units in index order (resource_id, columns = union of old_data and "
				 "new_data keys in key order, details members in key order). flags: 1 old value, 2 new value. "
				 "value_key: 16 bytes, derived from the salt (value_key_from salt) or taken from the erasure record "
				 "(value_key_from erasure). commitment_bytes: \"ACV1\" || value_key || u8(flags) || canon(old) || "
				 "canon(new); commitment: its SHA-256. An erased unit has only its commitment (from the erasure "
				 "record); its values are not hashed.",
				 "expected.event_bytes: every byte hashed for the event link (\"ACE1\" || previous hash || ...); "
				 "expected.hash = SHA-256(event_bytes) = event.hash.",
				 "Numbers are hashed as the literal text PostgreSQL prints (1250.50 stays 1250.50): parse them "
				 "without converting to floating point. Strings are hashed unescaped, as UTF-8.",
				 "digest.value is a value of audit_chain.digest() for the heads of both chains (also in "
				 "hash_vectors_digest.json); digest.expected.bytes is \"ACD1\" || ledger_id || u32(n) || (u32 chain_id "
				 "|| u64 seq || i64 committed_at_us || hash)*, digest.expected.digest its SHA-256.",
		};
		for (size_t i = 0; i < description.size(); i++)
			doc += std::string("    ") + JsonStr(description[i]) + (i + 1 < description.size() ? ",\n" : "\n");
		doc += "  ],\n";
		doc += std::string("  \"ledger_id\": \"") + kLedger + "\",\n";
		doc += "  \"genesis\": [\n" + genesis + "\n  ],\n";
		doc += "  \"events\": [\n" + events_json + "\n  ],\n";
		doc += "  \"digest\": {\n    \"value\": " + digest_text + ",\n    \"expected\": {\n      \"bytes\": \"" +
			   Hex(digest_bytes.bytes()) + "\",\n      \"digest\": \"" + Hex(digest) + "\"\n    }\n  }\n}\n";
		core::JsonDocument::Parse(doc);  // must be valid JSON

		auto write = [&](const std::string &name, const std::string &content) {
			std::ofstream out(outdir + "/" + name, std::ios::binary);
			out << content;
			if (!out)
				Die("cannot write " + outdir + "/" + name);
		};
		write("hash_vectors.json", doc);
		write("hash_vectors.jsonl", lines);
		write("hash_vectors_digest.json", digest_text + "\n");
	} catch (const core::Error &e) {
		Die(std::string(e.what()) + " " + e.detail());
	} catch (const tools::FormatError &e) {
		Die(e.what());
	}
	return 0;
}
