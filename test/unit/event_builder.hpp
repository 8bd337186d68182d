// test/unit/event_builder.hpp: owning builder of core::EventView for tests, and a second,
// hand-written implementation of the event hash from the hash specification in README.md to compare against.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/byte_sink.hpp"
#include "core/event_encoding.hpp"
#include "test_support.hpp"

namespace audit_chain::test {

struct TestUnit {
	std::string key;
	bool has_old = false;
	Tokens old_value;
	bool has_new = false;
	Tokens new_value;
	std::optional<std::string> value_key;   // 16 bytes, as in an erasure record
	std::optional<std::string> commitment;  // 32 bytes, as in an erasure record

	uint8_t flags() const { return uint8_t((has_old ? core::kHasOld : 0) | (has_new ? core::kHasNew : 0)); }
};

inline TestUnit
Column(std::string key, Tokens old_value, Tokens new_value, bool has_old, bool has_new)
{
	TestUnit u;
	u.key = std::move(key);
	u.has_old = has_old;
	u.old_value = std::move(old_value);
	u.has_new = has_new;
	u.new_value = std::move(new_value);
	return u;
}

inline TestUnit
NewOnly(std::string key, Tokens value)
{
	return Column(std::move(key), Tokens(), std::move(value), false, true);
}

inline TestUnit
OldOnly(std::string key, Tokens value)
{
	return Column(std::move(key), std::move(value), Tokens(), true, false);
}

class TestEvent {
public:
	uint32_t chain_id = 3;
	uint64_t seq = 1;
	uint64_t commit_seq = 17;
	int64_t committed_at = 1767261600123456;  // 2026-01-01T10:00:00.123456Z
	uint64_t xid = (uint64_t(1) << 32) + 741;
	int64_t event_time = 1767261600120001;
	std::string event_id = FromHex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	std::string action = "UPDATE";
	std::string outcome = "success";
	std::string resource_type = "public.accounts";
	bool has_resource_id = true;
	TestUnit resource_id;  // flags 2, one string token
	std::string context_hash = Sha("some context");
	std::optional<std::string> salt = FromHex("00112233445566778899aabbccddeeff");
	uint8_t data_flags = core::kHasOld | core::kHasNew;
	std::vector<TestUnit> columns;
	bool has_details = false;
	std::vector<TestUnit> details;

	TestEvent()
	{
		resource_id.has_new = true;
		resource_id.new_value.str("42");
	}

	void SetResourceId(std::string id)
	{
		has_resource_id = true;
		resource_id = TestUnit();
		resource_id.has_new = true;
		resource_id.new_value.str(id);
	}

	// All units in index order: resource_id (if any), columns, details.
	std::vector<TestUnit *> Units()
	{
		std::vector<TestUnit *> all;
		if (has_resource_id)
			all.push_back(&resource_id);
		for (auto &c : columns)
			all.push_back(&c);
		for (auto &d : details)
			all.push_back(&d);
		return all;
	}

	// The view is valid until the next call or until the event changes.
	const core::EventView &View()
	{
		units_.clear();
		units_.reserve(1 + columns.size() + details.size());
		view_ = core::EventView{};
		view_.chain_id = chain_id;
		view_.seq = seq;
		view_.commit_seq = commit_seq;
		view_.committed_at = committed_at;
		view_.xid = xid;
		view_.event_time = event_time;
		view_.event_id = U8(event_id);
		view_.action = test::View(action);
		view_.outcome = test::View(outcome);
		view_.resource_type = test::View(resource_type);
		view_.context_hash = U8(context_hash);
		view_.salt = salt ? U8(*salt) : nullptr;
		view_.data_flags = data_flags;
		if (has_resource_id) {
			units_.push_back(Unit(resource_id));
			view_.resource_id = &units_.back();
		}
		size_t first_column = units_.size();
		for (auto &c : columns)
			units_.push_back(Unit(c));
		size_t first_detail = units_.size();
		for (auto &d : details)
			units_.push_back(Unit(d));
		view_.columns = units_.data() + first_column;
		view_.column_count = static_cast<uint32_t>(columns.size());
		view_.has_details = has_details;
		view_.details = units_.data() + first_detail;
		view_.detail_count = static_cast<uint32_t>(details.size());
		return view_;
	}

private:
	static core::ValueUnit Unit(const TestUnit &u)
	{
		core::ValueUnit v{};
		v.key = test::View(u.key);
		v.flags = u.flags();
		if (u.has_old) {
			v.old_value = u.old_value.data();
			v.old_tokens = u.old_value.size();
		}
		if (u.has_new) {
			v.new_value = u.new_value.data();
			v.new_tokens = u.new_value.size();
		}
		v.value_key = u.value_key ? U8(*u.value_key) : nullptr;
		v.commitment = u.commitment ? U8(*u.commitment) : nullptr;
		return v;
	}

	std::vector<core::ValueUnit> units_;
	core::EventView view_{};
};

// ---- The specification, written out by hand ----

inline std::string
Canon(const Tokens &t)
{
	core::ByteSink s;
	core::EncodeJsonValue(s, t.data(), t.size());
	return s.bytes();
}

inline std::string
SpecValueKey(const std::string &salt, uint32_t index)
{
	std::string block = Bytes().raw("ACK1").raw(salt).u32(index / 2).sha();
	return block.substr((index % 2) * 16, 16);
}

inline std::string
SpecCommitment(const std::string &key, const TestUnit &u)
{
	Bytes b;
	b.raw("ACV1").raw(key).u8(u.flags());
	if (u.has_old)
		b.raw(Canon(u.old_value));
	if (u.has_new)
		b.raw(Canon(u.new_value));
	return b.sha();
}

// Commitment of unit index i of e, honouring explicit keys/commitments like an erased event.
inline std::string
SpecUnitCommitment(const TestEvent &e, const TestUnit &u, uint32_t index)
{
	if (u.commitment)
		return *u.commitment;
	std::string key = u.value_key ? *u.value_key : SpecValueKey(*e.salt, index);
	return SpecCommitment(key, u);
}

inline std::string
SpecEventBytes(const std::string &previous, const TestEvent &e)
{
	Bytes b;
	uint32_t index = 0;
	b.raw("ACE1").raw(previous);
	b.u32(e.chain_id).u64(e.seq).u64(e.commit_seq).i64(e.committed_at).u64(e.xid).i64(e.event_time);
	b.raw(e.event_id).str(e.action).str(e.outcome).str(e.resource_type);
	if (e.has_resource_id)
		b.u8(1).raw(SpecUnitCommitment(e, e.resource_id, index++));
	else
		b.u8(0);
	b.raw(e.context_hash).u8(e.data_flags);
	b.u32(static_cast<uint32_t>(e.columns.size()));
	for (const auto &c : e.columns)
		b.str(c.key).u8(c.flags()).raw(SpecUnitCommitment(e, c, index++));
	if (e.has_details) {
		b.u8(1).u32(static_cast<uint32_t>(e.details.size()));
		for (const auto &d : e.details)
			b.str(d.key).u8(2).raw(SpecUnitCommitment(e, d, index++));
	} else {
		b.u8(0);
	}
	return b.bytes();
}

}  // namespace audit_chain::test
