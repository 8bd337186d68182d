// test/unit/hash_vectors_test.cpp: recomputes every value of the published test vectors
// (test/vectors/) from their JSON inputs and compares with the committed expectations, so
// any change of the encoding fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "core/byte_sink.hpp"
#include "core/chain.hpp"
#include "core/event_encoding.hpp"
#include "core/hex.hpp"
#include "core/json_text.hpp"
#include "export_event.hpp"
#include "jsonb_text.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using tools::ExportEvent;

std::string
ReadFile(const std::string &name)
{
	std::ifstream in(std::string(AUDIT_CHAIN_SOURCE_DIR) + "/test/vectors/" + name, std::ios::binary);
	EXPECT_TRUE(in.good()) << "cannot read test/vectors/" << name;
	std::ostringstream s;
	s << in.rdbuf();
	return s.str();
}

// Navigation in a parsed document.
class Node {
public:
	Node() = default;
	Node(const core::JsonDocument *doc, uint32_t at) : doc_(doc), at_(at) {}

	const core::JsonToken &token() const { return doc_->tokens()[at_]; }
	bool Has(std::string_view key) const { return Find(key) != UINT32_MAX; }
	Node operator[](std::string_view key) const
	{
		uint32_t i = Find(key);
		EXPECT_NE(i, UINT32_MAX) << "missing member " << key;
		return Node(doc_, i == UINT32_MAX ? at_ : i);
	}
	std::vector<Node> Elements() const
	{
		std::vector<Node> out;
		EXPECT_EQ(token().kind, JsonKind::kArray);
		uint32_t pos = at_ + 1;
		for (uint32_t i = 0; i < token().count; i++) {
			out.emplace_back(doc_, pos);
			pos += core::JsonValueTokenCount(&doc_->tokens()[pos], static_cast<uint32_t>(doc_->tokens().size()) - pos);
		}
		return out;
	}
	std::string Str() const
	{
		EXPECT_EQ(token().kind, JsonKind::kString);
		return std::string(token().text.str());
	}
	uint64_t Int() const
	{
		EXPECT_EQ(token().kind, JsonKind::kNumber);
		return std::stoull(std::string(token().text.str()));
	}
	std::string Text() const { return tools::JsonbText(&token()); }

private:
	uint32_t Find(std::string_view key) const
	{
		if (token().kind != JsonKind::kObject)
			return UINT32_MAX;
		for (const auto &m : tools::ObjectMembers(doc_->tokens(), at_))
			if (m.key == key)
				return m.first;
		return UINT32_MAX;
	}

	const core::JsonDocument *doc_ = nullptr;
	uint32_t at_ = 0;
};

class HashVectors : public ::testing::Test {
protected:
	void SetUp() override
	{
		text_ = ReadFile("hash_vectors.json");
		doc_ = std::make_unique<core::JsonDocument>(core::JsonDocument::Parse(text_));
	}

	Node Root() const { return Node(doc_.get(), 0); }

	// The event vector of this name (an empty node if there is none).
	Node EventVector(const std::string &name) const
	{
		for (const Node &v : Root()["events"].Elements())
			if (v["name"].Str() == name)
				return v;
		return Node();
	}

	std::string text_;
	std::unique_ptr<core::JsonDocument> doc_;
};

std::string
Hex(const uint8_t *b, size_t n)
{
	return ToHex(b, n);
}

