// test/unit/export_event_test.cpp: reading events_export values (tools/export_event.hpp),
// the front end of the standalone verifier and of the vector generator.
#include <gtest/gtest.h>

#include <string>

#include "core/chain.hpp"
#include "export_event.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using tools::ExportEvent;
using tools::FormatError;

const std::string kBase =
	R"({"seq": 2, "xid": 4294968037, "hash": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",)"
	R"( "salt": "b21dfec00c41872300d9218bc0bcf127", "action": "UPDATE", "context": {"actor_id": "a", "reason": "r"},)"
	R"( "context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f", "context_erasure": null,)"
	R"( "details": {"k": [1]}, "erasure": null, "outcome": "success", "chain_id": 3,)"
	R"( "event_id": "a288fb56-261b-4222-bc31-009a92e4e084", "new_data": {"b": 2, "cc": "x"}, "old_data": {"a": 1, "b": 1},)"
	R"( "ledger_id": "5f0c7a3e-2b1d-4c8e-9a6f-0123456789ab", "commit_seq": 41, "resource_id": "7",)"
	R"( "event_time_us": -5, "resource_type": "public.t", "committed_at_us": 1767261600123456})";

std::string
With(const std::string &from, const std::string &to, std::string text = kBase)
{
	size_t pos = text.find(from);
	EXPECT_NE(pos, std::string::npos) << from;
	if (pos != std::string::npos)
		text.replace(pos, from.size(), to);
	return text;
}

// The specification written out: per-value key i of a salt, and the commitment of a string
// (a details member or a context attribute: flags 2, 's' str(value)).
std::string
SpecKey(const std::string &salt, uint32_t i)
{
	return Bytes().raw("ACK1").raw(salt).u32(i / 2).sha().substr((i % 2) * 16, 16);
}

std::string
SpecStringCommitment(const std::string &key, const std::string &value)
{
	return Bytes().raw("ACV1").raw(key).u8(2).u8('s').str(value).sha();
}

const std::string kContextSalt = "f0e1d2c3b4a5968778695a4b3c2d1e0f";

// Hash of kBase's context {"reason": "r", "actor_id": "a"} (canonical order) under kContextSalt.
std::string
SpecBaseContextHash()
{
	const std::string salt = FromHex(kContextSalt);
	return Bytes()
		.raw("ACC2")
		.u32(2)
		.str("reason")
		.u8(2)
		.raw(SpecStringCommitment(SpecKey(salt, 0), "r"))
		.str("actor_id")
		.u8(2)
		.raw(SpecStringCommitment(SpecKey(salt, 1), "a"))
		.sha();
}

::testing::AssertionResult
FormatErrorOn(const std::string &text)
{
	try {
		ExportEvent e(text);
		return ::testing::AssertionFailure() << "accepted: " << text;
	} catch (const FormatError &) {
		return ::testing::AssertionSuccess();
	} catch (const std::exception &e) {
		return ::testing::AssertionFailure() << "other exception " << e.what();
	}
}

