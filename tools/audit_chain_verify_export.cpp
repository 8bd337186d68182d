// tools/audit_chain_verify_export.cpp: verifies exported audit events outside the database.
//
//   audit_chain_verify_export [--digest FILE] [FILE|-]
//
// Input: JSON lines, one value of audit_chain.events_export per line, in any order
// (psql -At -c "SELECT event FROM audit_chain.events_export ORDER BY chain_id, seq").
// Each chain is checked from its genesis: positions 1..n without gaps or duplicates, every
// hash recomputed (the hash specification in README.md, format 2: each event's context hash
// is recomputed from its attributes, context_salt and context_erasure, so an erased or altered
// context attribute is checked like an event value), committed_at never decreasing. With --digest, a
// value of audit_chain.digest() is checked too: its own digest hash, and that each head it
// names is in the export with that hash.
//
// Output: one line per chain, a "digest:" line with --digest, then "valid" or
// "INVALID: <reason>". Exit status 0 valid, 1 invalid, 2 usage or parse error.
// tools/reference_verifier.py implements the same contract independently.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/chain.hpp"
#include "core/error.hpp"
#include "core/hex.hpp"
#include "core/json_text.hpp"
#include "export_event.hpp"

namespace {

using audit_chain::core::ChainCursor;
using audit_chain::core::ChainHead;
using audit_chain::core::Hash;
using audit_chain::core::JsonKind;
using audit_chain::core::LinkStatus;
using audit_chain::tools::ExportEvent;
using audit_chain::tools::FormatError;
namespace core = audit_chain::core;
namespace tools = audit_chain::tools;

constexpr char kDigestFormat[] = "audit_chain.digest.v1";

struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

std::string
Hex(const uint8_t *b, size_t n)
{
	return core::HexEncode(b, n);
}

std::string
ReadAll(const std::string &path)
{
	if (path == "-") {
		std::ostringstream s;
		s << std::cin.rdbuf();
		return s.str();
	}
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw UsageError("cannot open " + path);
	std::ostringstream s;
	s << in.rdbuf();
	return s.str();
}

bool
IsBlank(std::string_view line)
{
	for (char c : line)
		if (c != ' ' && c != '\t' && c != '\r')
			return false;
	return true;
}

// Result of checking one chain.
struct ChainResult {
	uint32_t chain_id;
	bool valid = true;
	std::string reason;
	uint64_t verified = 0;                 // events verified from seq 1
	std::vector<Hash> hashes;              // hash of each verified event (index seq - 1)
	std::vector<int64_t> committed_at;     // its committed_at_us
};

ChainResult
CheckChain(uint32_t chain_id, const uint8_t *ledger_id, std::vector<const ExportEvent *> &events)
{
	ChainResult r;
	r.chain_id = chain_id;
	std::stable_sort(events.begin(), events.end(),
					 [](const ExportEvent *a, const ExportEvent *b) { return a->seq < b->seq; });
	ChainCursor cursor = core::StartOfChain(ledger_id, chain_id);
	const std::string c = std::to_string(chain_id);
	for (const ExportEvent *e : events) {
		const std::string s = std::to_string(e->seq);
		// A malformed event is reported where it would be checked (positions come first).
		if (!e->problem().empty() && e->seq == cursor.next_seq) {
			r.valid = false;
			r.reason = "event " + s + " of chain " + c + " is malformed: " + e->problem();
			return r;
		}
		Hash computed{};
		LinkStatus status;
		try {
			status = core::CheckNext(cursor, e->view, e->hash, computed);
		} catch (const core::Error &err) {
			r.valid = false;
			r.reason = "event " + s + " of chain " + c + " is malformed: " + err.what();
			return r;
		}
		switch (status) {
		case LinkStatus::kOk:
			r.verified++;
			r.hashes.push_back(computed);
			r.committed_at.push_back(e->committed_at_us);
			continue;
		case LinkStatus::kMissing:
			r.reason = "event " + std::to_string(cursor.next_seq) + " of chain " + c +
					   " is missing (the next event in the export is " + s + ")";
			break;
		case LinkStatus::kUnexpected:
			r.reason = "event " + s + " of chain " + c + " is a duplicate or out-of-place event";
			break;
		case LinkStatus::kHashMismatch:
			r.reason = "event " + s + " of chain " + c +
					   " does not match its hash: the event, its hash or its predecessor was changed";
			break;
		case LinkStatus::kTimeReversed:
			r.reason = "event " + s + " of chain " + c + " has a commit time earlier than its predecessor's";
			break;
		}
		r.valid = false;
		return r;
	}
	return r;
}

struct Digest {
	uint8_t ledger_id[core::kUuidSize];
	std::vector<ChainHead> heads;
	uint8_t digest[core::kHashSize];
};

const core::JsonToken &
MemberToken(const core::JsonDocument &doc, const std::vector<tools::Member> &members, const char *name)
{
	for (const auto &m : members)
		if (m.key == name)
			return doc.tokens()[m.first];
	throw FormatError(std::string("missing field \"") + name + "\"");
}

uint32_t
MemberIndex(const std::vector<tools::Member> &members, const char *name)
{
	for (const auto &m : members)
		if (m.key == name)
			return m.first;
	throw FormatError(std::string("missing field \"") + name + "\"");
}

std::string_view
StringOf(const core::JsonToken &t, const char *name)
{
	if (t.kind != JsonKind::kString)
		throw FormatError(std::string("\"") + name + "\" must be a string");
	return t.text.str();
}

Digest
ParseDigest(const std::string &text)
{
	core::JsonDocument doc = [&] {
		try {
			return core::JsonDocument::Parse(text);
		} catch (const core::Error &e) {
			throw FormatError(std::string(e.what()) + ": " + e.detail());
		}
	}();
	if (doc.tokens()[0].kind != JsonKind::kObject)
		throw FormatError("a digest is a JSON object");
	Digest d{};
	auto root = tools::ObjectMembers(doc.tokens(), 0);
	if (StringOf(MemberToken(doc, root, "format"), "format") != kDigestFormat)
		throw FormatError(std::string("unknown digest format; expected \"") + kDigestFormat + "\"");
	tools::ParseUuid(StringOf(MemberToken(doc, root, "ledger_id"), "ledger_id"), d.ledger_id, "ledger_id");
	uint32_t heads_at = MemberIndex(root, "heads");
	if (doc.tokens()[heads_at].kind != JsonKind::kArray)
		throw FormatError("\"heads\" must be an array");
	uint32_t pos = heads_at + 1;
	for (uint32_t i = 0; i < doc.tokens()[heads_at].count; i++) {
		if (doc.tokens()[pos].kind != JsonKind::kObject)
			throw FormatError("each head must be an object");
		auto fields = tools::ObjectMembers(doc.tokens(), pos);
		ChainHead h{};
		h.chain_id = static_cast<uint32_t>(tools::ToUnsigned(MemberToken(doc, fields, "chain_id"), UINT32_MAX, "chain_id"));
		h.seq = tools::ToUnsigned(MemberToken(doc, fields, "seq"), UINT64_MAX, "seq");
		h.committed_at = tools::ToSigned(MemberToken(doc, fields, "committed_at_us"), "committed_at_us");
		tools::ParseHexField(StringOf(MemberToken(doc, fields, "hash"), "hash"), h.hash.bytes, core::kHashSize, "hash");
		d.heads.push_back(h);
		pos += core::JsonValueTokenCount(&doc.tokens()[pos], static_cast<uint32_t>(doc.tokens().size()) - pos);
	}
	tools::ParseHexField(StringOf(MemberToken(doc, root, "digest"), "digest"), d.digest, core::kHashSize, "digest");
	return d;
}

// Empty when the digest checks out against the verified chains.
std::string
CheckDigest(const Digest &d, const std::optional<std::string> &ledger, const std::map<uint32_t, ChainResult> &chains)
{
	Hash actual;
	try {
		actual = core::HashDigest(d.ledger_id, d.heads.data(), static_cast<uint32_t>(d.heads.size()));
	} catch (const core::Error &e) {
		return std::string("the digest is malformed: ") + e.what();
	}
	if (std::memcmp(actual.bytes, d.digest, core::kHashSize) != 0)
		return "the digest value does not match its heads: the digest was altered";
	// The digest of an empty trail has a zero ledger id and binds nothing.
	static const uint8_t zero[core::kUuidSize] = {};
	if (ledger && std::memcmp(d.ledger_id, zero, core::kUuidSize) != 0 && *ledger != Hex(d.ledger_id, core::kUuidSize))
		return "the digest belongs to another audit trail (ledger_id differs)";
	for (const ChainHead &h : d.heads) {
		const std::string c = std::to_string(h.chain_id), s = std::to_string(h.seq);
		auto it = chains.find(h.chain_id);
		if (it == chains.end())
			return "chain " + c + " of the digest is missing from the export: history was truncated or deleted";
		const ChainResult &r = it->second;
		if (h.seq == 0)
			return "the digest has an impossible head (seq 0) for chain " + c;
		if (h.seq > r.verified) {
			if (!r.valid)
				return "event " + s + " of chain " + c + " in the digest cannot be verified: " + r.reason;
			return "chain " + c + " ends at event " + std::to_string(r.verified) + " but the digest has event " + s +
				   ": history was truncated";
		}
		if (std::memcmp(r.hashes[h.seq - 1].bytes, h.hash.bytes, core::kHashSize) != 0 ||
			r.committed_at[h.seq - 1] != h.committed_at)
			return "event " + s + " of chain " + c + " differs from the digest: history was rewritten";
	}
	return {};
}

int
Usage(const char *message)
{
	if (message)
		std::cerr << "audit_chain_verify_export: " << message << "\n";
	std::cerr << "usage: audit_chain_verify_export [--digest FILE] [FILE|-]\n"
				 "Verifies audit_chain.events_export JSON lines (one event per line, any order).\n"
				 "Exit status: 0 valid, 1 invalid, 2 usage or parse error.\n";
	return 2;
}

int
Run(int argc, char **argv)
{
	std::optional<std::string> digest_path, input_path;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--digest") {
			if (i + 1 >= argc)
				return Usage("--digest needs a file");
			digest_path = argv[++i];
		} else if (a.rfind("--digest=", 0) == 0) {
			digest_path = a.substr(9);
		} else if (a == "-h" || a == "--help") {
			Usage(nullptr);
			return 0;
		} else if (a.size() > 1 && a[0] == '-') {
			return Usage(("unknown option " + a).c_str());
		} else if (input_path) {
			return Usage("only one input file");
		} else {
			input_path = a;
		}
	}

	std::string input = ReadAll(input_path.value_or("-"));
	std::vector<std::unique_ptr<ExportEvent>> events;
	size_t line_no = 0, start = 0;
	while (start < input.size()) {
		size_t end = input.find('\n', start);
		if (end == std::string::npos)
			end = input.size();
		std::string_view line(input.data() + start, end - start);
		start = end + 1;
		line_no++;
		if (IsBlank(line))
			continue;
		try {
			events.push_back(std::make_unique<ExportEvent>(line));
		} catch (const FormatError &e) {
			std::cerr << "audit_chain_verify_export: parse error: line " << line_no << ": " << e.what() << "\n";
			return 2;
		} catch (const core::Error &e) {
			std::cerr << "audit_chain_verify_export: parse error: line " << line_no << ": " << e.what() << "\n";
			return 2;
		}
	}
	std::optional<Digest> digest;
	if (digest_path) {
		try {
			digest = ParseDigest(ReadAll(*digest_path));
		} catch (const FormatError &e) {
			std::cerr << "audit_chain_verify_export: parse error: digest: " << e.what() << "\n";
			return 2;
		} catch (const core::Error &e) {
			std::cerr << "audit_chain_verify_export: parse error: digest: " << e.what() << "\n";
			return 2;
		}
	}

	// One ledger per export.
	std::optional<std::string> ledger;
	for (const auto &e : events) {
		std::string id = Hex(e->ledger_id, core::kUuidSize);
		if (ledger && *ledger != id) {
			std::cout << "INVALID: the export holds events of more than one ledger\n";
			return 1;
		}
		ledger = id;
	}

	std::map<uint32_t, std::vector<const ExportEvent *>> by_chain;
	for (const auto &e : events)
		by_chain[e->chain_id].push_back(e.get());
	std::map<uint32_t, ChainResult> results;
	std::string first_reason;
	for (auto &[chain_id, list] : by_chain) {
		ChainResult r = CheckChain(chain_id, list.front()->ledger_id, list);
		if (r.valid)
			std::cout << "chain " << chain_id << ": valid, " << r.verified << " events, head " << r.verified << " "
					  << Hex(r.hashes.back().bytes, core::kHashSize) << "\n";
		else
			std::cout << "chain " << chain_id << ": INVALID: " << r.reason << "\n";
		if (!r.valid && first_reason.empty())
			first_reason = r.reason;
		results.emplace(chain_id, std::move(r));
	}
	if (digest) {
		std::string problem = CheckDigest(*digest, ledger, results);
		if (problem.empty())
			std::cout << "digest: valid, " << digest->heads.size() << " heads\n";
		else
			std::cout << "digest: INVALID: " << problem << "\n";
		if (!problem.empty() && first_reason.empty())
			first_reason = problem;
	}
	if (first_reason.empty()) {
		std::cout << "valid\n";
		return 0;
	}
	std::cout << "INVALID: " << first_reason << "\n";
	return 1;
}

}  // namespace

int
main(int argc, char **argv)
{
	try {
		return Run(argc, argv);
	} catch (const UsageError &e) {
		return Usage(e.what());
	} catch (const std::exception &e) {
		std::cerr << "audit_chain_verify_export: " << e.what() << "\n";
		return 2;
	}
}