TEST_F(HashVectors, CoverWhatTheyPromise)
{
	auto events = Root()["events"].Elements();
	ASSERT_EQ(events.size(), 7u);
	std::map<std::string, int> actions;
	bool erased = false, unicode_keys = false, truncate_without_units = false, details = false;
	bool salted_context = false, erased_context = false, erased_marker = false, erased_pseudonym = false;
	for (const Node &v : events) {
		ExportEvent e(v["event"].Text());
		actions[std::string(e.view.action.str())]++;
		erased |= !e.has_salt && v["event"]["erasure"].token().kind == JsonKind::kObject;
		salted_context |= e.has_context_salt && !e.context_fields.empty();
		if (!e.has_context_salt && v["event"]["context_erasure"].token().kind == JsonKind::kObject) {
			erased_context = true;
			for (const core::ValueUnit &f : e.context_fields) {
				if (f.commitment == nullptr)
					continue;
				const std::string_view reads = f.new_value[0].text.str();
				erased_marker |= reads == "[ERASED]";
				erased_pseudonym |= reads.size() == core::kErasedPseudonymSize && reads.substr(0, 8) == "[ERASED:";
			}
		}
		details |= e.view.has_details && e.view.detail_count > 0;
		if (e.view.action.str() == "TRUNCATE")
			truncate_without_units = e.units.empty() && e.view.resource_id == nullptr && e.view.data_flags == 0;
		for (uint32_t i = 0; i < e.view.column_count; i++)
			unicode_keys |= static_cast<unsigned char>(e.view.columns[i].key.str()[0]) >= 0x80;
	}
	EXPECT_EQ(actions["INSERT"], 2);
	EXPECT_EQ(actions["UPDATE"], 2);
	EXPECT_EQ(actions["DELETE"], 1);
	EXPECT_EQ(actions["TRUNCATE"], 1);
	EXPECT_EQ(actions["LOGIN"], 1);
	EXPECT_TRUE(erased);
	EXPECT_TRUE(salted_context);
	EXPECT_TRUE(erased_context);
	EXPECT_TRUE(erased_marker);
	EXPECT_TRUE(erased_pseudonym);
	EXPECT_TRUE(details);
	EXPECT_TRUE(unicode_keys);
	EXPECT_TRUE(truncate_without_units);
}

TEST_F(HashVectors, GenesisHashes)
{
	uint8_t ledger[16];
	tools::ParseUuid(Root()["ledger_id"].Str(), ledger, "ledger_id");
	auto genesis = Root()["genesis"].Elements();
	ASSERT_EQ(genesis.size(), 2u);
	for (const Node &g : genesis) {
		uint32_t chain = static_cast<uint32_t>(g["chain_id"].Int());
		Bytes b;
		b.raw("ACG1").raw(std::string(reinterpret_cast<char *>(ledger), 16)).u32(chain);
		EXPECT_EQ(ToHex(b.bytes()), g["bytes"].Str());
		EXPECT_EQ(ToHex(core::GenesisHash(ledger, chain)), g["hash"].Str());
	}
}

// Checks one entry of expected.units or expected.context_fields against the unit read from the
// event: its key (derived from `salt` as the specification says, or the erasure record's), its
// commitment bytes written out by hand, its commitment.
void
ExpectUnit(const Node &u, const core::ValueUnit &unit, uint32_t i, const uint8_t *salt, const char *salt_member,
		   const char *record_member)
{
	EXPECT_EQ(u["index"].Int(), i);
	EXPECT_EQ(u["flags"].Int(), unit.flags);
	if (u.Has("erased")) {
		EXPECT_EQ(u["erased"].token().kind, JsonKind::kTrue);
		ASSERT_NE(unit.commitment, nullptr);
		EXPECT_EQ(Hex(unit.commitment, 32), u["commitment"].Str());
		EXPECT_FALSE(u.Has("value_key"));
		return;
	}
	EXPECT_EQ(unit.commitment, nullptr);
	uint8_t key[16];
	if (u["value_key_from"].Str() == salt_member) {
		ASSERT_NE(salt, nullptr);
		EXPECT_EQ(unit.value_key, nullptr);
		core::DeriveValueKey(salt, i, key);
		std::string spec_key = Bytes().raw("ACK1").raw(std::string(reinterpret_cast<const char *>(salt), 16)).u32(i / 2).sha();
		EXPECT_EQ(ToHex(key, 16), ToHex(spec_key.substr((i % 2) * 16, 16)));
	} else {
		EXPECT_EQ(u["value_key_from"].Str(), record_member);
		ASSERT_NE(unit.value_key, nullptr);
		std::memcpy(key, unit.value_key, 16);
	}
	EXPECT_EQ(ToHex(key, 16), u["value_key"].Str());
	// Commitment bytes written out by hand from the spec.
	Bytes cb;
	cb.raw("ACV1").raw(std::string(reinterpret_cast<char *>(key), 16)).u8(unit.flags);
	core::ByteSink values;
	if (unit.flags & core::kHasOld)
		core::EncodeJsonValue(values, unit.old_value, unit.old_tokens);
	if (unit.flags & core::kHasNew)
		core::EncodeJsonValue(values, unit.new_value, unit.new_tokens);
	cb.raw(values.bytes());
	EXPECT_EQ(ToHex(cb.bytes()), u["commitment_bytes"].Str());
	EXPECT_EQ(ToHex(cb.sha()), u["commitment"].Str());
	EXPECT_EQ(ToHex(core::ComputeCommitment(key, unit)), u["commitment"].Str());
}