TEST(ExportEvent, ReadsEveryField)
{
	ExportEvent e(kBase);
	EXPECT_TRUE(e.problem().empty());
	EXPECT_EQ(ToHex(e.ledger_id, 16), "5f0c7a3e2b1d4c8e9a6f0123456789ab");
	EXPECT_EQ(e.ledger_text, "5f0c7a3e-2b1d-4c8e-9a6f-0123456789ab");
	EXPECT_EQ(e.chain_id, 3u);
	EXPECT_EQ(e.seq, 2u);
	EXPECT_EQ(e.commit_seq, 41u);
	EXPECT_EQ(e.committed_at_us, 1767261600123456);
	EXPECT_EQ(e.xid, 4294968037u);
	EXPECT_EQ(e.event_time_us, -5);
	EXPECT_EQ(ToHex(e.event_id, 16), "a288fb56261b4222bc31009a92e4e084");
	EXPECT_TRUE(e.has_salt);
	EXPECT_TRUE(e.has_hash);
	EXPECT_EQ(e.HashHex(), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	EXPECT_EQ(e.view.action.str(), "UPDATE");
	EXPECT_EQ(e.view.outcome.str(), "success");
	EXPECT_EQ(e.view.resource_type.str(), "public.t");
	EXPECT_EQ(e.view.data_flags, core::kHasOld | core::kHasNew);
	EXPECT_TRUE(e.view.has_details);
	ASSERT_EQ(e.context_fields.size(), 2u);
	EXPECT_EQ(e.context_fields[0].key.str(), "reason");  // canonical order
	EXPECT_EQ(e.context_fields[1].key.str(), "actor_id");
	for (const core::ValueUnit &f : e.context_fields) {
		EXPECT_EQ(f.flags, core::kHasNew);
		ASSERT_EQ(f.new_tokens, 1u);
		EXPECT_EQ(f.new_value[0].kind, JsonKind::kString);
		EXPECT_EQ(f.value_key, nullptr);
		EXPECT_EQ(f.commitment, nullptr);
	}
	EXPECT_EQ(e.context_fields[0].new_value[0].text.str(), "r");
	EXPECT_TRUE(e.has_context_salt);
	EXPECT_EQ(ToHex(e.context_salt, 16), kContextSalt);
	EXPECT_EQ(e.context.fields, e.context_fields.data());
	EXPECT_EQ(e.context.count, 2u);
	EXPECT_EQ(e.context.salt, e.context_salt);
	EXPECT_EQ(ToHex(e.context_hash), ToHex(SpecBaseContextHash()));
	EXPECT_EQ(e.view.context_hash, e.context_hash.bytes);
}

TEST(ExportEvent, UnitsFollowTheSpecOrder)
{
	ExportEvent e(kBase);
	// resource_id, columns a (old), b (old+new), cc (new), details k.
	std::vector<std::string> want = {"resource_id", "column a", "column b", "column cc", "details k"};
	EXPECT_EQ(e.unit_names, want);
	ASSERT_EQ(e.units.size(), 5u);
	EXPECT_EQ(e.units[0].flags, core::kHasNew);
	EXPECT_EQ(e.units[1].flags, core::kHasOld);
	EXPECT_EQ(e.units[2].flags, core::kHasOld | core::kHasNew);
	EXPECT_EQ(e.units[3].flags, core::kHasNew);
	EXPECT_EQ(e.units[4].flags, core::kHasNew);
	EXPECT_EQ(e.view.resource_id, &e.units[0]);
	EXPECT_EQ(e.view.column_count, 3u);
	EXPECT_EQ(e.view.columns, &e.units[1]);
	EXPECT_EQ(e.view.detail_count, 1u);
	EXPECT_EQ(e.view.details, &e.units[4]);
	EXPECT_EQ(e.units[2].old_value->text.str(), "1");
	EXPECT_EQ(e.units[2].new_value->text.str(), "2");
	EXPECT_EQ(e.units[4].new_tokens, 2u);  // [1]
}

TEST(ExportEvent, NullsAndEmptyObjects)
{
	ExportEvent none(With(R"("resource_id": "7")", R"("resource_id": null)",
						  With(R"("details": {"k": [1]})", R"("details": null)",
							   With(R"("old_data": {"a": 1, "b": 1})", R"("old_data": {})"))));
	EXPECT_EQ(none.view.resource_id, nullptr);
	EXPECT_FALSE(none.view.has_details);
	EXPECT_EQ(none.view.data_flags, core::kHasOld | core::kHasNew);  // {} is not NULL
	EXPECT_EQ(none.units.size(), 2u);
	ExportEvent no_salt(With(R"("salt": "b21dfec00c41872300d9218bc0bcf127")", R"("salt": null)"));
	EXPECT_FALSE(no_salt.has_salt);
	EXPECT_EQ(no_salt.view.salt, nullptr);
	EXPECT_EQ(no_salt.problem(), "it has neither a salt nor an erasure record");
	EXPECT_CORE_ERROR(no_salt.ComputeHash(core::Hash{}), ErrorCode::kDataCorrupted);
}

TEST(ExportEvent, HashIsOptionalForTheGenerator)
{
	std::string text = With(R"("hash": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", )", "");
	EXPECT_TRUE(FormatErrorOn(text));
	ExportEvent e(text, false);
	EXPECT_FALSE(e.has_hash);
}

TEST(ExportEvent, RejectsWhatIsNotAnExportEvent)
{
	EXPECT_TRUE(FormatErrorOn("not json"));
	EXPECT_TRUE(FormatErrorOn("[]"));
	EXPECT_TRUE(FormatErrorOn("null"));
	EXPECT_TRUE(FormatErrorOn(kBase + " x"));
	for (const char *field : {"ledger_id", "chain_id", "seq", "commit_seq", "committed_at_us", "xid", "event_time_us",
							  "event_id", "action", "outcome", "resource_type", "resource_id", "context", "context_salt",
							  "context_erasure", "salt", "old_data", "new_data", "details", "erasure", "hash"}) {
		std::string renamed = With(std::string("\"") + field + "\":", std::string("\"x") + field + "\":");
		EXPECT_TRUE(FormatErrorOn(renamed)) << "without " << field;
	}
}

TEST(ExportEvent, RejectsWrongTypes)
{
	const std::pair<const char *, const char *> cases[] = {
		{R"("chain_id": 3)", R"("chain_id": "3")"},
		{R"("chain_id": 3)", R"("chain_id": 4294967296)"},
		{R"("chain_id": 3)", R"("chain_id": -1)"},
		{R"("seq": 2)", R"("seq": 2.0)"},
		{R"("seq": 2)", R"("seq": 2e0)"},
		{R"("seq": 2)", R"("seq": 18446744073709551616)"},
		{R"("seq": 2)", R"("seq": null)"},
		{R"("xid": 4294968037)", R"("xid": -4294968037)"},
		{R"("committed_at_us": 1767261600123456)", R"("committed_at_us": 9223372036854775808)"},
		{R"("committed_at_us": 1767261600123456)", R"("committed_at_us": -9223372036854775809)"},
		{R"("committed_at_us": 1767261600123456)", R"("committed_at_us": 1767261600123456.000000)"},
		{R"("event_time_us": -5)", R"("event_time_us": "-5")"},
		{R"("action": "UPDATE")", R"("action": null)"},
		{R"("outcome": "success")", R"("outcome": 1)"},
		{R"("resource_type": "public.t")", R"("resource_type": ["public.t"])"},
		{R"("resource_id": "7")", R"("resource_id": 7)"},
		{R"("context": {"actor_id": "a", "reason": "r"})", R"("context": null)"},
		{R"("context": {"actor_id": "a", "reason": "r"})", R"("context": {"actor_id": "a", "reason": null})"},
		{R"("context": {"actor_id": "a", "reason": "r"})", R"("context": {"actor_id": "a", "n": 1})"},
		{R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e")"},
		{R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f00")"},
		{R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": "g0e1d2c3b4a5968778695a4b3c2d1e0f")"},
		{R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": "")"},
		{R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": 1)"},
		{R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": {})"},
		{R"("salt": "b21dfec00c41872300d9218bc0bcf127")", R"("salt": "b21dfec00c41872300d9218bc0bcf1")"},
		{R"("salt": "b21dfec00c41872300d9218bc0bcf127")", R"("salt": "z21dfec00c41872300d9218bc0bcf127")"},
		{R"("old_data": {"a": 1, "b": 1})", R"("old_data": [1])"},
		{R"("new_data": {"b": 2, "cc": "x"})", R"("new_data": "x")"},
		{R"("details": {"k": [1]})", R"("details": 1)"},
		{R"("hash": "0011)", R"("hash": "11)"},
		{R"("hash": "0011)", R"("hash": "0x11)"},
		{R"("event_id": "a288fb56-261b-4222-bc31-009a92e4e084")", R"("event_id": "a288fb56261b4222bc31009a92e4e084")"},
		{R"("event_id": "a288fb56-261b-4222-bc31-009a92e4e084")", R"("event_id": "a288fb5-6261b-4222-bc31-009a92e4e084")"},
		{R"("event_id": "a288fb56-261b-4222-bc31-009a92e4e084")", R"("event_id": "g288fb56-261b-4222-bc31-009a92e4e084")"},
		{R"("ledger_id": "5f0c7a3e-2b1d-4c8e-9a6f-0123456789ab")", R"("ledger_id": "{5f0c7a3e-2b1d-4c8e-9a6f-0123456789ab}")"},
	};
	for (const auto &[from, to] : cases)
		EXPECT_TRUE(FormatErrorOn(With(from, to))) << to;
}

TEST(ExportEvent, IntegerBoundaries)
{
	ExportEvent max(With(R"("seq": 2)", R"("seq": 18446744073709551615)",
						 With(R"("chain_id": 3)", R"("chain_id": 4294967295)")));
	EXPECT_EQ(max.seq, UINT64_MAX);
	EXPECT_EQ(max.chain_id, UINT32_MAX);
	ExportEvent min(With(R"("committed_at_us": 1767261600123456)", R"("committed_at_us": -9223372036854775808)"));
	EXPECT_EQ(min.committed_at_us, INT64_MIN);
	ExportEvent zero(With(R"("event_time_us": -5)", R"("event_time_us": -0)"));
	EXPECT_EQ(zero.event_time_us, 0);
	EXPECT_TRUE(FormatErrorOn(With(R"("seq": 2)", R"("seq": 02)")));  // not JSON
}

TEST(ExportEvent, UpperCaseHexIsAccepted)
{
	ExportEvent e(With(R"("hash": "00112233445566778899aabbccddeeff)", R"("hash": "00112233445566778899AABBCCDDEEFF)",
					   With(R"("event_id": "a288fb56)", R"("event_id": "A288FB56)")));
	EXPECT_EQ(e.HashHex(), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	EXPECT_EQ(ToHex(e.event_id, 4), "a288fb56");
}

// kBase erased as audit_chain.erase() would: no salt, column b (unit 2) erased.
std::string
Erased(const std::string &erasure, const std::string &b_old = "\"[ERASED]\"", const std::string &b_new = "\"[ERASED]\"")
{
	std::string t = With(R"("salt": "b21dfec00c41872300d9218bc0bcf127")", R"("salt": null)");
	t = With(R"("new_data": {"b": 2,)", R"("new_data": {"b": )" + b_new + ",", t);
	t = With(R"("old_data": {"a": 1, "b": 1})", R"("old_data": {"a": 1, "b": )" + b_old + "}", t);
	return With(R"("erasure": null)", R"("erasure": )" + erasure, t);
}

const std::string kKey = "000102030405060708090a0b0c0d0e0f";
const std::string kCommitment = "f0e0d0c0b0a090807060504030201000f0e0d0c0b0a090807060504030201000";

std::string
Record(const std::string &extra_keys = "", const std::string &extra = "")
{
	return R"({"note": "ignored", "value_keys": {"0": ")" + kKey + R"(", "1": ")" + kKey + R"(", "3": ")" + kKey +
		   R"(", "4": ")" + kKey + "\"" + extra_keys + R"(}, "commitments": {"2": ")" + kCommitment + "\"}" + extra + "}";
}

