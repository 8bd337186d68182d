// test/unit/event_encoding_test.cpp: value keys, commitments, context and event hashes,
// checked against a hand-written implementation of the hash specification in README.md (event_builder.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "core/byte_sink.hpp"
#include "core/event_encoding.hpp"
#include "event_builder.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::HashEvent;

const std::string kPrevious = Sha("previous event");

std::string
EventBytes(TestEvent &e, const std::string &previous = kPrevious)
{
	core::ByteSink s;
	core::WriteEvent(s, HashFromBytes(previous), e.View());
	return s.bytes();
}

std::string
EventHash(TestEvent &e, const std::string &previous = kPrevious)
{
	return HashBytes(HashEvent(HashFromBytes(previous), e.View()));
}

// An UPDATE with a resource_id, columns of every flag combination and details:
// units 0 = resource_id, 1..4 = columns, 5..6 = details (three salt blocks).
TestEvent
RichEvent()
{
	TestEvent e;
	e.SetResourceId("[1, \"a\"]");
	{
		Tokens o, n;
		o.num("1.50");
		n.num("2.00");
		e.columns.push_back(Column("a", std::move(o), std::move(n), true, true));
	}
	{
		Tokens n;
		n.obj(2).str("x").arr(2).boolean(true).null().str("yy").str("\xe2\x82\xac");
		e.columns.push_back(NewOnly("zz", std::move(n)));
	}
	{
		Tokens o;
		o.str("gone");
		e.columns.push_back(OldOnly("\xc3\xa9", std::move(o)));  // "é": 2 bytes, after "zz"
	}
	{
		Tokens o, n;
		o.null();
		n.num("123456789012345678901234567890");
		e.columns.push_back(Column("abc", std::move(o), std::move(n), true, true));
	}
	e.has_details = true;
	{
		Tokens v;
		v.str("checkout");
		e.details.push_back(NewOnly("step", std::move(v)));
	}
	{
		Tokens v;
		v.arr(1).num("7");
		e.details.push_back(NewOnly("attempt", std::move(v)));
	}
	// "step" (4 bytes) < "attempt" (7 bytes) in canonical order.
	return e;
}

TEST(EventEncoding, ValueKeysFollowTheSpec)
{
	std::string salt = FromHex("000102030405060708090a0b0c0d0e0f");
	for (uint32_t i : {0u, 1u, 2u, 3u, 4u, 5u, 100u, 101u, UINT32_MAX - 1, UINT32_MAX}) {
		uint8_t key[16];
		core::DeriveValueKey(U8(salt), i, key);
		EXPECT_EQ(ToHex(key, 16), ToHex(SpecValueKey(salt, i))) << i;
	}
	// Two keys per SHA-256 block: even index = first half, odd index = second half.
	std::string block = Sha(Bytes().raw("ACK1").raw(salt).u32(2).bytes());
	uint8_t k4[16], k5[16];
	core::DeriveValueKey(U8(salt), 4, k4);
	core::DeriveValueKey(U8(salt), 5, k5);
	EXPECT_EQ(ToHex(k4, 16) + ToHex(k5, 16), ToHex(block));
}

TEST(EventEncoding, ValueKeysDependOnTheSalt)
{
	std::string s1(16, '\x01'), s2(16, '\x01');
	s2[15] = '\x02';
	uint8_t a[16], b[16];
	core::DeriveValueKey(U8(s1), 0, a);
	core::DeriveValueKey(U8(s2), 0, b);
	EXPECT_NE(ToHex(a, 16), ToHex(b, 16));
}

TEST(EventEncoding, CommitmentFollowsTheSpec)
{
	std::string key = FromHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	TestEvent e = RichEvent();
	const core::EventView &v = e.View();
	for (uint32_t i = 0; i < v.column_count; i++) {
		core::Hash c = core::ComputeCommitment(U8(key), v.columns[i]);
		EXPECT_EQ(ToHex(c), ToHex(SpecCommitment(key, e.columns[i]))) << e.columns[i].key;
	}
	// Written out completely for one unit: flags 3, old 1.50, new 2.00.
	std::string want = Bytes()
						   .raw("ACV1")
						   .raw(key)
						   .u8(3)
						   .u8('d')
						   .str("1.50")
						   .u8('d')
						   .str("2.00")
						   .sha();
	EXPECT_EQ(ToHex(core::ComputeCommitment(U8(key), v.columns[0])), ToHex(want));
}