TEST_F(HashVectors, EveryIntermediateValue)
{
	uint8_t ledger[16];
	tools::ParseUuid(Root()["ledger_id"].Str(), ledger, "ledger_id");
	std::map<uint32_t, std::string> last_hash;
	std::map<uint32_t, uint64_t> count;
	for (const Node &v : Root()["events"].Elements()) {
		const std::string name = v["name"].Str();
		SCOPED_TRACE(name);
		ExportEvent e(v["event"].Text());
		ASSERT_TRUE(e.problem().empty()) << e.problem();
		EXPECT_EQ(Hex(e.ledger_id, 16), Hex(ledger, 16));
		const Node x = v["expected"];

		// Predecessor: genesis or the previous event of the chain.
		std::string previous = last_hash.count(e.chain_id) ? last_hash[e.chain_id]
														   : ToHex(core::GenesisHash(ledger, e.chain_id));
		EXPECT_EQ(x["previous_hash"].Str(), previous);
		EXPECT_EQ(e.seq, ++count[e.chain_id]);  // listed in chain order

		// Context: each field committed under the context's salt (or its erasure record), then
		// "ACC2" || u32(n) || (str(name) || u8(2) || F_i)* written out by hand.
		auto fields = x["context_fields"].Elements();
		ASSERT_EQ(fields.size(), e.context_fields.size());
		Bytes spec_ctx;
		spec_ctx.raw("ACC2").u32(static_cast<uint32_t>(fields.size()));
		for (uint32_t i = 0; i < fields.size(); i++) {
			SCOPED_TRACE("context field " + std::to_string(i));
			const core::ValueUnit &field = e.context_fields[i];
			EXPECT_EQ(fields[i]["name"].Str(), field.key.str());
			EXPECT_EQ(field.flags, core::kHasNew);
			ExpectUnit(fields[i], field, i, e.has_context_salt ? e.context_salt : nullptr, "context_salt",
					   "context_erasure");
			spec_ctx.str(std::string(field.key.str())).u8(2).raw(FromHex(fields[i]["commitment"].Str()));
		}
		core::ByteSink ctx;
		core::WriteContext(ctx, e.context);
		EXPECT_EQ(ToHex(ctx.bytes()), ToHex(spec_ctx.bytes()));
		EXPECT_EQ(ToHex(ctx.bytes()), x["context_bytes"].Str());
		EXPECT_EQ(ToHex(e.context_hash), x["context_hash"].Str());
		EXPECT_EQ(ToHex(Sha(ctx.bytes())), x["context_hash"].Str());
		EXPECT_EQ(ToHex(core::HashContext(e.context)), x["context_hash"].Str());

		// Units.
		auto units = x["units"].Elements();
		ASSERT_EQ(units.size(), e.units.size());
		for (uint32_t i = 0; i < units.size(); i++) {
			SCOPED_TRACE("unit " + std::to_string(i));
			const std::string kind = units[i]["unit"].Str();
			EXPECT_EQ(e.unit_names[i], kind == "resource_id" ? kind : kind + " " + units[i]["key"].Str());
			ExpectUnit(units[i], e.units[i], i, e.has_salt ? e.salt : nullptr, "salt", "erasure");
		}

		// The whole event link.
		core::ByteSink bytes;
		core::WriteEvent(bytes, HashFromBytes(FromHex(previous)), e.view);
		EXPECT_EQ(ToHex(bytes.bytes()), x["event_bytes"].Str());
		EXPECT_EQ(ToHex(Sha(bytes.bytes())), x["hash"].Str());
		EXPECT_EQ(ToHex(e.ComputeHash(HashFromBytes(FromHex(previous)))), x["hash"].Str());
		EXPECT_EQ(e.HashHex(), x["hash"].Str());
		last_hash[e.chain_id] = x["hash"].Str();
	}
	EXPECT_EQ(last_hash.size(), 2u);
}

TEST_F(HashVectors, ChainsVerify)
{
	uint8_t ledger[16];
	tools::ParseUuid(Root()["ledger_id"].Str(), ledger, "ledger_id");
	std::map<uint32_t, core::ChainCursor> cursors;
	std::vector<std::unique_ptr<ExportEvent>> events;
	for (const Node &v : Root()["events"].Elements()) {
		events.push_back(std::make_unique<ExportEvent>(v["event"].Text()));
		ExportEvent &e = *events.back();
		if (!cursors.count(e.chain_id))
			cursors[e.chain_id] = core::StartOfChain(ledger, e.chain_id);
		core::Hash computed;
		EXPECT_EQ(core::CheckNext(cursors[e.chain_id], e.view, e.hash, computed), core::LinkStatus::kOk)
			<< v["name"].Str();
	}
}