TEST(ExportEvent, ErasureRecordIsApplied)
{
	ExportEvent ok(Erased(Record()));
	ASSERT_TRUE(ok.problem().empty()) << ok.problem();
	for (uint32_t i : {0u, 1u, 3u, 4u}) {
		ASSERT_NE(ok.units[i].value_key, nullptr) << i;
		EXPECT_EQ(ToHex(ok.units[i].value_key, 16), kKey);
		EXPECT_EQ(ok.units[i].commitment, nullptr);
	}
	ASSERT_NE(ok.units[2].commitment, nullptr);
	EXPECT_EQ(ToHex(ok.units[2].commitment, 32), kCommitment);
	EXPECT_EQ(ok.units[2].value_key, nullptr);
	// Hashing uses the commitment as stored (the core checks the markers as well).
	core::Hash previous{};
	(void) ok.ComputeHash(previous);
}

TEST(ExportEvent, SaltOrErasureRecord)
{
	// An event has its salt or an erasure record: never both, never neither.
	ExportEvent both(With(R"("erasure": null)", R"("erasure": {})"));
	EXPECT_EQ(both.problem(), "it has both a salt and an erasure record");
	ExportEvent neither(With(R"("salt": "b21dfec00c41872300d9218bc0bcf127")", R"("salt": null)"));
	EXPECT_EQ(neither.problem(), "it has neither a salt nor an erasure record");
	ExportEvent not_object(Erased("[]"));
	EXPECT_EQ(not_object.problem(), "its erasure record is not an object");
	ExportEvent string_record(Erased("\"x\""));
	EXPECT_EQ(string_record.problem(), "its erasure record is not an object");
}