TEST(EventEncoding, CommitmentSeparatesOldFromNew)
{
	// The same value as old or as new gives different commitments (the flags differ).
	std::string key(16, 'k');
	Tokens v1, v2;
	v1.str("v");
	v2.str("v");
	TestUnit as_old = OldOnly("c", std::move(v1));
	TestUnit as_new = NewOnly("c", std::move(v2));
	EXPECT_NE(SpecCommitment(key, as_old), SpecCommitment(key, as_new));
	TestEvent e;
	e.has_resource_id = false;
	e.columns.push_back(std::move(as_old));
	e.columns.push_back(std::move(as_new));
	e.columns[1].key = "d";
	const core::EventView &v = e.View();
	EXPECT_EQ(ToHex(core::ComputeCommitment(U8(key), v.columns[0])), ToHex(SpecCommitment(key, e.columns[0])));
	EXPECT_EQ(ToHex(core::ComputeCommitment(U8(key), v.columns[1])), ToHex(SpecCommitment(key, e.columns[1])));
}

TEST(EventEncoding, CommitmentOfAUnitWithoutValues)
{
	std::string key(16, '\0');
	core::ValueUnit u{};
	EXPECT_EQ(ToHex(core::ComputeCommitment(U8(key), u)), ToHex(Bytes().raw("ACV1").raw(key).u8(0).sha()));
}

