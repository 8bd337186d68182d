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
	ASSERT_EQ(e.context.size(), 2u);
	EXPECT_EQ(e.context[0].name.str(), "reason");  // canonical order
	EXPECT_EQ(e.context[1].name.str(), "actor_id");
	Bytes ctx;
	ctx.raw("ACC1").u32(2).str("reason").str("r").str("actor_id").str("a");
	EXPECT_EQ(ToHex(e.context_hash), ToHex(ctx.sha()));
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
							  "event_id", "action", "outcome", "resource_type", "resource_id", "context", "salt",
							  "old_data", "new_data", "details", "erasure", "hash"}) {
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
	b.raw(Bytes().raw("ACC1").u32(2).str("reason").str("r").str("actor_id").str("a").sha());
	b.u8(3).u32(3);
	b.str("a").u8(1).raw(commit(1, 1, num1.bytes()));
	b.str("b").u8(3).raw(commit(2, 3, num1.bytes() + num2.bytes()));
	b.str("cc").u8(2).raw(commit(3, 2, Bytes().u8('s').str("x").bytes()));
	b.u8(1).u32(1).str("k").u8(2).raw(commit(4, 2, Bytes().u8('a').u32(1).u8('d').str("1").bytes()));
	EXPECT_EQ(ToHex(e.ComputeHash(previous)), ToHex(b.sha()));
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