TEST(ExportEvent, BrokenErasureRecordsAreProblemsNotParseErrors)
{
	const std::string k = kKey;
	const std::pair<std::string, std::string> cases[] = {
		{Record(R"(, "01": ")" + k + "\""), "its erasure record names a value that does not exist"},
		{Record(R"(, "-1": ")" + k + "\""), "its erasure record names a value that does not exist"},
		{Record(R"(, "+1": ")" + k + "\""), "its erasure record names a value that does not exist"},
		{Record(R"(, " 1": ")" + k + "\""), "its erasure record names a value that does not exist"},
		{Record(R"(, "5": ")" + k + "\""), "its erasure record names a value that does not exist"},
		{Record(R"(, "": ")" + k + "\""), "its erasure record names a value that does not exist"},
		{Record(R"(, "2": 5)"), "its erasure record holds a non-string"},
		{Record(R"(, "2": ")" + k.substr(2) + "\""), "its erasure record holds a malformed key or commitment"},
		{R"({"value_keys": {"0": ")" + k + R"("}, "commitments": {"2": ")" + k + R"("}})",
		 "its erasure record holds a malformed key or commitment"},  // 16 bytes where 32 are needed
		{R"({"value_keys": {"0": ")" + k + R"("}, "commitments": []})", "its erasure record's \"commitments\" is not an object"},
		{R"({"value_keys": "x"})", "its erasure record's \"value_keys\" is not an object"},
		{R"({"value_keys": {"0": ")" + k + R"(", "1": ")" + k + R"("}, "commitments": {"2": ")" + kCommitment + R"("}})",
		 "its erasure record has no key for a value that was not erased"},
		{R"({})", "its erasure record has no key for a value that was not erased"},
	};
	for (const auto &[erasure, problem] : cases) {
		ExportEvent e(Erased(erasure));
		EXPECT_EQ(e.problem(), problem) << erasure;
	}
	// A value where one was erased.
	for (const auto &[b_old, b_new] : std::vector<std::pair<std::string, std::string>>{
			 {"1", "\"[ERASED]\""}, {"\"[ERASED]\"", "2"}, {"null", "\"[ERASED]\""}, {"[\"[ERASED]\"]", "\"[ERASED]\""}}) {
		ExportEvent e(Erased(Record(), b_old, b_new));
		EXPECT_EQ(e.problem(), "it holds a value where one was erased") << b_old << " " << b_new;
	}
	ExportEvent no_type(With(R"("resource_type": "public.t")", R"("resource_type": null)"));
	EXPECT_EQ(no_type.problem(), "it has no resource_type");
}

