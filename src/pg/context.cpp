// src/pg/context.cpp: capture and interning of event contexts.
#include "pg/context.hpp"

#include "core/event_encoding.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog.hpp"
#include "core/hex.hpp"
#include "pg/guc.hpp"
#include "pg/jsonb_util.hpp"
#include "pg/random_pool.hpp"
#include "pg/row_writer.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/sequence.h"
#include "utils/fmgrprotos.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "catalog/pg_authid.h"
}

namespace audit_chain::pg {

namespace {

// What the current context was computed from; equal keys mean an equal context.
struct ContextKey {
	uint64 generation;
	Oid session_user_id;
	Oid current_user_id;
	char application_name[NAMEDATALEN];
};

struct CurrentContext {
	bool valid;
	bool committed;  // false while the row exists only in the current transaction
	ContextKey key;
	int64 context_id;
};

CurrentContext current = {};
uint64 seen_generation = 0;

// Direct-mapped cache of context hashes for writing and verifying.
constexpr int kHashCacheSize = 1024;
struct HashCacheEntry {
	int64 context_id;  // 0: empty (context ids start at 1)
	bool committed;
	core::Hash hash;
};
HashCacheEntry *hash_cache = NULL;
bool cache_has_uncommitted = false;  // some entry was made by the current transaction

// Forgets everything when the extension's tables were dropped (and maybe re-created).
void
CheckGeneration()
{
	if (seen_generation == CatalogGeneration())
		return;
	current.valid = false;
	if (hash_cache != NULL)
		memset(hash_cache, 0, sizeof(HashCacheEntry) * kHashCacheSize);
	seen_generation = CatalogGeneration();
}

HashCacheEntry *
CacheSlot(int64 context_id)
{
	if (hash_cache == NULL)
		hash_cache = (HashCacheEntry *) MemoryContextAllocZero(TopMemoryContext, sizeof(HashCacheEntry) * kHashCacheSize);
	return &hash_cache[(uint64) context_id % kHashCacheSize];
}

bool
IsSet(const char *s)
{
	return s != NULL && s[0] != '\0';
}

Datum
TextOf(const char *s)
{
	return CStringGetTextDatum(s);
}

// The connection's own client address, or NULL for Unix-socket and background sessions.
bool
PortClientAddr(Datum *out)
{
	LOCAL_FCINFO(fcinfo, 0);
	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	Datum addr = inet_client_addr(fcinfo);
	if (fcinfo->isnull)
		return false;
	*out = addr;
	return true;
}

// Superusers, and roles that can create roles, bypass row security or replicate.
bool
IsPrivilegedRole(Oid role)
{
	if (superuser_arg(role))
		return true;
	HeapTuple tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	if (!HeapTupleIsValid(tuple))
		return false;
	Form_pg_authid form = (Form_pg_authid) GETSTRUCT(tuple);
	bool privileged = form->rolcreaterole || form->rolbypassrls || form->rolreplication;
	ReleaseSysCache(tuple);
	return privileged;
}

void
CurrentKey(ContextKey *key)
{
	memset(key, 0, sizeof(*key));
	key->generation = context_settings_generation;
	key->session_user_id = GetSessionUserId();
	key->current_user_id = GetUserId();
	if (application_name != NULL)
		strlcpy(key->application_name, application_name, sizeof(key->application_name));
}

void
BuildContextRow(Datum *values, bool *nulls, int64 context_id)
{
	memset(nulls, 0, sizeof(bool) * kCtxNumAttrs);
	char *session_user_name = GetUserNameFromId(GetSessionUserId(), false);
	values[kCtxContextId - 1] = Int64GetDatum(context_id);
	values[kCtxActorId - 1] = TextOf(IsSet(guc_actor_id) ? guc_actor_id : session_user_name);
	values[kCtxActorType - 1] = TextOf(IsSet(guc_actor_type) ? guc_actor_type : "user");
	values[kCtxSessionUser - 1] = TextOf(session_user_name);
	values[kCtxCurrentUser - 1] = TextOf(GetUserNameFromId(GetUserId(), false));
	if (IsSet(guc_client_addr))
		values[kCtxClientAddr - 1] = DirectFunctionCall1(inet_in, CStringGetDatum(guc_client_addr));
	else
		nulls[kCtxClientAddr - 1] = !PortClientAddr(&values[kCtxClientAddr - 1]);

	struct Optional {
		int attr;
		const char *value;
	};
	const Optional optional[] = {
		{kCtxApplicationName, application_name}, {kCtxUserAgent, guc_user_agent}, {kCtxRequestId, guc_request_id},
		{kCtxSessionId, guc_session_id},         {kCtxReason, guc_reason},
	};
	for (const Optional &o : optional) {
		nulls[o.attr - 1] = !IsSet(o.value);
		if (IsSet(o.value))
			values[o.attr - 1] = TextOf(o.value);
	}
	values[kCtxPrivileged - 1] = BoolGetDatum(IsPrivilegedRole(GetUserId()));
	// The attributes' commitments are keyed by this salt, so that erasure can later replace
	// one (an email used as actor_id) without changing the context hash.
	bytea *salt = (bytea *) palloc(VARHDRSZ + core::kSaltSize);
	SET_VARSIZE(salt, VARHDRSZ + core::kSaltSize);
	RandomBytes(VARDATA(salt), core::kSaltSize);
	values[kCtxSalt - 1] = PointerGetDatum(salt);
	nulls[kCtxErasure - 1] = true;
}

void
Remember(int64 context_id, const core::Hash &hash, bool committed)
{
	HashCacheEntry *e = CacheSlot(context_id);
	e->context_id = context_id;
	e->committed = committed;
	e->hash = hash;
	cache_has_uncommitted |= !committed;
}

}  // namespace

const ContextAttribute kContextAttributes[] = {
	{"reason", kCtxReason},
	{"actor_id", kCtxActorId},
	{"actor_type", kCtxActorType},
	{"privileged", kCtxPrivileged},
	{"request_id", kCtxRequestId},
	{"session_id", kCtxSessionId},
	{"user_agent", kCtxUserAgent},
	{"client_addr", kCtxClientAddr},
	{"current_user", kCtxCurrentUser},
	{"session_user", kCtxSessionUser},
	{"application_name", kCtxApplicationName},
};
static_assert(lengthof(kContextAttributes) == kContextAttributeCount);

namespace {

// Reads the erasure record {"value_keys": {"<name>": hex}, "commitments": {"<name>": hex}}
// into the key and commitment of each attribute it names (NULL where it names none; names
// that are no attribute are ignored, as the specification says).
const char *
ReadContextErasure(Jsonb *erasure, const uint8 **keys, const uint8 **commitments)
{
	if (!JB_ROOT_IS_OBJECT(erasure))
		return "its erasure record is not an object";
	const struct {
		const char *name;
		const uint8 **out;
		size_t size;
	} sections[] = {{"value_keys", keys, core::kValueKeySize}, {"commitments", commitments, core::kHashSize}};
	for (const auto &section : sections) {
		JsonbValue *members = JsonbMember(&erasure->root, section.name);
		if (members == NULL)
			continue;
		if (members->type != jbvBinary || !JsonContainerIsObject(members->val.binary.data))
			return "its erasure record has a section that is not an object";
		for (int a = 0; a < kContextAttributeCount; a++) {
			JsonbValue *hex = JsonbMember(members->val.binary.data, kContextAttributes[a].name);
			if (hex == NULL)
				continue;
			if (hex->type != jbvString)
				return "its erasure record holds a non-string";
			uint8 *bytes = (uint8 *) palloc(section.size);
			std::string_view text(hex->val.string.val, hex->val.string.len);
			CoreError err;
			if (!RunCore(err, [&] { core::HexDecode(text, bytes, section.size); }))
				return "its erasure record holds a malformed key or commitment";
			section.out[a] = bytes;
		}
	}
	return NULL;
}

}  // namespace

const char *
BuildContextView(const Datum *values, const bool *nulls, ContextUnits *out)
{
	const uint8 *keys[kContextAttributeCount] = {};
	const uint8 *commitments[kContextAttributeCount] = {};
	Jsonb *erasure = nulls[kCtxErasure - 1] ? NULL : DatumGetJsonbP(values[kCtxErasure - 1]);
	if (erasure != NULL) {
		const char *problem = ReadContextErasure(erasure, keys, commitments);
		if (problem != NULL)
			return problem;
	}

	// An attribute is present when its column holds it (an erased one reads "[ERASED]" or a
	// pseudonym), and an erased client address, which leaves the inet column NULL.
	uint32 n = 0;
	for (int a = 0; a < kContextAttributeCount; a++) {
		const ContextAttribute &attr = kContextAttributes[a];
		out->unit_of_attribute[a] = -1;
		const char *value;
		if (!nulls[attr.attnum - 1]) {
			Datum v = values[attr.attnum - 1];
			value = attr.attnum == kCtxClientAddr	? DatumGetCString(DirectFunctionCall1(inet_out, v))
					: attr.attnum == kCtxPrivileged ? (DatumGetBool(v) ? "true" : "false")
													: TextDatumGetCString(v);
		} else if (commitments[a] != NULL && attr.attnum == kCtxClientAddr) {
			value = "[ERASED]";
		} else {
			continue;
		}
		out->tokens[n] = core::JsonToken{core::JsonKind::kString, 0, core::TextView{value, (uint32) strlen(value)}};
		out->units[n] = core::ValueUnit{};
		out->units[n].key = core::TextView{attr.name, (uint32) strlen(attr.name)};
		out->units[n].flags = core::kHasNew;
		out->units[n].new_value = &out->tokens[n];
		out->units[n].new_tokens = 1;
		out->units[n].value_key = keys[a];
		out->units[n].commitment = commitments[a];
		out->unit_of_attribute[a] = (int) n++;
	}
	out->view = core::ContextView{out->units, n, NULL};
	if (!nulls[kCtxSalt - 1]) {
		bytea *salt = DatumGetByteaPP(values[kCtxSalt - 1]);
		if (VARSIZE_ANY_EXHDR(salt) != core::kSaltSize)
			return "its salt is not 16 bytes";
		out->view.salt = (const uint8 *) VARDATA_ANY(salt);
	}
	if (out->view.salt != NULL && erasure != NULL)
		return "it has both a salt and an erasure record";
	if (out->view.salt == NULL && erasure == NULL)
		return "it has neither a salt nor an erasure record";
	if (erasure != NULL)
		for (uint32 i = 0; i < n; i++)
			if (out->units[i].commitment == NULL && out->units[i].value_key == NULL)
				return "its erasure record has no key for an attribute that was not erased";
	return NULL;
}

const char *
ContextHashFromRow(const Datum *values, const bool *nulls, core::Hash *hash)
{
	ContextUnits units;
	const char *problem = BuildContextView(values, nulls, &units);
	if (problem != NULL)
		return problem;
	CoreError err;
	if (!RunCore(err, [&] { *hash = core::HashContext(units.view); }))
		return pstrdup(err.message);
	return NULL;
}

int64
InternCurrentContext(const CatalogOids *oids)
{
	CheckNoRejectedContext();
	CheckGeneration();
	ContextKey key;
	CurrentKey(&key);
	if (current.valid && memcmp(&key, &current.key, sizeof(key)) == 0)
		return current.context_id;

	int64 context_id = nextval_internal(oids->context_id_seq, false);
	Datum values[kCtxNumAttrs];
	bool nulls[kCtxNumAttrs];
	BuildContextRow(values, nulls, context_id);

	RowWriter writer;
	RowWriterOpen(&writer, oids->contexts, 1);
	TupleTableSlot *slot = RowWriterSlot(&writer);
	memcpy(slot->tts_values, values, sizeof(values));
	memcpy(slot->tts_isnull, nulls, sizeof(nulls));
	RowWriterAdd(&writer);
	RowWriterClose(&writer);

	core::Hash hash;
	const char *problem = ContextHashFromRow(values, nulls, &hash);
	if (problem != NULL)
		elog(ERROR, "new context %lld is malformed: %s", (long long) context_id, problem);
	Remember(context_id, hash, false);
	current.valid = true;
	current.committed = false;
	current.key = key;
	current.context_id = context_id;
	return context_id;
}

bool
ReadContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash, const char **problem)
{
	Relation rel = table_open(oids->contexts, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, kCtxContextId, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(context_id));
	SysScanDesc scan = systable_beginscan(rel, oids->contexts_pkey, true, snapshot, 1, &key);
	HeapTuple tuple = systable_getnext(scan);
	bool found = HeapTupleIsValid(tuple);
	*problem = NULL;
	if (found) {
		Datum values[kCtxNumAttrs];
		bool nulls[kCtxNumAttrs];
		heap_deform_tuple(tuple, RelationGetDescr(rel), values, nulls);
		*problem = ContextHashFromRow(values, nulls, hash);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

bool
WriterContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash)
{
	CheckGeneration();
	HashCacheEntry *e = CacheSlot(context_id);
	if (e->context_id == context_id) {
		*hash = e->hash;
		return true;
	}
	const char *problem;
	if (!ReadContextHash(oids, snapshot, context_id, hash, &problem))
		return false;
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("context %lld of the audit trail is malformed: %s", (long long) context_id, problem),
				 errhint("Run audit_chain.verify().")));
	return true;
}

void
ContextAtAbort(void)
{
	if (current.valid && !current.committed)
		current.valid = false;
	if (hash_cache != NULL && cache_has_uncommitted)
		for (int i = 0; i < kHashCacheSize; i++)
			if (hash_cache[i].context_id != 0 && !hash_cache[i].committed)
				hash_cache[i].context_id = 0;
	cache_has_uncommitted = false;
}

void
ContextAtCommit(void)
{
	current.committed = true;
	// Most transactions intern no context: only then is there anything to mark.
	if (hash_cache != NULL && cache_has_uncommitted)
		for (int i = 0; i < kHashCacheSize; i++)
			hash_cache[i].committed = true;
	cache_has_uncommitted = false;
}

}  // namespace audit_chain::pg