TEST_F(HashVectors, ErasedEventKeepsTheOriginalHash)
{
	// Rebuild the erased event's original: the salt back, the erased values restored.
	Node erased = EventVector("chain2-seq2-erased");
	ExportEvent stored(erased["event"].Text());
	ASSERT_FALSE(stored.has_salt);
	// The erasure record's keys are the salt-derived keys of the original salt.
	const std::string salt = FromHex("57dee95eeb25ca88e297a1c12728016a");
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t key[16];
		core::DeriveValueKey(U8(salt), i, key);
		ASSERT_NE(stored.units[i].value_key, nullptr);
		EXPECT_EQ(Hex(stored.units[i].value_key, 16), Hex(key, 16));
	}
	std::string original = erased["event"].Text();
	auto replace = [&](const std::string &from, const std::string &to) {
		size_t pos = original.find(from);
		ASSERT_NE(pos, std::string::npos) << from;
		original.replace(pos, from.size(), to);
	};
	replace("\"salt\": null", "\"salt\": \"57dee95eeb25ca88e297a1c12728016a\"");
	replace("\"new_data\": {\"tier\": \"gold\", \"email\": \"[ERASED]\", \"phone\": \"[ERASED]\"}",
			"\"new_data\": {\"tier\": \"gold\", \"email\": \"ann.m@example.org\", \"phone\": null}");
	replace("\"old_data\": {\"name\": \"Ann\", \"email\": \"[ERASED]\", \"phone\": \"[ERASED]\"}",
			"\"old_data\": {\"name\": \"Ann\", \"email\": \"ann@example.com\", \"phone\": \"+41 44 000 00 00\"}");
	size_t from = original.find("\"erasure\": {");
	size_t to = original.find("}}", from);
	ASSERT_NE(to, std::string::npos);
	original.replace(from, to + 2 - from, "\"erasure\": null");
	ExportEvent restored(original);
	ASSERT_TRUE(restored.has_salt);
	const core::Hash previous = HashFromBytes(FromHex(erased["expected"]["previous_hash"].Str()));
	EXPECT_EQ(ToHex(restored.ComputeHash(previous)), erased["expected"]["hash"].Str());
	// The erased commitments are those of the original values.
	auto units = erased["expected"]["units"].Elements();
	for (uint32_t i = 3; i < 5; i++) {
		uint8_t key[16];
		core::DeriveValueKey(U8(salt), i, key);
		EXPECT_EQ(ToHex(core::ComputeCommitment(key, restored.units[i])), units[i]["commitment"].Str());
	}
}