TEST(ExportEvent, HashesLikeTheCore)
{
	// The event read from text hashes like the same event built by hand (spec bytes).
	ExportEvent e(kBase);
	core::Hash previous = HashFromBytes(Sha("p"));
	std::string salt = FromHex("b21dfec00c41872300d9218bc0bcf127");
	auto key = [&](uint32_t i) {
		std::string block = Bytes().raw("ACK1").raw(salt).u32(i / 2).sha();
		return block.substr((i % 2) * 16, 16);
	};
	auto commit = [&](uint32_t i, int flags, const std::string &canon) {
		return Bytes().raw("ACV1").raw(key(i)).u8(flags).raw(canon).sha();
	};
	Bytes num1, num2;
	num1.u8('d').str("1");
	num2.u8('d').str("2");
	Bytes b;
	b.raw("ACE1").raw(HashBytes(previous)).u32(3).u64(2).u64(41).i64(1767261600123456).u64(4294968037).i64(-5);
	b.raw(FromHex("a288fb56261b4222bc31009a92e4e084")).str("UPDATE").str("success").str("public.t");
	b.u8(1).raw(commit(0, 2, Bytes().u8('s').str("7").bytes()));
	b.raw(SpecBaseContextHash());
	b.u8(3).u32(3);
	b.str("a").u8(1).raw(commit(1, 1, num1.bytes()));
	b.str("b").u8(3).raw(commit(2, 3, num1.bytes() + num2.bytes()));
	b.str("cc").u8(2).raw(commit(3, 2, Bytes().u8('s').str("x").bytes()));
	b.u8(1).u32(1).str("k").u8(2).raw(commit(4, 2, Bytes().u8('a').u32(1).u8('d').str("1").bytes()));
	EXPECT_EQ(ToHex(e.ComputeHash(previous)), ToHex(b.sha()));
}

