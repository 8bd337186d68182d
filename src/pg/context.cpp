// src/pg/context.cpp: capture and interning of event contexts.
#include "pg/context.hpp"

#include "core/event_encoding.hpp"
#include "pg/boundary.hpp"
#include "pg/catalog.hpp"
#include "pg/guc.hpp"
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
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "catalog/pg_authid.h"
#include "access/htup_details.h"
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

core::Hash
ContextHashFromRow(const Datum *values, const bool *nulls)
{
	// Field names and their columns, in canonical key order (by length, then bytewise).
	static const struct {
		const char *name;
		int attr;
	} fields[] = {
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
	core::ContextField out[lengthof(fields)];
	uint32 n = 0;
	for (const auto &f : fields) {
		if (nulls[f.attr - 1])
			continue;
		Datum v = values[f.attr - 1];
		char *value = f.attr == kCtxClientAddr	 ? DatumGetCString(DirectFunctionCall1(inet_out, v))
					  : f.attr == kCtxPrivileged ? pstrdup(DatumGetBool(v) ? "true" : "false")
												 : TextDatumGetCString(v);
		out[n].name = core::TextView{f.name, (uint32) strlen(f.name)};
		out[n].value = core::TextView{value, (uint32) strlen(value)};
		n++;
	}
	core::Hash hash;
	CallCore([&] { hash = core::HashContext(out, n); });
	return hash;
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

	Remember(context_id, ContextHashFromRow(values, nulls), false);
	current.valid = true;
	current.committed = false;
	current.key = key;
	current.context_id = context_id;
	return context_id;
}

bool
ReadContextHash(const CatalogOids *oids, Snapshot snapshot, int64 context_id, core::Hash *hash)
{
	Relation rel = table_open(oids->contexts, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, kCtxContextId, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(context_id));
	SysScanDesc scan = systable_beginscan(rel, oids->contexts_pkey, true, snapshot, 1, &key);
	HeapTuple tuple = systable_getnext(scan);
	bool found = HeapTupleIsValid(tuple);
	if (found) {
		Datum values[kCtxNumAttrs];
		bool nulls[kCtxNumAttrs];
		heap_deform_tuple(tuple, RelationGetDescr(rel), values, nulls);
		*hash = ContextHashFromRow(values, nulls);
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
	return ReadContextHash(oids, snapshot, context_id, hash);
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
