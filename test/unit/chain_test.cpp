// test/unit/chain_test.cpp: genesis, CheckNext statuses and digests.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "core/byte_sink.hpp"
#include "core/chain.hpp"
#include "event_builder.hpp"
#include "test_support.hpp"

namespace audit_chain::test {
namespace {

using core::ChainCursor;
using core::ChainHead;
using core::CheckNext;
using core::LinkStatus;

const std::string kLedger = FromHex("6a1c2f4e8b0d4e7f9a3b5c6d7e8f9012");

TEST(Chain, GenesisFollowsTheSpec)
{
	for (uint32_t chain : {0u, 1u, 16u, 0x01020304u, UINT32_MAX}) {
		std::string want = Bytes().raw("ACG1").raw(kLedger).u32(chain).sha();
		EXPECT_EQ(ToHex(core::GenesisHash(U8(kLedger), chain)), ToHex(want)) << chain;
	}
}

TEST(Chain, GenesisBindsLedgerAndChain)
{
	std::string other = kLedger;
	other[0] ^= 1;
	EXPECT_NE(ToHex(core::GenesisHash(U8(kLedger), 1)), ToHex(core::GenesisHash(U8(other), 1)));
	EXPECT_NE(ToHex(core::GenesisHash(U8(kLedger), 1)), ToHex(core::GenesisHash(U8(kLedger), 2)));
}

TEST(Chain, StartAndResume)
{
	ChainCursor c = core::StartOfChain(U8(kLedger), 5);
	EXPECT_EQ(c.chain_id, 5u);
	EXPECT_EQ(c.next_seq, 1u);
	EXPECT_EQ(c.last_committed_at, INT64_MIN);
	EXPECT_EQ(ToHex(c.previous), ToHex(core::GenesisHash(U8(kLedger), 5)));

	core::Hash h = HashFromBytes(Sha("head"));
	ChainCursor r = core::ResumeChain(7, 41, -5, h);
	EXPECT_EQ(r.chain_id, 7u);
	EXPECT_EQ(r.next_seq, 42u);
	EXPECT_EQ(r.last_committed_at, -5);
	EXPECT_EQ(ToHex(r.previous), ToHex(h));
}

// A correctly hashed chain of n events (chain 2), with stored hashes.
struct Stored {
	std::vector<TestEvent> events;
	std::vector<std::string> hashes;
};

TestEvent
Event(uint64_t seq, int64_t committed_at)
{
	TestEvent e;
	e.chain_id = 2;
	e.seq = seq;
	e.commit_seq = 100 + seq;
	e.committed_at = committed_at;
	e.event_time = committed_at - 10;
	e.SetResourceId(std::to_string(seq));
	Tokens v;
	v.num(std::to_string(seq * 10) + ".0");
	e.data_flags = core::kHasNew;
	e.columns.push_back(NewOnly("amount", std::move(v)));
	return e;
}

Stored
MakeChain(int n, int64_t start_time = 1767261600000000)
{
	Stored s;
	std::string previous = HashBytes(core::GenesisHash(U8(kLedger), 2));
	for (int i = 1; i <= n; i++) {
		s.events.push_back(Event(i, start_time + i * 1000));
		std::string h = Sha(SpecEventBytes(previous, s.events.back()));
		s.hashes.push_back(h);
		previous = h;
	}
	return s;
}

TEST(Chain, ValidChainChecksOk)
{
	Stored s = MakeChain(4);
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	for (size_t i = 0; i < s.events.size(); i++) {
		core::Hash computed{};
		EXPECT_EQ(CheckNext(c, s.events[i].View(), U8(s.hashes[i]), computed), LinkStatus::kOk) << i;
		EXPECT_EQ(ToHex(computed), ToHex(s.hashes[i]));
		EXPECT_EQ(c.next_seq, i + 2);
		EXPECT_EQ(c.last_committed_at, s.events[i].committed_at);
		EXPECT_EQ(ToHex(c.previous), ToHex(s.hashes[i]));
	}
}

void
ExpectUnchanged(const ChainCursor &before, const ChainCursor &after)
{
	EXPECT_EQ(after.chain_id, before.chain_id);
	EXPECT_EQ(after.next_seq, before.next_seq);
	EXPECT_EQ(after.last_committed_at, before.last_committed_at);
	EXPECT_EQ(ToHex(after.previous), ToHex(before.previous));
}

TEST(Chain, MissingEvent)
{
	Stored s = MakeChain(3);
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	ChainCursor before = c;
	EXPECT_EQ(CheckNext(c, s.events[1].View(), U8(s.hashes[1]), computed), LinkStatus::kMissing);  // seq 2 first
	ExpectUnchanged(before, c);
	ASSERT_EQ(CheckNext(c, s.events[0].View(), U8(s.hashes[0]), computed), LinkStatus::kOk);
	before = c;
	EXPECT_EQ(CheckNext(c, s.events[2].View(), U8(s.hashes[2]), computed), LinkStatus::kMissing);  // seq 3 after 1
	ExpectUnchanged(before, c);
}

TEST(Chain, UnexpectedEvent)
{
	Stored s = MakeChain(2);
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	TestEvent zero = Event(0, 1767261600000000);
	EXPECT_EQ(CheckNext(c, zero.View(), U8(s.hashes[0]), computed), LinkStatus::kUnexpected);
	ASSERT_EQ(CheckNext(c, s.events[0].View(), U8(s.hashes[0]), computed), LinkStatus::kOk);
	ASSERT_EQ(CheckNext(c, s.events[1].View(), U8(s.hashes[1]), computed), LinkStatus::kOk);
	ChainCursor before = c;
	// A duplicate of an event already seen.
	EXPECT_EQ(CheckNext(c, s.events[1].View(), U8(s.hashes[1]), computed), LinkStatus::kUnexpected);
	EXPECT_EQ(CheckNext(c, s.events[0].View(), U8(s.hashes[0]), computed), LinkStatus::kUnexpected);
	ExpectUnchanged(before, c);
}

TEST(Chain, HashMismatch)
{
	Stored s = MakeChain(2);
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	// Wrong stored hash.
	std::string wrong = s.hashes[0];
	wrong[0] ^= 1;
	ChainCursor before = c;
	EXPECT_EQ(CheckNext(c, s.events[0].View(), U8(wrong), computed), LinkStatus::kHashMismatch);
	EXPECT_EQ(ToHex(computed), ToHex(s.hashes[0]));  // the recomputed hash is reported
	ExpectUnchanged(before, c);
	// Changed content under the right hash.
	TestEvent changed = Event(1, s.events[0].committed_at);
	changed.columns[0].new_value = Tokens();
	changed.columns[0].new_value.num("10.00");
	EXPECT_EQ(CheckNext(c, changed.View(), U8(s.hashes[0]), computed), LinkStatus::kHashMismatch);
	ExpectUnchanged(before, c);
	// The real event still checks.
	EXPECT_EQ(CheckNext(c, s.events[0].View(), U8(s.hashes[0]), computed), LinkStatus::kOk);
}

TEST(Chain, PredecessorIsBound)
{
	// Event 2 checked after a different event 1 (same seq, other content) does not match.
	Stored s = MakeChain(2);
	Stored other = MakeChain(2, 1767261700000000);
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	ASSERT_EQ(CheckNext(c, other.events[0].View(), U8(other.hashes[0]), computed), LinkStatus::kOk);
	EXPECT_EQ(CheckNext(c, s.events[1].View(), U8(s.hashes[1]), computed), LinkStatus::kHashMismatch);
	// And a chain cannot be transplanted to another ledger.
	std::string ledger2 = kLedger;
	ledger2[15] ^= 0x80;
	ChainCursor c2 = core::StartOfChain(U8(ledger2), 2);
	EXPECT_EQ(CheckNext(c2, s.events[0].View(), U8(s.hashes[0]), computed), LinkStatus::kHashMismatch);
}

TEST(Chain, TimeReversed)
{
	// Event 2 committed before event 1, correctly hashed: the time check catches it.
	std::vector<TestEvent> events;
	events.push_back(Event(1, 2000));
	events.push_back(Event(2, 1999));
	std::string h1 = Sha(SpecEventBytes(HashBytes(core::GenesisHash(U8(kLedger), 2)), events[0]));
	std::string h2 = Sha(SpecEventBytes(h1, events[1]));
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	ASSERT_EQ(CheckNext(c, events[0].View(), U8(h1), computed), LinkStatus::kOk);
	ChainCursor before = c;
	EXPECT_EQ(CheckNext(c, events[1].View(), U8(h2), computed), LinkStatus::kTimeReversed);
	ExpectUnchanged(before, c);
	// A wrong hash is reported before the time.
	std::string wrong = h2;
	wrong[5] ^= 1;
	EXPECT_EQ(CheckNext(c, events[1].View(), U8(wrong), computed), LinkStatus::kHashMismatch);
}

TEST(Chain, EqualCommitTimesAreFine)
{
	// All events of one transaction share committed_at.
	std::vector<TestEvent> events;
	events.push_back(Event(1, 5000));
	events.push_back(Event(2, 5000));
	std::string h1 = Sha(SpecEventBytes(HashBytes(core::GenesisHash(U8(kLedger), 2)), events[0]));
	std::string h2 = Sha(SpecEventBytes(h1, events[1]));
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	EXPECT_EQ(CheckNext(c, events[0].View(), U8(h1), computed), LinkStatus::kOk);
	EXPECT_EQ(CheckNext(c, events[1].View(), U8(h2), computed), LinkStatus::kOk);
}

TEST(Chain, TimesBeforeTheEpoch)
{
	// The first event may have any time, even before 1970.
	std::vector<TestEvent> events;
	events.push_back(Event(1, INT64_MIN + 1));
	events.push_back(Event(2, -1));
	std::string h1 = Sha(SpecEventBytes(HashBytes(core::GenesisHash(U8(kLedger), 2)), events[0]));
	std::string h2 = Sha(SpecEventBytes(h1, events[1]));
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	EXPECT_EQ(CheckNext(c, events[0].View(), U8(h1), computed), LinkStatus::kOk);
	EXPECT_EQ(CheckNext(c, events[1].View(), U8(h2), computed), LinkStatus::kOk);
}

TEST(Chain, ResumeContinuesAfterATrustedHead)
{
	Stored s = MakeChain(3);
	ChainCursor c = core::ResumeChain(2, 2, s.events[1].committed_at, HashFromBytes(s.hashes[1]));
	core::Hash computed{};
	EXPECT_EQ(CheckNext(c, s.events[1].View(), U8(s.hashes[1]), computed), LinkStatus::kUnexpected);
	EXPECT_EQ(CheckNext(c, s.events[2].View(), U8(s.hashes[2]), computed), LinkStatus::kOk);
	// A resume point later than the event's commit time reports reversed time.
	ChainCursor late = core::ResumeChain(2, 2, s.events[2].committed_at + 1, HashFromBytes(s.hashes[1]));
	EXPECT_EQ(CheckNext(late, s.events[2].View(), U8(s.hashes[2]), computed), LinkStatus::kTimeReversed);
}

TEST(Chain, EventOfAnotherChainIsAnInternalError)
{
	Stored s = MakeChain(1);
	ChainCursor c = core::StartOfChain(U8(kLedger), 3);
	core::Hash computed{};
	EXPECT_CORE_ERROR(CheckNext(c, s.events[0].View(), U8(s.hashes[0]), computed), ErrorCode::kInternal);
}

TEST(Chain, CorruptEventDataThrows)
{
	Stored s = MakeChain(1);
	s.events[0].salt.reset();
	ChainCursor c = core::StartOfChain(U8(kLedger), 2);
	core::Hash computed{};
	EXPECT_CORE_ERROR(CheckNext(c, s.events[0].View(), U8(s.hashes[0]), computed), ErrorCode::kDataCorrupted);
	EXPECT_EQ(c.next_seq, 1u);
}

// ---- digest ----

ChainHead
Head(uint32_t chain, uint64_t seq, int64_t at, const std::string &tag)
{
	ChainHead h{};
	h.chain_id = chain;
	h.seq = seq;
	h.committed_at = at;
	h.hash = HashFromBytes(Sha(tag));
	return h;
}

TEST(Chain, DigestFollowsTheSpec)
{
	std::vector<ChainHead> heads = {Head(1, 12, 1767261600000001, "a"), Head(2, 1, -3, "b"),
									Head(16, UINT64_MAX, INT64_MAX, "c")};
	Bytes want;
	want.raw("ACD1").raw(kLedger).u32(3);
	for (const auto &h : heads)
		want.u32(h.chain_id).u64(h.seq).i64(h.committed_at).raw(HashBytes(h.hash));
	core::ByteSink s;
	core::WriteDigest(s, U8(kLedger), heads.data(), 3);
	EXPECT_EQ(ToHex(s.bytes()), ToHex(want.bytes()));
	EXPECT_EQ(ToHex(core::HashDigest(U8(kLedger), heads.data(), 3)), ToHex(want.sha()));
}

TEST(Chain, EmptyDigest)
{
	EXPECT_EQ(ToHex(core::HashDigest(U8(kLedger), nullptr, 0)), ToHex(Bytes().raw("ACD1").raw(kLedger).u32(0).sha()));
}

TEST(Chain, DigestCoversEveryHeadField)
{
	std::vector<ChainHead> heads = {Head(1, 12, 100, "a"), Head(2, 1, 200, "b")};
	std::string base = ToHex(core::HashDigest(U8(kLedger), heads.data(), 2));
	auto changed = [&](auto change) {
		std::vector<ChainHead> h = heads;
		change(h);
		return ToHex(core::HashDigest(U8(kLedger), h.data(), static_cast<uint32_t>(h.size())));
	};
	EXPECT_NE(changed([](auto &h) { h[1].chain_id = 3; }), base);
	EXPECT_NE(changed([](auto &h) { h[0].seq++; }), base);
	EXPECT_NE(changed([](auto &h) { h[1].committed_at++; }), base);
	EXPECT_NE(changed([](auto &h) { h[0].hash.bytes[31] ^= 1; }), base);
	EXPECT_NE(changed([](auto &h) { h.pop_back(); }), base);
	std::string other = kLedger;
	other[3] ^= 1;
	EXPECT_NE(ToHex(core::HashDigest(U8(other), heads.data(), 2)), base);
}

TEST(Chain, DigestHeadsMustAscend)
{
	std::vector<ChainHead> descending = {Head(2, 1, 0, "a"), Head(1, 1, 0, "b")};
	EXPECT_CORE_ERROR(core::HashDigest(U8(kLedger), descending.data(), 2), ErrorCode::kInvalidParameter);
	std::vector<ChainHead> repeated = {Head(1, 1, 0, "a"), Head(1, 2, 0, "b")};
	EXPECT_CORE_ERROR(core::HashDigest(U8(kLedger), repeated.data(), 2), ErrorCode::kInvalidParameter);
	std::vector<ChainHead> late = {Head(1, 1, 0, "a"), Head(5, 1, 0, "b"), Head(4, 1, 0, "c")};
	core::ByteSink s;
	EXPECT_CORE_ERROR(core::WriteDigest(s, U8(kLedger), late.data(), 3), ErrorCode::kInvalidParameter);
}

}  // namespace
}  // namespace audit_chain::test