// kBase with its context erased as audit_chain.erase_value() leaves it: actor_id (field 1)
// reads `reads`, context_salt is null and context_erasure holds `record`.
std::string
ContextErased(const std::string &record, const std::string &reads = "\"[ERASED]\"", const std::string &reason = "\"r\"")
{
	std::string t = With(R"("context": {"actor_id": "a", "reason": "r"})",
						 R"("context": {"actor_id": )" + reads + R"(, "reason": )" + reason + "}");
	t = With(R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": null)", t);
	return With(R"("context_erasure": null)", R"("context_erasure": )" + record, t);
}

const std::string kReasonKey = ToHex(SpecKey(FromHex(kContextSalt), 0));
const std::string kActorCommitment = ToHex(SpecStringCommitment(SpecKey(FromHex(kContextSalt), 1), "a"));

// The erasure record of ContextErased: a key for reason, actor_id's commitment; plus what a
// reader ignores (other members, names that are not an attribute of the context).
std::string
ContextRecord(const std::string &extra_keys = "", const std::string &extra_commitments = "")
{
	return R"({"note": 1, "value_keys": {"reason": ")" + kReasonKey + "\"" + extra_keys +
		   R"(}, "commitments": {"actor_id": ")" + kActorCommitment + "\"" + extra_commitments + "}}";
}

TEST(ExportEvent, ContextErasureRecordIsApplied)
{
	ExportEvent original(kBase);
	for (const std::string &reads : {std::string("\"[ERASED]\""), std::string("\"[ERASED:0123456789abcdef]\"")}) {
		SCOPED_TRACE(reads);
		ExportEvent e(ContextErased(
			ContextRecord(R"(, "client_addr": "zz", "nobody": 1)", R"(, "session_id": ")" + kCommitment + "\""), reads));
		ASSERT_TRUE(e.problem().empty()) << e.problem();
		EXPECT_FALSE(e.has_context_salt);
		EXPECT_EQ(e.context.salt, nullptr);
		ASSERT_EQ(e.context_fields.size(), 2u);
		ASSERT_NE(e.context_fields[0].value_key, nullptr);
		EXPECT_EQ(ToHex(e.context_fields[0].value_key, 16), kReasonKey);
		EXPECT_EQ(e.context_fields[0].commitment, nullptr);
		ASSERT_NE(e.context_fields[1].commitment, nullptr);
		EXPECT_EQ(ToHex(e.context_fields[1].commitment, 32), kActorCommitment);
		EXPECT_EQ(e.context_fields[1].value_key, nullptr);
		// Erasure keeps the context hash, and with it the event hash.
		EXPECT_EQ(ToHex(e.context_hash), ToHex(original.context_hash));
		core::Hash previous = HashFromBytes(Sha("p"));
		EXPECT_EQ(ToHex(e.ComputeHash(previous)), ToHex(original.ComputeHash(previous)));
	}
	// An erased client address reads "[ERASED]" like any other attribute.
	std::string with_addr = With(R"("context": {"actor_id": "a", "reason": "r"})",
								 R"("context": {"actor_id": "a", "reason": "r", "client_addr": "192.0.2.1"})");
	ExportEvent salted(with_addr);
	ASSERT_TRUE(salted.problem().empty()) << salted.problem();
	const std::string salt = FromHex(kContextSalt);
	std::string addr_erased = With(R"("client_addr": "192.0.2.1")", R"("client_addr": "[ERASED]")", with_addr);
	addr_erased = With(R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": null)", addr_erased);
	addr_erased = With(R"("context_erasure": null)",
					   R"("context_erasure": {"value_keys": {"reason": ")" + ToHex(SpecKey(salt, 0)) + R"(", "actor_id": ")" +
						   ToHex(SpecKey(salt, 1)) + R"("}, "commitments": {"client_addr": ")" +
						   ToHex(SpecStringCommitment(SpecKey(salt, 2), "192.0.2.1")) + R"("}})",
					   addr_erased);
	ExportEvent erased_addr(addr_erased);
	ASSERT_TRUE(erased_addr.problem().empty()) << erased_addr.problem();
	EXPECT_EQ(ToHex(erased_addr.context_hash), ToHex(salted.context_hash));
}