TEST_F(HashVectors, ErasedContextKeepsTheOriginalHash)
{
	// Rebuild the original of the erased context: its salt back, the erased attributes restored.
	Node vector = EventVector("chain2-seq1-application");
	ExportEvent stored(vector["event"].Text());
	ASSERT_TRUE(stored.problem().empty()) << stored.problem();
	ASSERT_FALSE(stored.has_context_salt);
	const std::string salt = FromHex("4e933a8e86939ec60f510cb1a9a232d4");
	const std::map<std::string, std::string> originals = {{"actor_id", "alice"}, {"client_addr", "198.51.100.23"}};
	// Each kept attribute's key is the salt-derived one; each erased one reads as erasure leaves it.
	for (uint32_t i = 0; i < stored.context_fields.size(); i++) {
		const core::ValueUnit &f = stored.context_fields[i];
		const std::string name(f.key.str());
		SCOPED_TRACE(name);
		EXPECT_EQ(f.commitment != nullptr, originals.count(name) == 1);
		if (f.commitment != nullptr)
			continue;
		uint8_t key[16];
		core::DeriveValueKey(U8(salt), i, key);
		ASSERT_NE(f.value_key, nullptr);
		EXPECT_EQ(Hex(f.value_key, 16), Hex(key, 16));
	}
	std::string original = vector["event"].Text();
	auto replace = [&](const std::string &from, const std::string &to) {
		size_t pos = original.find(from);
		ASSERT_NE(pos, std::string::npos) << from;
		original.replace(pos, from.size(), to);
	};
	const std::string pseudonym(stored.context_fields[0].new_value[0].text.str());
	EXPECT_EQ(pseudonym.substr(0, 8), "[ERASED:");
	replace("\"actor_id\": \"" + pseudonym + "\"", "\"actor_id\": \"alice\"");
	replace("\"client_addr\": \"[ERASED]\"", "\"client_addr\": \"198.51.100.23\"");
	replace("\"context_salt\": null", "\"context_salt\": \"4e933a8e86939ec60f510cb1a9a232d4\"");
	size_t from = original.find("\"context_erasure\": {");
	size_t to = original.find("}}", from);
	ASSERT_NE(to, std::string::npos);
	original.replace(from, to + 2 - from, "\"context_erasure\": null");
	ExportEvent restored(original);
	ASSERT_TRUE(restored.problem().empty()) << restored.problem();
	ASSERT_TRUE(restored.has_context_salt);
	EXPECT_EQ(ToHex(restored.context_hash), vector["expected"]["context_hash"].Str());
	const core::Hash previous = HashFromBytes(FromHex(vector["expected"]["previous_hash"].Str()));
	EXPECT_EQ(ToHex(restored.ComputeHash(previous)), vector["expected"]["hash"].Str());
	// The erased commitments are those of the original values.
	auto fields = vector["expected"]["context_fields"].Elements();
	for (uint32_t i = 0; i < restored.context_fields.size(); i++) {
		uint8_t key[16];
		core::DeriveValueKey(U8(salt), i, key);
		EXPECT_EQ(ToHex(core::ComputeCommitment(key, restored.context_fields[i])), fields[i]["commitment"].Str());
	}
}

TEST_F(HashVectors, Digest)
{
	const Node d = Root()["digest"];
	const Node value = d["value"];
	EXPECT_EQ(value["format"].Str(), "audit_chain.digest.v1");
	uint8_t ledger[16];
	tools::ParseUuid(value["ledger_id"].Str(), ledger, "ledger_id");
	std::vector<core::ChainHead> heads;
	for (const Node &h : value["heads"].Elements()) {
		core::ChainHead head{};
		head.chain_id = static_cast<uint32_t>(h["chain_id"].Int());
		head.seq = h["seq"].Int();
		head.committed_at = static_cast<int64_t>(h["committed_at_us"].Int());
		core::HexDecode(h["hash"].Str(), head.hash.bytes, 32);
		heads.push_back(head);
	}
	ASSERT_EQ(heads.size(), 2u);
	Bytes want;
	want.raw("ACD1").raw(std::string(reinterpret_cast<char *>(ledger), 16)).u32(2);
	for (const auto &h : heads)
		want.u32(h.chain_id).u64(h.seq).i64(h.committed_at).raw(HashBytes(h.hash));
	core::ByteSink bytes;
	core::WriteDigest(bytes, ledger, heads.data(), 2);
	EXPECT_EQ(ToHex(bytes.bytes()), ToHex(want.bytes()));
	EXPECT_EQ(ToHex(bytes.bytes()), d["expected"]["bytes"].Str());
	EXPECT_EQ(ToHex(core::HashDigest(ledger, heads.data(), 2)), d["expected"]["digest"].Str());
	EXPECT_EQ(value["digest"].Str(), d["expected"]["digest"].Str());
	// The heads are the last events of the chains.
	std::map<uint32_t, std::string> last;
	for (const Node &v : Root()["events"].Elements()) {
		ExportEvent e(v["event"].Text());
		last[e.chain_id] = e.HashHex();
	}
	for (const auto &h : heads)
		EXPECT_EQ(ToHex(h.hash), last[h.chain_id]);
}

TEST_F(HashVectors, CompanionFilesMatch)
{
	// hash_vectors.jsonl: the events, one per line, exactly as printed in the vectors.
	std::string lines;
	for (const Node &v : Root()["events"].Elements())
		lines += v["event"].Text() + "\n";
	EXPECT_EQ(ReadFile("hash_vectors.jsonl"), lines);
	EXPECT_EQ(ReadFile("hash_vectors_digest.json"), Root()["digest"]["value"].Text() + "\n");
	// The events in the vectors file are written in jsonb's own form.
	for (const Node &v : Root()["events"].Elements()) {
		ExportEvent e(v["event"].Text());
		std::string line = v["event"].Text();
		EXPECT_NE(text_.find(line), std::string::npos) << v["name"].Str();
	}
}

}  // namespace
}  // namespace audit_chain::test