TEST(EventEncoding, CommitmentRejectsMissingValues)
{
	std::string key(16, 'k');
	core::ValueUnit u{};
	u.flags = core::kHasOld;
	EXPECT_CORE_ERROR(core::ComputeCommitment(U8(key), u), ErrorCode::kDataCorrupted);
	u.flags = core::kHasNew;
	EXPECT_CORE_ERROR(core::ComputeCommitment(U8(key), u), ErrorCode::kDataCorrupted);
	Tokens value;
	value.null();
	u.flags = core::kHasOld | core::kHasNew;
	u.old_value = value.data();
	u.old_tokens = value.size();
	EXPECT_CORE_ERROR(core::ComputeCommitment(U8(key), u), ErrorCode::kDataCorrupted);  // new missing
	// A truncated value is corrupt data as well.
	Tokens truncated;
	truncated.arr(2).null();
	u.new_value = truncated.data();
	u.new_tokens = truncated.size();
	EXPECT_CORE_ERROR(core::ComputeCommitment(U8(key), u), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, EventBytesFollowTheSpec)
{
	TestEvent e = RichEvent();
	EXPECT_EQ(ToHex(EventBytes(e)), ToHex(SpecEventBytes(kPrevious, e)));
	EXPECT_EQ(ToHex(EventHash(e)), ToHex(Sha(EventBytes(e))));
}

TEST(EventEncoding, EventHeaderLayout)
{
	// The fixed-size header, checked field by field at its offsets.
	TestEvent e = RichEvent();
	std::string b = EventBytes(e);
	EXPECT_EQ(b.substr(0, 4), "ACE1");
	EXPECT_EQ(ToHex(b.substr(4, 32)), ToHex(kPrevious));
	EXPECT_EQ(ToHex(b.substr(36, 4)), "00000003");                   // chain_id
	EXPECT_EQ(ToHex(b.substr(40, 8)), "0000000000000001");           // seq
	EXPECT_EQ(ToHex(b.substr(48, 8)), "0000000000000011");           // commit_seq 17
	EXPECT_EQ(ToHex(b.substr(56, 8)), "00064750a7e68a40");           // committed_at_us
	EXPECT_EQ(ToHex(b.substr(64, 8)), "00000001000002e5");           // xid epoch 1, 741
	EXPECT_EQ(ToHex(b.substr(72, 8)), "00064750a7e67cc1");           // event_time_us
	EXPECT_EQ(ToHex(b.substr(80, 16)), "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	EXPECT_EQ(ToHex(b.substr(96, 10)), "00000006" + ToHex("UPDATE"));
}

TEST(EventEncoding, TruncateEventHasNoUnits)
{
	TestEvent e;
	e.action = "TRUNCATE";
	e.has_resource_id = false;
	e.data_flags = 0;
	std::string b = EventBytes(e);
	EXPECT_EQ(ToHex(b), ToHex(SpecEventBytes(kPrevious, e)));
	// Tail: no resource_id, context hash, data_flags 0, zero columns, no details.
	std::string tail = Bytes().u8(0).raw(e.context_hash).u8(0).u32(0).u8(0).bytes();
	EXPECT_EQ(ToHex(b.substr(b.size() - tail.size())), ToHex(tail));
	// Without units the salt is never used, so an event without salt hashes the same.
	std::string with_salt = EventHash(e);
	e.salt.reset();
	EXPECT_EQ(ToHex(EventHash(e)), ToHex(with_salt));
}

TEST(EventEncoding, DetailsUnitsContinueTheIndex)
{
	// resource_id + 4 columns: the details members are units 5 and 6.
	TestEvent e = RichEvent();
	std::string b = EventBytes(e);
	std::string c5 = SpecCommitment(SpecValueKey(*e.salt, 5), e.details[0]);
	std::string c6 = SpecCommitment(SpecValueKey(*e.salt, 6), e.details[1]);
	std::string tail = Bytes().u8(1).u32(2).str("step").u8(2).raw(c5).str("attempt").u8(2).raw(c6).bytes();
	EXPECT_EQ(ToHex(b.substr(b.size() - tail.size())), ToHex(tail));
	// Without a resource_id every later unit shifts down by one.
	TestEvent no_rid = RichEvent();
	no_rid.has_resource_id = false;
	std::string b2 = EventBytes(no_rid);
	std::string c4 = SpecCommitment(SpecValueKey(*e.salt, 4), e.details[0]);
	EXPECT_NE(b2.find(Bytes().str("step").u8(2).raw(c4).bytes()), std::string::npos);
	EXPECT_EQ(ToHex(b2), ToHex(SpecEventBytes(kPrevious, no_rid)));
}

TEST(EventEncoding, EmptyDetailsDifferFromNoDetails)
{
	TestEvent a;
	a.has_details = false;
	TestEvent b;
	b.has_details = true;
	EXPECT_NE(EventHash(a), EventHash(b));
	EXPECT_EQ(ToHex(EventBytes(b)), ToHex(SpecEventBytes(kPrevious, b)));
}

TEST(EventEncoding, DataFlagsAreHashed)
{
	// old_data {} and old_data NULL differ even though neither has columns.
	std::string hashes[4];
	for (uint8_t f = 0; f < 4; f++) {
		TestEvent e;
		e.data_flags = f;
		hashes[f] = EventHash(e);
		EXPECT_EQ(ToHex(EventBytes(e)), ToHex(SpecEventBytes(kPrevious, e)));
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			EXPECT_NE(hashes[i], hashes[j]);
}

TEST(EventEncoding, EveryFieldIsCovered)
{
	const std::string base = [] {
		TestEvent e = RichEvent();
		return EventHash(e);
	}();
	std::vector<std::pair<const char *, std::function<void(TestEvent &)>>> changes = {
		{"chain_id", [](TestEvent &e) { e.chain_id++; }},
		{"seq", [](TestEvent &e) { e.seq++; }},
		{"commit_seq", [](TestEvent &e) { e.commit_seq++; }},
		{"committed_at", [](TestEvent &e) { e.committed_at++; }},
		{"xid", [](TestEvent &e) { e.xid ^= uint64_t(1) << 32; }},
		{"event_time", [](TestEvent &e) { e.event_time--; }},
		{"event_id", [](TestEvent &e) { e.event_id[15] ^= 1; }},
		{"action", [](TestEvent &e) { e.action = "DELETE"; }},
		{"outcome", [](TestEvent &e) { e.outcome = "failure"; }},
		{"resource_type", [](TestEvent &e) { e.resource_type = "public.account"; }},
		{"resource_id", [](TestEvent &e) { e.SetResourceId("[1, \"b\"]"); }},
		{"resource_id absent", [](TestEvent &e) { e.has_resource_id = false; }},
		{"context", [](TestEvent &e) { e.context_hash[0] ^= 1; }},
		{"salt", [](TestEvent &e) { (*e.salt)[0] ^= 1; }},
		{"data_flags", [](TestEvent &e) { e.data_flags = core::kHasNew; }},
		{"column key", [](TestEvent &e) { e.columns[0].key = "b"; }},
		{"column flags", [](TestEvent &e) { e.columns[1].has_old = true, e.columns[1].old_value.null(); }},
		{"column old value", [](TestEvent &e) { e.columns[0].old_value = Tokens(), e.columns[0].old_value.num("1.5"); }},
		{"column new value", [](TestEvent &e) { e.columns[3].new_value = Tokens(), e.columns[3].new_value.str("123456789012345678901234567890"); }},
		{"column removed", [](TestEvent &e) { e.columns.pop_back(); }},
		{"details member", [](TestEvent &e) { e.details[0].new_value = Tokens(), e.details[0].new_value.str("pay"); }},
		{"details absent", [](TestEvent &e) { e.details.clear(), e.has_details = false; }},
	};
	for (auto &[name, change] : changes) {
		TestEvent e = RichEvent();
		change(e);
		EXPECT_NE(ToHex(EventHash(e)), ToHex(base)) << name;
		EXPECT_EQ(ToHex(EventBytes(e)), ToHex(SpecEventBytes(kPrevious, e))) << name;
	}
	TestEvent e = RichEvent();
	EXPECT_NE(ToHex(EventHash(e, Sha("another predecessor"))), ToHex(base));
}

TEST(EventEncoding, ColumnVersusDetailsMember)
{
	// The same key and value as a column or as a details member hash differently.
	TestEvent as_column;
	as_column.has_resource_id = false;
	as_column.data_flags = core::kHasNew;
	Tokens v1, v2;
	v1.str("x");
	v2.str("x");
	as_column.columns.push_back(NewOnly("k", std::move(v1)));
	TestEvent as_detail;
	as_detail.has_resource_id = false;
	as_detail.data_flags = core::kHasNew;
	as_detail.has_details = true;
	as_detail.details.push_back(NewOnly("k", std::move(v2)));
	EXPECT_NE(EventHash(as_column), EventHash(as_detail));
}

TEST(EventEncoding, RejectsColumnsOutOfOrder)
{
	TestEvent e = RichEvent();
	std::swap(e.columns[1], e.columns[2]);  // "é" before "zz"
	EXPECT_CORE_ERROR(EventHash(e), ErrorCode::kDataCorrupted);
	TestEvent dup = RichEvent();
	dup.columns[1].key = "a";  // "a", "a", ...
	EXPECT_CORE_ERROR(EventHash(dup), ErrorCode::kDataCorrupted);
	TestEvent longer_first = RichEvent();
	std::swap(longer_first.columns[0], longer_first.columns[3]);  // "abc" before "a"
	EXPECT_CORE_ERROR(EventHash(longer_first), ErrorCode::kDataCorrupted);
	core::ByteSink s;
	EXPECT_CORE_ERROR(core::WriteEvent(s, HashFromBytes(kPrevious), dup.View()), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, RejectsDetailsOutOfOrder)
{
	TestEvent e = RichEvent();
	std::swap(e.details[0], e.details[1]);
	EXPECT_CORE_ERROR(EventHash(e), ErrorCode::kDataCorrupted);
	TestEvent dup = RichEvent();
	dup.details[1].key = "step";
	EXPECT_CORE_ERROR(EventHash(dup), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ColumnValueInNonCanonicalOrderIsRejected)
{
	TestEvent e;
	e.has_resource_id = false;
	Tokens v;
	v.obj(2).str("bb").null().str("a").null();
	e.columns.push_back(NewOnly("c", std::move(v)));
	EXPECT_CORE_ERROR(EventHash(e), ErrorCode::kInvalidParameter);
}

TEST(EventEncoding, MissingSaltNeedsExplicitKeys)
{
	TestEvent e = RichEvent();
	e.salt.reset();
	EXPECT_CORE_ERROR(EventHash(e), ErrorCode::kDataCorrupted);
	// Keys for every unit but one are still not enough.
	TestEvent almost = RichEvent();
	std::string salt = *almost.salt;
	auto units = almost.Units();
	for (uint32_t i = 0; i + 1 < units.size(); i++)
		units[i]->value_key = SpecValueKey(salt, i);
	almost.salt.reset();
	EXPECT_CORE_ERROR(EventHash(almost), ErrorCode::kDataCorrupted);
}

// What audit_chain.erase() leaves in place of each value of an erased unit.
void
MarkErased(TestUnit &u)
{
	if (u.has_old)
		u.old_value = Tokens(), u.old_value.str("[ERASED]");
	if (u.has_new)
		u.new_value = Tokens(), u.new_value.str("[ERASED]");
}

// Erases the units of e listed in erased (by index), as audit_chain.erase() does: the salt
// goes, erased units keep their commitment and read "[ERASED]", the others keep their key.
void
Erase(TestEvent &e, const std::vector<uint32_t> &erased)
{
	const std::string salt = *e.salt;
	auto units = e.Units();
	for (uint32_t i = 0; i < units.size(); i++) {
		if (std::find(erased.begin(), erased.end(), i) != erased.end()) {
			units[i]->commitment = SpecCommitment(SpecValueKey(salt, i), *units[i]);
			MarkErased(*units[i]);
		} else {
			units[i]->value_key = SpecValueKey(salt, i);
		}
	}
	e.salt.reset();
}

// Erasure: replacing any unit by its commitment and every other unit by its derived key,
// with the salt removed, leaves the event hash unchanged.
TEST(EventEncoding, ErasingAnyUnitKeepsTheHash)
{
	TestEvent original = RichEvent();
	const std::string want = EventHash(original);
	const size_t nunits = original.Units().size();
	ASSERT_EQ(nunits, 7u);
	for (uint32_t erased = 0; erased < nunits; erased++) {
		TestEvent e = RichEvent();
		Erase(e, {erased});
		EXPECT_EQ(ToHex(EventHash(e)), ToHex(want)) << "erased unit " << erased;
		EXPECT_EQ(ToHex(EventBytes(e)), ToHex(EventBytes(original))) << "erased unit " << erased;
	}
}

TEST(EventEncoding, EraseEverything)
{
	TestEvent original = RichEvent();
	const std::string want = EventHash(original);
	TestEvent e = RichEvent();
	Erase(e, {0, 1, 2, 3, 4, 5, 6});
	EXPECT_EQ(ToHex(EventHash(e)), ToHex(want));
	// Erasing again what is erased changes nothing.
	TestEvent twice = RichEvent();
	Erase(twice, {2, 5});
	auto units = twice.Units();
	units[3]->value_key.reset();
	units[3]->commitment = SpecCommitment(SpecValueKey(*original.salt, 3), *RichEvent().Units()[3]);
	MarkErased(*units[3]);
	EXPECT_EQ(ToHex(EventHash(twice)), ToHex(want));
}

TEST(EventEncoding, ErasedValuesMustReadErased)
{
	// A value put where one was erased is not covered by the commitment: refused.
	auto erased_with = [](uint32_t unit, auto replace) {
		TestEvent e = RichEvent();
		Erase(e, {unit});
		replace(*e.Units()[unit]);
		return e;
	};
	const std::vector<std::pair<const char *, std::function<void(TestUnit &)>>> forged = {
		{"original value back", [](TestUnit &u) { u.new_value = Tokens(), u.new_value.num("2.00"); }},
		{"lower case marker", [](TestUnit &u) { u.new_value = Tokens(), u.new_value.str("[erased]"); }},
		{"marker with a space", [](TestUnit &u) { u.new_value = Tokens(), u.new_value.str("[ERASED] "); }},
		{"marker in an array", [](TestUnit &u) { u.new_value = Tokens(), u.new_value.arr(1).str("[ERASED]"); }},
		{"null", [](TestUnit &u) { u.new_value = Tokens(), u.new_value.null(); }},
		{"only the old value erased", [](TestUnit &u) { u.new_value = Tokens(), u.new_value.num("2.00"); }},
	};
	for (const auto &[name, replace] : forged) {
		TestEvent e = erased_with(1, replace);  // column "a": old 1.50, new 2.00
		EXPECT_CORE_ERROR(EventHash(e), ErrorCode::kDataCorrupted) << name;
	}
	TestEvent old_side = erased_with(1, [](TestUnit &u) { u.old_value = Tokens(), u.old_value.num("1.50"); });
	EXPECT_CORE_ERROR(EventHash(old_side), ErrorCode::kDataCorrupted);
	// The resource_id and a details member too.
	TestEvent rid = erased_with(0, [](TestUnit &u) { u.new_value = Tokens(), u.new_value.str("[1, \"a\"]"); });
	EXPECT_CORE_ERROR(EventHash(rid), ErrorCode::kDataCorrupted);
	TestEvent det = erased_with(6, [](TestUnit &u) { u.new_value = Tokens(), u.new_value.arr(1).num("7"); });
	EXPECT_CORE_ERROR(EventHash(det), ErrorCode::kDataCorrupted);
	// Missing value tokens are not the marker either.
	TestEvent e = RichEvent();
	Erase(e, {2});
	core::EventView view = e.View();
	std::vector<core::ValueUnit> columns(view.columns, view.columns + view.column_count);
	columns[1].new_value = nullptr;
	columns[1].new_tokens = 0;
	view.columns = columns.data();
	EXPECT_CORE_ERROR(HashEvent(HashFromBytes(kPrevious), view), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ErasedRowIdsMayBePseudonyms)
{
	// A pseudonym keeps erased rows apart and hashes like the marker: the commitment covers it.
	const uint8_t secret[32] = {1, 2, 3};
	char p5[core::kErasedPseudonymSize + 1], p5_again[core::kErasedPseudonymSize + 1],
		p6[core::kErasedPseudonymSize + 1];
	core::ErasedPseudonym(secret, sizeof(secret), "5", 1, p5);
	core::ErasedPseudonym(secret, sizeof(secret), "5", 1, p5_again);
	core::ErasedPseudonym(secret, sizeof(secret), "6", 1, p6);
	EXPECT_STREQ(p5, p5_again);
	EXPECT_STRNE(p5, p6);
	EXPECT_EQ(std::string(p5).size(), core::kErasedPseudonymSize);
	EXPECT_EQ(std::string(p5).substr(0, 8), "[ERASED:");
	const uint8_t other_secret[32] = {9};
	char p5_other[core::kErasedPseudonymSize + 1];
	core::ErasedPseudonym(other_secret, sizeof(other_secret), "5", 1, p5_other);
	EXPECT_STRNE(p5, p5_other);  // nothing ties two erasures' pseudonyms together

	TestEvent marker = RichEvent();
	Erase(marker, {0});
	const std::string want = EventHash(marker);
	TestEvent pseudonym = RichEvent();
	Erase(pseudonym, {0});
	std::string p(p5);
	pseudonym.Units()[0]->new_value = Tokens(), pseudonym.Units()[0]->new_value.str(p);
	EXPECT_EQ(ToHex(EventHash(pseudonym)), ToHex(want));

	const std::vector<std::string> not_pseudonyms = {
		"[ERASED:0123456789abcde]",    // 15 digits
		"[ERASED:0123456789abcdef0]",  // 17 digits
		"[ERASED:0123456789ABCDEF]",   // upper case
		"[ERASED:0123456789abcdeg]",   // not hex
		"[ERASED 0123456789abcdef]",
		"[ERASED:0123456789abcdef",
	};
	for (const std::string &forged : not_pseudonyms) {
		TestEvent e = RichEvent();
		Erase(e, {0});
		e.Units()[0]->new_value = Tokens(), e.Units()[0]->new_value.str(forged);
		EXPECT_CORE_ERROR(EventHash(e), ErrorCode::kDataCorrupted) << forged;
	}
}

TEST(EventEncoding, SaltAndErasureDataNeverTogether)
{
	// An event keeps its salt or explicit keys and commitments, never both: with both, a
	// forged value could pass under the commitment of the original.
	TestEvent keys = RichEvent();
	auto units = keys.Units();
	for (uint32_t i = 0; i < units.size(); i++)
		units[i]->value_key = SpecValueKey(*keys.salt, i);
	EXPECT_CORE_ERROR(EventHash(keys), ErrorCode::kDataCorrupted);
	TestEvent one_key = RichEvent();
	one_key.details[1].value_key = SpecValueKey(*one_key.salt, 6);
	EXPECT_CORE_ERROR(EventHash(one_key), ErrorCode::kDataCorrupted);
	TestEvent commitment = RichEvent();
	commitment.resource_id.commitment = SpecCommitment(SpecValueKey(*commitment.salt, 0), commitment.resource_id);
	MarkErased(commitment.resource_id);
	EXPECT_CORE_ERROR(EventHash(commitment), ErrorCode::kDataCorrupted);
	core::ByteSink s;
	EXPECT_CORE_ERROR(core::WriteEvent(s, HashFromBytes(kPrevious), commitment.View()), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ExplicitKeysAreUsedAsGiven)
{
	TestEvent original = RichEvent();
	const std::string want = EventHash(original);
	TestEvent e = RichEvent();
	Erase(e, {});  // every unit keeps its key, no salt: the same hash
	EXPECT_EQ(ToHex(EventHash(e)), ToHex(want));
	e.columns[2].value_key = std::string(16, 'x');  // a different key is used as given
	EXPECT_NE(ToHex(EventHash(e)), ToHex(want));
	EXPECT_EQ(ToHex(EventBytes(e)), ToHex(SpecEventBytes(kPrevious, e)));
}

TEST(EventEncoding, WrongErasureDataChangesTheHash)
{
	TestEvent original = RichEvent();
	const std::string want = EventHash(original);
	const std::string salt = *original.salt;
	TestEvent bad_commitment = RichEvent();
	Erase(bad_commitment, {1});
	(*bad_commitment.columns[0].commitment)[31] ^= 1;
	EXPECT_NE(ToHex(EventHash(bad_commitment)), ToHex(want));
	TestEvent bad_key = RichEvent();
	Erase(bad_key, {1});
	(*bad_key.columns[1].value_key)[0] ^= 1;
	EXPECT_NE(ToHex(EventHash(bad_key)), ToHex(want));
	// Keys shifted by one unit (an off-by-one in the erasure record) do not verify.
	TestEvent shifted = RichEvent();
	auto units = shifted.Units();
	for (uint32_t i = 0; i < units.size(); i++)
		units[i]->value_key = SpecValueKey(salt, i + 1);
	shifted.salt.reset();
	EXPECT_NE(ToHex(EventHash(shifted)), ToHex(want));
	// A commitment moved to another unit does not verify.
	TestEvent moved = RichEvent();
	Erase(moved, {1, 2});
	std::swap(moved.columns[0].commitment, moved.columns[1].commitment);
	EXPECT_NE(ToHex(EventHash(moved)), ToHex(want));
}

// ---- context ----

// Owning builder of a core::ContextView: attributes as string units, with the context's salt.
struct TestContext {
	std::vector<TestUnit> fields;  // canonical key order
	std::optional<std::string> salt = FromHex("f0e1d2c3b4a5968778695a4b3c2d1e0f");

	TestContext &Add(std::string name, std::string value)
	{
		Tokens t;
		t.str(std::move(value));
		fields.push_back(NewOnly(std::move(name), std::move(t)));
		return *this;
	}

	const core::ContextView &View()
	{
		units_.clear();
		for (const TestUnit &f : fields) {
			core::ValueUnit v{};
			v.key = test::View(f.key);
			v.flags = f.flags();
			v.new_value = f.has_new ? f.new_value.data() : nullptr;
			v.new_tokens = f.has_new ? f.new_value.size() : 0;
			v.old_value = f.has_old ? f.old_value.data() : nullptr;
			v.old_tokens = f.has_old ? f.old_value.size() : 0;
			v.value_key = f.value_key ? U8(*f.value_key) : nullptr;
			v.commitment = f.commitment ? U8(*f.commitment) : nullptr;
			units_.push_back(v);
		}
		view_ = core::ContextView{units_.data(), static_cast<uint32_t>(units_.size()), salt ? U8(*salt) : nullptr};
		return view_;
	}

	std::string Hash() { return HashBytes(core::HashContext(View())); }

	// As erasure leaves it: the salt gone, the listed fields replaced by their commitment and
	// `marker`, every other field with its derived key.
	void Erase(const std::vector<uint32_t> &erased, const std::string &marker = "[ERASED]")
	{
		for (uint32_t i = 0; i < fields.size(); i++) {
			std::string key = SpecValueKey(*salt, i);
			if (std::find(erased.begin(), erased.end(), i) != erased.end()) {
				fields[i].commitment = SpecCommitment(key, fields[i]);
				fields[i].new_value = Tokens(), fields[i].new_value.str(marker);
			} else {
				fields[i].value_key = key;
			}
		}
		salt.reset();
	}

private:
	std::vector<core::ValueUnit> units_;
	core::ContextView view_{};
};

// Fields in canonical order (by length, then bytewise), as audit_chain.contexts yields them.
TestContext
RichContext()
{
	TestContext c;
	c.Add("reason", "ticket #12")
		.Add("actor_id", "alice@example.com")
		.Add("actor_type", "user")
		.Add("client_addr", "192.0.2.7")
		.Add("current_user", "app")
		.Add("session_user", "app")
		.Add("application_name", "psql \xc3\xa9");
	return c;
}

// The specification, written out: per-field keys from the context's salt, commitments as
// for a details member, then the field list.
std::string
SpecContextBytes(const TestContext &c)
{
	Bytes b;
	b.raw("ACC2").u32(static_cast<uint32_t>(c.fields.size()));
	for (uint32_t i = 0; i < c.fields.size(); i++) {
		const TestUnit &f = c.fields[i];
		std::string commitment = f.commitment ? *f.commitment
											  : SpecCommitment(f.value_key ? *f.value_key : SpecValueKey(*c.salt, i), f);
		b.str(f.key).u8(2).raw(commitment);
	}
	return b.bytes();
}

TEST(EventEncoding, ContextHashFollowsTheSpec)
{
	TestContext c = RichContext();
	core::ByteSink s;
	core::WriteContext(s, c.View());
	EXPECT_EQ(ToHex(s.bytes()), ToHex(SpecContextBytes(c)));
	EXPECT_EQ(ToHex(c.Hash()), ToHex(Sha(SpecContextBytes(c))));
	// Written out completely for the first field: key 0 of the salt, flags 2, 's' str(value).
	std::string key0 = SpecValueKey(*c.salt, 0);
	std::string f0 = Bytes().raw("ACV1").raw(key0).u8(2).u8('s').str("ticket #12").sha();
	EXPECT_EQ(ToHex(SpecContextBytes(c).substr(8, 4 + 6 + 1 + 32)),
			  ToHex(Bytes().str("reason").u8(2).raw(f0).bytes()));
}

TEST(EventEncoding, EmptyContext)
{
	TestContext c;
	EXPECT_EQ(ToHex(c.Hash()), ToHex(Bytes().raw("ACC2").u32(0).sha()));
}

TEST(EventEncoding, ContextHashDependsOnTheSaltAndEveryField)
{
	TestContext c = RichContext();
	const std::string want = c.Hash();
	TestContext other_salt = RichContext();
	(*other_salt.salt)[0] ^= 1;
	EXPECT_NE(ToHex(other_salt.Hash()), ToHex(want));
	for (uint32_t i = 0; i < c.fields.size(); i++) {
		TestContext changed = RichContext();
		changed.fields[i].new_value = Tokens();
		changed.fields[i].new_value.str("changed");
		EXPECT_NE(ToHex(changed.Hash()), ToHex(want)) << c.fields[i].key;
		TestContext renamed = RichContext();
		renamed.fields[i].key += "x";
		if (i + 1 == c.fields.size()) {  // still canonical only when it stays last
			EXPECT_NE(ToHex(renamed.Hash()), ToHex(want));
		}
		TestContext dropped = RichContext();
		dropped.fields.erase(dropped.fields.begin() + i);
		EXPECT_NE(ToHex(dropped.Hash()), ToHex(want)) << c.fields[i].key;
	}
}

TEST(EventEncoding, ContextFieldsMustBeCanonical)
{
	TestContext out_of_order;
	out_of_order.Add("actor_id", "a").Add("reason", "r");
	EXPECT_CORE_ERROR(out_of_order.Hash(), ErrorCode::kDataCorrupted);
	TestContext duplicate;
	duplicate.Add("reason", "a").Add("reason", "b");
	EXPECT_CORE_ERROR(duplicate.Hash(), ErrorCode::kDataCorrupted);
	TestContext same_length;
	same_length.Add("session_id", "a").Add("request_id", "b");
	EXPECT_CORE_ERROR(same_length.Hash(), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ContextFieldsAreNamedStrings)
{
	TestContext unnamed;
	unnamed.Add("", "x");
	EXPECT_CORE_ERROR(unnamed.Hash(), ErrorCode::kDataCorrupted);
	TestContext number;
	number.Add("reason", "x");
	number.fields[0].new_value = Tokens(), number.fields[0].new_value.num("1");
	EXPECT_CORE_ERROR(number.Hash(), ErrorCode::kDataCorrupted);
	TestContext with_old;
	with_old.Add("reason", "x");
	with_old.fields[0].has_old = true;
	with_old.fields[0].old_value.str("y");
	EXPECT_CORE_ERROR(with_old.Hash(), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ContextValuesAreDelimited)
{
	// Length prefixes keep "ab"+"c" apart from "a"+"bc".
	TestContext x, y;
	x.Add("a", "bc");
	y.Add("ab", "c");
	y.salt = x.salt;
	EXPECT_NE(ToHex(x.Hash()), ToHex(y.Hash()));
}

// Erasing context attributes (an email used as actor_id, the end user's address) keeps the
// context hash, and with it every event that refers to the context.
TEST(EventEncoding, ErasingContextFieldsKeepsTheHash)
{
	const std::string want = RichContext().Hash();
	const std::vector<std::vector<uint32_t>> cases = {{}, {1}, {3}, {1, 3}, {0, 1, 2, 3, 4, 5, 6}};
	for (const auto &erased : cases) {
		TestContext c = RichContext();
		c.Erase(erased);
		EXPECT_EQ(ToHex(c.Hash()), ToHex(want)) << erased.size();
		core::ByteSink s;
		core::WriteContext(s, c.View());
		EXPECT_EQ(ToHex(s.bytes()), ToHex(SpecContextBytes(c)));
	}
	// An erased actor_id may read as a pseudonym, which keeps an erased actor's events together.
	const uint8_t secret[32] = {7};
	char pseudonym[core::kErasedPseudonymSize + 1];
	core::ErasedPseudonym(secret, sizeof(secret), "alice@example.com", 17, pseudonym);
	TestContext p = RichContext();
	p.Erase({1}, pseudonym);
	EXPECT_EQ(ToHex(p.Hash()), ToHex(want));
}

TEST(EventEncoding, ErasedContextFieldsMustReadErased)
{
	TestContext c = RichContext();
	c.Erase({1});
	c.fields[1].new_value = Tokens(), c.fields[1].new_value.str("mallory");
	EXPECT_CORE_ERROR(c.Hash(), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ContextSaltAndErasureRecordNeverTogether)
{
	TestContext both = RichContext();
	std::string salt = *both.salt;
	both.Erase({1});
	both.salt = salt;
	EXPECT_CORE_ERROR(both.Hash(), ErrorCode::kDataCorrupted);
	TestContext key_and_salt = RichContext();
	key_and_salt.fields[0].value_key = SpecValueKey(*key_and_salt.salt, 0);
	EXPECT_CORE_ERROR(key_and_salt.Hash(), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, ContextWithoutSaltNeedsAKeyForEveryField)
{
	TestContext c = RichContext();
	c.Erase({1});
	c.fields[4].value_key.reset();
	EXPECT_CORE_ERROR(c.Hash(), ErrorCode::kDataCorrupted);
	TestContext none = RichContext();
	none.salt.reset();
	EXPECT_CORE_ERROR(none.Hash(), ErrorCode::kDataCorrupted);
}

TEST(EventEncoding, WrongContextErasureDataChangesTheHash)
{
	const std::string want = RichContext().Hash();
	TestContext wrong_key = RichContext();
	wrong_key.Erase({1});
	(*wrong_key.fields[0].value_key)[0] ^= 1;
	EXPECT_NE(ToHex(wrong_key.Hash()), ToHex(want));
	TestContext wrong_commitment = RichContext();
	wrong_commitment.Erase({1});
	(*wrong_commitment.fields[1].commitment)[31] ^= 1;
	EXPECT_NE(ToHex(wrong_commitment.Hash()), ToHex(want));
	// Keys belong to their index: swapped keys do not verify.
	TestContext swapped = RichContext();
	swapped.Erase({1});
	std::swap(swapped.fields[2].value_key, swapped.fields[3].value_key);
	EXPECT_NE(ToHex(swapped.Hash()), ToHex(want));
}

}  // namespace
}  // namespace audit_chain::test