TEST(ExportEvent, ContextSaltOrErasureRecord)
{
	// A context has its salt or an erasure record: never both, never neither.
	ExportEvent both(With(R"("context_erasure": null)", R"("context_erasure": {})"));
	EXPECT_EQ(both.problem(), "its context has both a salt and an erasure record");
	ExportEvent salt_beside_record(With(R"("context_salt": null)", R"("context_salt": ")" + kContextSalt + "\"",
										ContextErased(ContextRecord())));
	EXPECT_EQ(salt_beside_record.problem(), "its context has both a salt and an erasure record");
	ExportEvent neither(With(R"("context_salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f")", R"("context_salt": null)"));
	EXPECT_EQ(neither.problem(), "its context has neither a salt nor an erasure record");
	for (const char *record : {"[]", "\"x\"", "1", "true"}) {
		ExportEvent not_object(ContextErased(record));
		EXPECT_EQ(not_object.problem(), "its context erasure record is not an object") << record;
	}
}

TEST(ExportEvent, BrokenContextErasureRecordsAreProblemsNotParseErrors)
{
	const std::string k = kReasonKey, c = kActorCommitment;
	const std::pair<std::string, std::string> cases[] = {
		{R"({"value_keys": {"reason": ")" + k + R"("}, "commitments": []})",
		 "its context erasure record's \"commitments\" is not an object"},
		{R"({"value_keys": "x", "commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record's \"value_keys\" is not an object"},
		{R"({"value_keys": {"reason": 5}, "commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record holds a non-string"},
		{R"({"value_keys": {"reason": ")" + k + R"("}, "commitments": {"actor_id": null}})",
		 "its context erasure record holds a non-string"},
		// Bad hex digits, one byte short, one byte long, a commitment only as long as a key.
		{R"({"value_keys": {"reason": "g)" + k.substr(1) + R"("}, "commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record holds a malformed key or commitment"},
		{R"({"value_keys": {"reason": ")" + k.substr(2) + R"("}, "commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record holds a malformed key or commitment"},
		{R"({"value_keys": {"reason": ")" + k + R"(00"}, "commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record holds a malformed key or commitment"},
		{R"({"value_keys": {"reason": ")" + k + R"("}, "commitments": {"actor_id": ")" + k + R"("}})",
		 "its context erasure record holds a malformed key or commitment"},
		{R"({"value_keys": {"reason": ")" + k + R"("}, "commitments": {"actor_id": " )" + c.substr(1) + R"("}})",
		 "its context erasure record holds a malformed key or commitment"},
		// Without the salt, every attribute needs its key or its commitment.
		{R"({"commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record has no key for an attribute that was not erased"},
		{R"({"value_keys": {"Reason": ")" + k + R"("}, "commitments": {"actor_id": ")" + c + R"("}})",
		 "its context erasure record has no key for an attribute that was not erased"},
		{R"({})", "its context erasure record has no key for an attribute that was not erased"},
		// The kept attribute reads "r", which is not what erasure leaves.
		{R"({"value_keys": {"actor_id": ")" + k + R"("}, "commitments": {"reason": ")" + c + R"("}})",
		 "its context holds a value where one was erased"},
	};
	for (const auto &[record, problem] : cases) {
		ExportEvent e(ContextErased(record));
		EXPECT_EQ(e.problem(), problem) << record;
		EXPECT_CORE_ERROR(e.ComputeHash(core::Hash{}), ErrorCode::kDataCorrupted);
	}
	// A value where one was erased: anything but "[ERASED]" or a lower-case pseudonym.
	for (const std::string reads : {"\"a\"", "\"[erased]\"", "\"[ERASED:0123456789ABCDEF]\"", "\"[ERASED:0123456789abcde]\"",
									"\"[ERASED:0123456789abcdef0]\"", "\"[ERASED: 123456789abcdef]\"", "\"\""}) {
		ExportEvent e(ContextErased(ContextRecord(), reads));
		EXPECT_EQ(e.problem(), "its context holds a value where one was erased") << reads;
	}
	// Names that are not attributes of this context, and other members, are ignored whatever they hold.
	ExportEvent ignored(ContextErased(ContextRecord(R"(, "user_agent": [1], "": "")", R"(, "client_addr": "x")")));
	EXPECT_TRUE(ignored.problem().empty()) << ignored.problem();
}

TEST(ExportEvent, ContextProblemsComeFirst)
{
	// As the database's verify() checks them: the context before the event's own data.
	std::string both = With(R"("context_erasure": null)", R"("context_erasure": {})");
	ExportEvent no_type(With(R"("resource_type": "public.t")", R"("resource_type": null)", both));
	EXPECT_EQ(no_type.problem(), "its context has both a salt and an erasure record");
	ExportEvent event_both(With(R"("erasure": null)", R"("erasure": {})", both));
	EXPECT_EQ(event_both.problem(), "its context has both a salt and an erasure record");
	// An attribute has a name (an unnamed unit would read as a resource_id).
	ExportEvent unnamed(With(R"("context": {"actor_id": "a", "reason": "r"})", R"("context": {"": "a", "reason": "r"})"));
	EXPECT_EQ(unnamed.problem(), "its context has an attribute without a name");
	EXPECT_CORE_ERROR(unnamed.ComputeHash(core::Hash{}), ErrorCode::kDataCorrupted);
	// An empty context is fine, and hashes as the specification says.
	ExportEvent empty(With(R"("context": {"actor_id": "a", "reason": "r"})", R"("context": {})"));
	ASSERT_TRUE(empty.problem().empty()) << empty.problem();
	EXPECT_EQ(ToHex(empty.context_hash), ToHex(Bytes().raw("ACC2").u32(0).sha()));
}

TEST(ExportEvent, ParseIntegerLiteral)
{
	bool neg;
	uint64_t v;
	EXPECT_TRUE(tools::ParseIntegerLiteral("0", false, UINT64_MAX, &neg, &v));
	EXPECT_EQ(v, 0u);
	EXPECT_TRUE(tools::ParseIntegerLiteral("18446744073709551615", false, UINT64_MAX, &neg, &v));
	EXPECT_EQ(v, UINT64_MAX);
	EXPECT_FALSE(tools::ParseIntegerLiteral("18446744073709551616", false, UINT64_MAX, &neg, &v));
	EXPECT_FALSE(tools::ParseIntegerLiteral("99999999999999999999", false, UINT64_MAX, &neg, &v));
	EXPECT_FALSE(tools::ParseIntegerLiteral("4294967296", false, UINT32_MAX, &neg, &v));
	EXPECT_TRUE(tools::ParseIntegerLiteral("4294967295", false, UINT32_MAX, &neg, &v));
	EXPECT_FALSE(tools::ParseIntegerLiteral("-1", false, UINT64_MAX, &neg, &v));
	EXPECT_TRUE(tools::ParseIntegerLiteral("-1", true, UINT64_MAX, &neg, &v));
	EXPECT_TRUE(neg);
	for (const char *bad : {"", "-", "01", "-01", "1.0", "1e3", "+1", " 1", "1 ", "0x1", "１"})
		EXPECT_FALSE(tools::ParseIntegerLiteral(bad, true, UINT64_MAX, &neg, &v)) << bad;
}

}  // namespace
}  // namespace audit_chain::test
