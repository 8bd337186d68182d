// src/pg/sql_erase.cpp: audit_chain.erase() and audit_chain.erase_value(), the right to erasure.
//
// Erasing a unit of an event (a column's old and new value, a details member, the
// resource_id) replaces its values by "[ERASED]" and keeps, in the event's erasure record, the
// unit's commitment; the event's salt is destroyed and every other unit keeps an explicit
// per-value key. The event hash is unchanged, so verify() stays valid, and nothing is left
// from which an erased value could be brute-forced: its commitment is keyed by a key derived
// from the destroyed salt. erase_value() erases context attributes (an email as actor_id) the
// same way, under the context's own salt. Old row versions remain in the table's files until
// VACUUM, and in WAL and backups (see README).
#include "core/event_encoding.hpp"
#include "core/hex.hpp"
#include "pg/boundary.hpp"
#include "pg/capture.hpp"
#include "pg/catalog.hpp"
#include "pg/context.hpp"
#include "pg/event_view.hpp"
#include "pg/guard.hpp"
#include "pg/registry.hpp"
#include "pg/relation_info.hpp"
#include "pg/row_image.hpp"
#include "pg/spool.hpp"
#include "pg/guc.hpp"
#include "pg/jsonb_util.hpp"
#include "pg/table_history.hpp"

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
}

using namespace audit_chain;
using namespace audit_chain::pg;

namespace {

constexpr char kErased[] = "[ERASED]";

int64 *
MakeInt64(int64 v)
{
	int64 *p = (int64 *) palloc(sizeof(int64));
	*p = v;
	return p;
}

void
CheckAdmin(void)
{
	Oid admin = get_role_oid("audit_chain_admin", true);
	if (superuser() || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to erase audit data"),
			 errdetail("Only members of audit_chain_admin may erase values from the audit trail.")));
}

// The transaction's own events are written when it commits, after the erasure: they would
// keep the values it erases (a row deleted and then erased in one transaction would keep
// its DELETE event with every value). Other erasures in the same transaction are fine.
void
CheckNoOwnEvents(void)
{
	if (SpoolHasEventsWithValues())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot erase in a transaction that has recorded audit events"),
				 errdetail("The transaction's events are written when it commits, after the erasure, and would keep "
						   "the values it erases."),
				 errhint("Commit the changes first, then erase in a transaction of its own.")));
}

bool
TokensContain(const core::JsonToken *tokens, uint32 n, const char *value, size_t len)
{
	for (uint32 i = 0; i < n; i++)
		if ((tokens[i].kind == core::JsonKind::kString || tokens[i].kind == core::JsonKind::kNumber) &&
			tokens[i].text.size == len && memcmp(tokens[i].text.data, value, len) == 0)
			return true;
	return false;
}

// What erase_value() looks for: the value as recorded in clear, and as a column recorded
// as a keyed hash records it (an HMAC of a low-entropy value is as good as the value to
// anyone who can compute it); each also JSON-quoted, as it appears inside a composite key.
struct Needle {
	const char *value;
	size_t len;
	const char *quoted;
	const char *hashed;  // NULL when audit_chain.hmac_key is not set
	size_t hashed_len;
	const char *hashed_quoted;
};

bool
UnitHolds(const core::ValueUnit &u, const char *value, size_t len)
{
	return (u.old_value != NULL && TokensContain(u.old_value, u.old_tokens, value, len)) ||
		   (u.new_value != NULL && TokensContain(u.new_value, u.new_tokens, value, len));
}

bool
UnitContains(const core::ValueUnit &u, const Needle &needle)
{
	if (u.commitment != NULL)
		return false;  // already erased
	return UnitHolds(u, needle.value, needle.len) ||
		   (needle.hashed != NULL && UnitHolds(u, needle.hashed, needle.hashed_len));
}

// A composite key ("[1, \"a\"]") holding the value (or its keyed hash) as one of its elements.
bool
KeyArrayContains(const core::ValueUnit &u, const Needle &needle)
{
	if (u.commitment != NULL || u.new_value == NULL || u.new_tokens != 1)
		return false;
	std::string_view id = u.new_value[0].text.str();
	if (id.empty() || id.front() != '[')
		return false;
	return id.find(needle.quoted) != std::string_view::npos ||
		   (needle.hashed_quoted != NULL && id.find(needle.hashed_quoted) != std::string_view::npos);
}

// The row's ids with each key column that is recorded as a keyed hash (under the table's
// current policy) replaced by its HMAC, as capture writes them into resource_id; the ids
// given come first.
List *
WithHashedKeys(Oid relid, List *ids)
{
	if (guc_hmac_key == NULL || guc_hmac_key[0] == '\0')
		return ids;
	Relation rel = table_open(relid, AccessShareLock);
	const RelationInfo *info = RelationInfoFor(rel, relid);
	int nkeys = info->nkeys;
	bool *hashed = (bool *) palloc0(sizeof(bool) * (nkeys + 1));
	bool any = false;
	for (int k = 0; k < nkeys; k++) {
		hashed[k] = info->columns[info->key_attnums[k] - 1].policy == ColumnPolicy::kHash;
		any |= hashed[k];
	}
	table_close(rel, AccessShareLock);
	if (!any)
		return ids;
	List *out = list_copy(ids);
	ListCell *lc;
	foreach (lc, ids) {
		const char *id = (const char *) lfirst(lc);
		if (nkeys == 1) {
			out = lappend(out, KeyedHashOfText(id, strlen(id)));
			continue;
		}
		Jsonb *arr = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(id)));
		if (!JB_ROOT_IS_ARRAY(arr) || JB_ROOT_IS_SCALAR(arr) || (int) JB_ROOT_COUNT(arr) != nkeys)
			continue;
		JsonbParseState *state = NULL;
		(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		for (int k = 0; k < nkeys; k++) {
			JsonbValue *v = getIthJsonbValueFromContainer(&arr->root, (uint32) k);
			if (hashed[k] && v->type != jbvNull) {
				// The hash is over the value's text as resource_id writes a one-column key.
				JsonbParseState *one = NULL;
				(void) pushJsonbValue(&one, WJB_BEGIN_ARRAY, NULL);
				(void) pushJsonbValue(&one, WJB_ELEM, v);
				text *t = ResourceIdFromKeyArray(JsonbValueToJsonb(pushJsonbValue(&one, WJB_END_ARRAY, NULL)), 1);
				JsonbValue h;
				h.type = jbvString;
				h.val.string.val = KeyedHashOfText(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				h.val.string.len = (int) strlen(h.val.string.val);
				(void) pushJsonbValue(&state, WJB_ELEM, &h);
			} else {
				(void) pushJsonbValue(&state, WJB_ELEM, v);
			}
		}
		Jsonb *with_hashes = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
		out = lappend(out, JsonbToCString(NULL, &with_hashes->root, VARSIZE(with_hashes)));
	}
	return out;
}

struct RowKeySpans {
	Datum ids;               // text[]
	Datum until_commit_seq;  // int8[]
	Datum until_seq;         // int8[]
};

// The keys a row had: this one, and (recursively) the keys UPDATEs moved it from, each with
// the position up to which its events are this row's.
RowKeySpans
RowKeys(const TableHistory &h, List *own_ids)
{
	List *ids = list_copy(own_ids);
	List *ucs = NIL, *us = NIL;
	for (int i = 0; i < list_length(own_ids); i++) {
		ucs = lappend(ucs, MakeInt64(PG_INT64_MAX));
		us = lappend(us, MakeInt64(PG_INT64_MAX));
	}
	for (int i = 0; i < list_length(ids) && i < 10000; i++) {
		Oid types[9];
		Datum args[9];
		TableEventsFilterParams(h, types, args);
		types[6] = TEXTOID;
		types[7] = types[8] = INT8OID;
		args[6] = CStringGetTextDatum((const char *) list_nth(ids, i));
		args[7] = Int64GetDatum(*(int64 *) list_nth(ucs, i));
		args[8] = Int64GetDatum(*(int64 *) list_nth(us, i));
		char *sql = psprintf("SELECT e.resource_id, e.commit_seq, e.seq FROM audit_chain.events e"
							 "  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
							 " WHERE %s AND e.action OPERATOR(pg_catalog.=) 'UPDATE'"
							 "   AND e.details OPERATOR(pg_catalog.?) 'new_resource_id'"
							 "   AND e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) $7"
							 "   AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($8, $9)",
							 TableEventsFilter(h));
		if (SPI_execute_with_args(sql, 9, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the keys of row %s", (const char *) linitial(own_ids));
		for (uint64 k = 0; k < SPI_processed; k++) {
			bool isnull;
			HeapTuple t = SPI_tuptable->vals[k];
			char *from = SPI_getvalue(t, SPI_tuptable->tupdesc, 1);
			if (from == NULL)
				continue;
			ids = lappend(ids, from);
			ucs = lappend(ucs, MakeInt64(DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull))));
			us = lappend(us, MakeInt64(DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull))));
		}
	}
	int n = list_length(ids);
	Datum *id_datums = (Datum *) palloc(sizeof(Datum) * n);
	Datum *ucs_datums = (Datum *) palloc(sizeof(Datum) * n);
	Datum *us_datums = (Datum *) palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++) {
		id_datums[i] = CStringGetTextDatum((const char *) list_nth(ids, i));
		ucs_datums[i] = Int64GetDatum(*(int64 *) list_nth(ucs, i));
		us_datums[i] = Int64GetDatum(*(int64 *) list_nth(us, i));
	}
	RowKeySpans spans;
	spans.ids = PointerGetDatum(construct_array(id_datums, n, TEXTOID, -1, false, TYPALIGN_INT));
	spans.until_commit_seq = PointerGetDatum(construct_array(ucs_datums, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	spans.until_seq = PointerGetDatum(construct_array(us_datums, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	return spans;
}

// How one erasure names the rows it erases: each row id becomes a pseudonym under a secret
// drawn for this erasure and then forgotten, so erased rows stay apart (time travel, reports)
// without anything that leads back to them.
struct ErasureNaming {
	uint8 secret[32];
	const char *row_id;  // erase(): every id of the row gets this id's pseudonym; NULL: each its own
};

void
InitNaming(ErasureNaming *naming, const char *row_id)
{
	if (!pg_strong_random(naming->secret, sizeof(naming->secret)))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random bytes")));
	naming->row_id = row_id;
}

char *
PseudonymOf(const ErasureNaming *naming, const char *id, size_t len)
{
	if (naming->row_id != NULL) {
		id = naming->row_id;
		len = strlen(id);
	}
	char *out = (char *) palloc(core::kErasedPseudonymSize + 1);
	CallCore([&] { core::ErasedPseudonym(naming->secret, sizeof(naming->secret), id, len, out); });
	return out;
}

// The map with the members named in `erased` replaced by the marker; a row id it names
// (new_resource_id) by its pseudonym.
Jsonb *
MarkErased(Jsonb *map, List *erased, const ErasureNaming *naming)
{
	if (map == NULL || erased == NIL)
		return map;
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	JsonbIterator *it = JsonbIteratorInit(&map->root);
	JsonbValue v;
	JsonbIteratorToken tok;
	bool skip_value = false;
	char *key = NULL;
	(void) JsonbIteratorNext(&it, &v, true);  // WJB_BEGIN_OBJECT
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
		if (tok == WJB_KEY) {
			key = pnstrdup(v.val.string.val, v.val.string.len);
			skip_value = false;
			ListCell *lc;
			foreach (lc, erased)
				skip_value |= strcmp((const char *) lfirst(lc), key) == 0;
			(void) pushJsonbValue(&state, WJB_KEY, &v);
		} else if (tok == WJB_VALUE) {
			if (skip_value) {
				JsonbValue marker;
				marker.type = jbvString;
				marker.val.string.val = const_cast<char *>(kErased);
				if (naming != NULL && v.type == jbvString && strcmp(key, "new_resource_id") == 0)
					marker.val.string.val = PseudonymOf(naming, v.val.string.val, v.val.string.len);
				marker.val.string.len = (int) strlen(marker.val.string.val);
				(void) pushJsonbValue(&state, WJB_VALUE, &marker);
			} else {
				(void) pushJsonbValue(&state, WJB_VALUE, &v);
			}
		}
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

// The erasure record of an event (units named by index) or a context (attributes named by
// name) after an erasure: a commitment for every unit erased now or before, a key for every
// other one (explicit, or derived from the salt about to be destroyed).
class ErasureRecord {
public:
	ErasureRecord()
	{
		initStringInfo(&keys_);
		initStringInfo(&commitments_);
	}

	// Adds unit `index`, erasing it if `erase`.
	void Add(const char *name, const core::ValueUnit &unit, uint32 index, const uint8 *salt, bool erase)
	{
		if (unit.commitment != NULL) {
			Append(&commitments_, name, unit.commitment, core::kHashSize);
			return;
		}
		uint8 key[core::kValueKeySize];
		if (unit.value_key != NULL)
			memcpy(key, unit.value_key, core::kValueKeySize);
		else
			CallCore([&] { core::DeriveValueKey(salt, index, key); });
		if (!erase) {
			Append(&keys_, name, key, core::kValueKeySize);
			return;
		}
		core::Hash c;
		CallCore([&] { c = core::ComputeCommitment(key, unit); });
		Append(&commitments_, name, c.bytes, core::kHashSize);
	}

	void Add(uint32 index, const core::ValueUnit &unit, const uint8 *salt, bool erase)
	{
		char name[16];
		snprintf(name, sizeof(name), "%u", index);
		Add(name, unit, index, salt, erase);
	}

	Datum ToJsonb() const
	{
		return DirectFunctionCall1(jsonb_in, CStringGetDatum(psprintf("{\"value_keys\": {%s}, \"commitments\": {%s}}",
																	  keys_.data, commitments_.data)));
	}

private:
	static void Append(StringInfo buf, const char *name, const uint8 *bytes, size_t size)
	{
		char hex[2 * core::kHashSize + 1];
		CallCore([&] { core::HexEncode(bytes, size, hex); });
		hex[2 * size] = '\0';
		appendStringInfo(buf, "%s\"%s\": \"%s\"", buf->len == 0 ? "" : ", ", name, hex);
	}

	StringInfoData keys_, commitments_;  // palloc'd: the class is trivially destructible
};
static_assert(std::is_trivially_destructible_v<ErasureRecord>);

// The row ids of a table without key are SHA-256 digests of the whole row as recorded: once
// one of its values is erased, the digest would confirm a guess of the value (the row's
// other values are still there to hash with it). erase_value() collects them here and then
// erases them, and every other id of the same row, in all of the table's events.
struct RowDigest {
	int32 resource_ref;
	char id[2 * core::kHashSize + 1];
};

struct RowDigests {
	List *list;  // of RowDigest *, allocated in cxt
	MemoryContext cxt;
};

bool
IsRowDigest(const char *id, size_t len)
{
	if (len != 2 * core::kHashSize)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

void
NoteRowDigest(RowDigests *digests, int32 resource_ref, const char *id, size_t len)
{
	if (digests == NULL || !IsRowDigest(id, len))
		return;
	ListCell *lc;
	foreach (lc, digests->list) {
		const RowDigest *d = (const RowDigest *) lfirst(lc);
		if (d->resource_ref == resource_ref && memcmp(d->id, id, len) == 0)
			return;
	}
	RowDigest *d = (RowDigest *) MemoryContextAlloc(digests->cxt, sizeof(RowDigest));
	d->resource_ref = resource_ref;
	memcpy(d->id, id, len);
	d->id[len] = '\0';
	MemoryContext old = MemoryContextSwitchTo(digests->cxt);
	digests->list = lappend(digests->list, d);
	MemoryContextSwitchTo(old);
}

// The ids of a row event (resource_id, details.new_resource_id) that are row digests.
void
NoteRowDigestsOf(RowDigests *digests, const Datum *values, const bool *nulls)
{
	if (digests == NULL || nulls[kEvAction - 1] || nulls[kEvResourceRef - 1])
		return;
	char *action = TextDatumGetCString(values[kEvAction - 1]);
	if (strcmp(action, "INSERT") != 0 && strcmp(action, "UPDATE") != 0 && strcmp(action, "DELETE") != 0 &&
		strcmp(action, "BASELINE") != 0)
		return;
	int32 ref = DatumGetInt32(values[kEvResourceRef - 1]);
	if (!nulls[kEvResourceId - 1]) {
		text *id = DatumGetTextPP(values[kEvResourceId - 1]);
		NoteRowDigest(digests, ref, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id));
	}
	if (!nulls[kEvDetails - 1]) {
		Jsonb *details = DatumGetJsonbP(values[kEvDetails - 1]);
		JsonbValue *v = JsonbMember(&details->root, "new_resource_id");
		if (v != NULL && v->type == jbvString)
			NoteRowDigest(digests, ref, v->val.string.val, (size_t) v->val.string.len);
	}
}

// Erases the chosen units of one stored event. `needle` NULL erases every unit; otherwise the
// units holding the needle's value. Returns the number of units erased (0: the event is left
// alone). The row digests of a changed event are noted in `digests` (when not NULL), its
// context in *context_id.
int
EraseEvent(int32 chain_id, int64 seq, const Needle *needle, const ErasureNaming *naming, RowDigests *digests,
		   int64 *context_id)
{
	Oid types[2] = {INT4OID, INT8OID};
	Datum args[2] = {Int32GetDatum(chain_id), Int64GetDatum(seq)};
	// The event is locked first and then read as it is now, not as the erasure's snapshot
	// saw it: a concurrent erasure of the same event has then committed (or aborted), and
	// this one builds on its result instead of overwriting it with the version before it.
	// (Under REPEATABLE READ or SERIALIZABLE, an event erased by a transaction that committed
	// after this one's snapshot fails the lock with 40001.) Erasures lock events in
	// (chain_id, seq) order, so two of them wait for each other but never deadlock.
	(void) RunAsExtensionOwner("SELECT FROM audit_chain.events WHERE chain_id OPERATOR(pg_catalog.=) $1 "
							   "AND seq OPERATOR(pg_catalog.=) $2 FOR UPDATE",
							   2, types, args, NULL, false);
	int rc = SPI_execute_with_args("SELECT * FROM audit_chain.events WHERE chain_id OPERATOR(pg_catalog.=) $1 "
								   "AND seq OPERATOR(pg_catalog.=) $2",
								   2, types, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		return 0;
	HeapTuple tuple = SPI_copytuple(SPI_tuptable->vals[0]);
	TupleDesc desc = SPI_tuptable->tupdesc;
	Datum values[kEvNumAttrs];
	bool nulls[kEvNumAttrs];
	heap_deform_tuple(tuple, desc, values, nulls);
	*context_id = DatumGetInt64(values[kEvContextId - 1]);

	core::Hash context_hash = {};  // not part of what erasure changes; any value gives the same comparison
	core::EventView view;
	const char *problem = BuildEventView(values, nulls, &context_hash, "", &view);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("event %lld of chain %d is malformed: it %s", (long long) seq, chain_id, problem),
				 errhint("Run audit_chain.verify().")));

	// Units in index order, as the hash specification numbers them.
	uint32 n = (view.resource_id ? 1 : 0) + view.column_count + view.detail_count;
	const core::ValueUnit **units = (const core::ValueUnit **) palloc(sizeof(core::ValueUnit *) * (n + 1));
	uint32 u = 0;
	if (view.resource_id)
		units[u++] = view.resource_id;
	for (uint32 i = 0; i < view.column_count; i++)
		units[u++] = &view.columns[i];
	for (uint32 i = 0; i < view.detail_count; i++)
		units[u++] = &view.details[i];

	bool *erase = (bool *) palloc0(sizeof(bool) * (n + 1));
	int erased_now = 0;
	for (uint32 i = 0; i < n; i++) {
		bool match = needle == NULL || UnitContains(*units[i], *needle) ||
					 (units[i] == view.resource_id && KeyArrayContains(*units[i], *needle));
		erase[i] = units[i]->commitment == NULL && match;
		erased_now += erase[i];
	}
	if (erased_now == 0)
		return 0;
	NoteRowDigestsOf(digests, values, nulls);

	core::Hash before;
	CallCore([&] { before = core::HashEvent(context_hash, view); });

	ErasureRecord record;
	List *erased_columns = NIL, *erased_details = NIL;
	bool erased_resource_id = false;
	for (uint32 i = 0; i < n; i++) {
		const core::ValueUnit &unit = *units[i];
		record.Add(i, unit, view.salt, erase[i]);
		if (!erase[i])
			continue;
		if (&unit == view.resource_id)
			erased_resource_id = true;
		else if (i < (view.resource_id ? 1u : 0u) + view.column_count)
			erased_columns = lappend(erased_columns, pnstrdup(unit.key.data, unit.key.size));
		else
			erased_details = lappend(erased_details, pnstrdup(unit.key.data, unit.key.size));
	}

	Jsonb *old_data =
		nulls[kEvOldData - 1] ? NULL : MarkErased(DatumGetJsonbP(values[kEvOldData - 1]), erased_columns, NULL);
	Jsonb *new_data =
		nulls[kEvNewData - 1] ? NULL : MarkErased(DatumGetJsonbP(values[kEvNewData - 1]), erased_columns, NULL);
	Jsonb *details =
		nulls[kEvDetails - 1] ? NULL : MarkErased(DatumGetJsonbP(values[kEvDetails - 1]), erased_details, naming);

	// Check before writing: the event must hash exactly as before.
	Datum new_values[kEvNumAttrs];
	bool new_nulls[kEvNumAttrs];
	memcpy(new_values, values, sizeof(values));
	memcpy(new_nulls, nulls, sizeof(nulls));
	new_nulls[kEvSalt - 1] = true;
	new_values[kEvErasure - 1] = record.ToJsonb();
	new_nulls[kEvErasure - 1] = false;
	if (old_data)
		new_values[kEvOldData - 1] = JsonbPGetDatum(old_data);
	if (new_data)
		new_values[kEvNewData - 1] = JsonbPGetDatum(new_data);
	if (details)
		new_values[kEvDetails - 1] = JsonbPGetDatum(details);
	if (erased_resource_id) {
		const core::JsonToken &id = view.resource_id->new_value[0];
		new_values[kEvResourceId - 1] = CStringGetTextDatum(PseudonymOf(naming, id.text.data, id.text.size));
	}
	core::EventView after_view;
	problem = BuildEventView(new_values, new_nulls, &context_hash, "", &after_view);
	core::Hash after;
	if (problem == NULL)
		CallCore([&] { after = core::HashEvent(context_hash, after_view); });
	if (problem != NULL || memcmp(before.bytes, after.bytes, core::kHashSize) != 0)
		elog(ERROR, "erasing event %lld of chain %d would change its hash", (long long) seq, chain_id);

	Oid utypes[7] = {INT4OID, INT8OID, JSONBOID, JSONBOID, JSONBOID, TEXTOID, JSONBOID};
	Datum uvalues[7] = {Int32GetDatum(chain_id), Int64GetDatum(seq), new_values[kEvOldData - 1],
						new_values[kEvNewData - 1], new_values[kEvDetails - 1], new_values[kEvResourceId - 1],
						new_values[kEvErasure - 1]};
	char unulls[8] = "       ";
	unulls[2] = new_nulls[kEvOldData - 1] ? 'n' : ' ';
	unulls[3] = new_nulls[kEvNewData - 1] ? 'n' : ' ';
	unulls[4] = new_nulls[kEvDetails - 1] ? 'n' : ' ';
	unulls[5] = new_nulls[kEvResourceId - 1] ? 'n' : ' ';
	AllowAuditUpdates(true);
	RunAsExtensionOwner("UPDATE audit_chain.events SET old_data = $3, new_data = $4, details = $5, resource_id = $6, "
						"erasure = $7, salt = NULL "
						"WHERE chain_id OPERATOR(pg_catalog.=) $1 AND seq OPERATOR(pg_catalog.=) $2",
						7, utypes, uvalues, unulls, false);
	AllowAuditUpdates(false);
	return erased_now;
}

struct EraseCounts {
	int64 events;
	int64 units;
	HTAB *changed;  // the events changed so far, so that one changed twice counts once
	int64 contexts;
	HTAB *erased_contexts;  // their events are counted once, when the contexts are erased
};

struct ChangedEvent {
	int32 chain_id;
	int64 seq;
};

EraseCounts
NewCounts(void)
{
	HASHCTL ctl;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ChangedEvent);
	ctl.entrysize = sizeof(ChangedEvent);
	ctl.hcxt = CurrentMemoryContext;
	EraseCounts counts = {0, 0, hash_create("audit_chain erased events", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT),
						  0, NULL};
	ctl.keysize = ctl.entrysize = sizeof(int64);
	counts.erased_contexts = hash_create("audit_chain erased contexts", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return counts;
}

// Erases in every event listed by `sql` (returning chain_id, seq) with its arguments; adds
// to counts.
void
EraseMatching(const char *sql, int nargs, Oid *types, Datum *args, const Needle *needle, const ErasureNaming *naming,
			  RowDigests *digests, EraseCounts *counts)
{
	int rc = SPI_execute_with_args(sql, nargs, types, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not find the events to erase");
	uint64 n = SPI_processed;
	int32 *chains = (int32 *) palloc(sizeof(int32) * (n + 1));
	int64 *seqs = (int64 *) palloc(sizeof(int64) * (n + 1));
	for (uint64 i = 0; i < n; i++) {
		bool isnull;
		chains[i] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		seqs[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	MemoryContext per_event = AllocSetContextCreate(CurrentMemoryContext, "audit_chain erase", ALLOCSET_DEFAULT_SIZES);
	for (uint64 i = 0; i < n; i++) {
		CHECK_FOR_INTERRUPTS();
		MemoryContext old = MemoryContextSwitchTo(per_event);
		int64 context_id;
		int units = EraseEvent(chains[i], seqs[i], needle, naming, digests, &context_id);
		MemoryContextSwitchTo(old);
		MemoryContextReset(per_event);
		if (units > 0 && hash_search(counts->erased_contexts, &context_id, HASH_FIND, NULL) != NULL) {
			counts->units += units;
		} else if (units > 0) {
			ChangedEvent key;
			memset(&key, 0, sizeof(key));
			key.chain_id = chains[i];
			key.seq = seqs[i];
			bool found;
			(void) hash_search(counts->changed, &key, HASH_ENTER, &found);
			counts->events += found ? 0 : 1;
			counts->units += units;
		}
	}
	MemoryContextDelete(per_event);
}


// The context attributes erase_value() erases, and what an erased one reads: the actor and
// session identifiers a pseudonym (one per value and erasure, so reports still group them),
// free text "[ERASED]", the client address NULL. actor_type and privileged are no one's data.
enum class ContextErasure { kKeep, kPseudonym, kMarker, kNull };

ContextErasure
ErasureOfAttribute(int attnum)
{
	switch (attnum) {
		case kCtxActorId:
		case kCtxSessionUser:
		case kCtxCurrentUser:
		case kCtxRequestId:
		case kCtxSessionId:
			return ContextErasure::kPseudonym;
		case kCtxApplicationName:
		case kCtxUserAgent:
		case kCtxReason:
			return ContextErasure::kMarker;
		case kCtxClientAddr:
			return ContextErasure::kNull;
		default:
			return ContextErasure::kKeep;
	}
}

bool
TextIs(const core::TextView &text, const char *value, size_t len)
{
	return text.size == len && memcmp(text.data, value, len) == 0;
}

// Erases the attributes of context context_id equal to value (a client address also in its
// host() form), as EraseEvent erases units: each erased attribute keeps its commitment, every
// other one an explicit key, the salt is destroyed and the context hash does not change.
// Returns the number of attributes erased.
int
EraseContext(int64 context_id, const char *value, size_t len, const ErasureNaming *naming)
{
	Oid types[1] = {INT8OID};
	Datum args[1] = {Int64GetDatum(context_id)};
	// Locked, then read as it is now (see EraseEvent).
	(void) RunAsExtensionOwner("SELECT FROM audit_chain.contexts WHERE context_id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
							   1, types, args, NULL, false);
	int rc = SPI_execute_with_args("SELECT * FROM audit_chain.contexts WHERE context_id OPERATOR(pg_catalog.=) $1", 1,
								   types, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		return 0;
	HeapTuple tuple = SPI_copytuple(SPI_tuptable->vals[0]);
	Datum values[kCtxNumAttrs];
	bool nulls[kCtxNumAttrs];
	heap_deform_tuple(tuple, SPI_tuptable->tupdesc, values, nulls);

	ContextUnits before_units;
	const char *problem = BuildContextView(values, nulls, &before_units);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("context %lld of the audit trail is malformed: %s", (long long) context_id, problem),
				 errhint("Run audit_chain.verify().")));
	const core::ContextView &view = before_units.view;

	bool erase[kContextAttributeCount] = {};
	int erased_now = 0;
	for (int a = 0; a < kContextAttributeCount; a++) {
		int u = before_units.unit_of_attribute[a];
		int attnum = kContextAttributes[a].attnum;
		if (u < 0 || view.fields[u].commitment != NULL || ErasureOfAttribute(attnum) == ContextErasure::kKeep)
			continue;
		bool match = TextIs(view.fields[u].new_value[0].text, value, len);
		if (!match && attnum == kCtxClientAddr) {
			char *host = TextDatumGetCString(DirectFunctionCall1(network_host, values[attnum - 1]));
			match = strlen(host) == len && memcmp(host, value, len) == 0;
		}
		erase[a] = match;
		erased_now += match;
	}
	if (erased_now == 0)
		return 0;

	core::Hash before;
	CallCore([&] { before = core::HashContext(view); });

	// The new erasure record, keyed by attribute name.
	ErasureRecord record;
	Datum new_values[kCtxNumAttrs];
	bool new_nulls[kCtxNumAttrs];
	memcpy(new_values, values, sizeof(values));
	memcpy(new_nulls, nulls, sizeof(nulls));
	for (int a = 0; a < kContextAttributeCount; a++) {
		int u = before_units.unit_of_attribute[a];
		if (u < 0)
			continue;
		record.Add(kContextAttributes[a].name, view.fields[u], (uint32) u, view.salt, erase[a]);
		if (!erase[a])
			continue;
		int attnum = kContextAttributes[a].attnum;
		switch (ErasureOfAttribute(attnum)) {
			case ContextErasure::kPseudonym:
				new_values[attnum - 1] = CStringGetTextDatum(PseudonymOf(naming, value, len));
				break;
			case ContextErasure::kMarker:
				new_values[attnum - 1] = CStringGetTextDatum(kErased);
				break;
			case ContextErasure::kNull:
				new_nulls[attnum - 1] = true;
				break;
			case ContextErasure::kKeep:
				break;
		}
	}
	new_nulls[kCtxSalt - 1] = true;
	new_values[kCtxErasure - 1] = record.ToJsonb();
	new_nulls[kCtxErasure - 1] = false;

	// Check before writing: the context must hash exactly as before.
	ContextUnits after_units;
	problem = BuildContextView(new_values, new_nulls, &after_units);
	core::Hash after;
	if (problem == NULL)
		CallCore([&] { after = core::HashContext(after_units.view); });
	if (problem != NULL || memcmp(before.bytes, after.bytes, core::kHashSize) != 0)
		elog(ERROR, "erasing context %lld would change its hash", (long long) context_id);

	static const int updated[] = {kCtxActorId,	   kCtxSessionUser, kCtxCurrentUser, kCtxClientAddr,
								  kCtxApplicationName, kCtxUserAgent,	 kCtxRequestId,	 kCtxSessionId,
								  kCtxReason,		   kCtxErasure};
	constexpr int kUpdated = lengthof(updated);
	Oid utypes[kUpdated + 1] = {INT8OID};
	Datum uvalues[kUpdated + 1] = {Int64GetDatum(context_id)};
	char unulls[kUpdated + 2];
	memset(unulls, ' ', sizeof(unulls));
	unulls[kUpdated + 1] = '\0';
	for (int i = 0; i < kUpdated; i++) {
		int attnum = updated[i];
		utypes[i + 1] = attnum == kCtxClientAddr ? INETOID : attnum == kCtxErasure ? JSONBOID : TEXTOID;
		uvalues[i + 1] = new_values[attnum - 1];
		unulls[i + 1] = new_nulls[attnum - 1] ? 'n' : ' ';
	}
	AllowAuditUpdates(true);
	RunAsExtensionOwner("UPDATE audit_chain.contexts SET actor_id = $2, session_user_name = $3, current_user_name = $4,"
						" client_addr = $5, application_name = $6, user_agent = $7, request_id = $8, session_id = $9,"
						" reason = $10, erasure = $11, salt = NULL WHERE context_id OPERATOR(pg_catalog.=) $1",
						kUpdated + 1, utypes, uvalues, unulls, false);
	AllowAuditUpdates(false);
	return erased_now;
}

// Erases `value` from the contexts listed by `sql` (returning context_id) with its arguments;
// every event of an erased context counts as changed.
void
EraseContexts(const CatalogOids *oids, const char *sql, int nargs, Oid *types, Datum *args, const char *value,
			  const ErasureNaming *naming, EraseCounts *counts)
{
	int rc = SPI_execute_with_args(sql, nargs, types, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not find the contexts to erase");
	uint64 n = SPI_processed;
	int64 *ids = (int64 *) palloc(sizeof(int64) * (n + 1));
	for (uint64 i = 0; i < n; i++) {
		bool isnull;
		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	Datum *erased = (Datum *) palloc(sizeof(Datum) * (n + 1));
	int nerased = 0;
	MemoryContext per_context = AllocSetContextCreate(CurrentMemoryContext, "audit_chain erase", ALLOCSET_DEFAULT_SIZES);
	for (uint64 i = 0; i < n; i++) {
		CHECK_FOR_INTERRUPTS();
		MemoryContext old = MemoryContextSwitchTo(per_context);
		int attributes = EraseContext(ids[i], value, strlen(value), naming);
		MemoryContextSwitchTo(old);
		MemoryContextReset(per_context);
		if (attributes == 0)
			continue;
		(void) hash_search(counts->erased_contexts, &ids[i], HASH_ENTER, NULL);
		erased[nerased++] = Int64GetDatum(ids[i]);
		counts->contexts++;
		counts->units += attributes;
	}
	MemoryContextDelete(per_context);
	if (nerased == 0)
		return;
	Oid ctypes[1] = {INT8ARRAYOID};
	Datum cargs[1] = {
		PointerGetDatum(construct_array(erased, nerased, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE))};
	rc = SPI_execute_with_args("SELECT pg_catalog.count(*) FROM audit_chain.events"
							   " WHERE context_id OPERATOR(pg_catalog.=) ANY ($1)",
							   1, ctypes, cargs, NULL, true, 1);
	bool isnull;
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the events of the erased contexts");
	counts->events += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	// Sessions stop reusing an erased context once this commits (src/pg/context.cpp forgets
	// its current context on a relcache invalidation of audit_chain.contexts): their next
	// events, under the same settings, get a new context with the values in clear.
	CacheInvalidateRelcacheByRelid(oids->contexts);
}

void
RecordErasure(const CatalogOids *oids, const char *resource_type, const char *method, EraseCounts counts)
{
	char *json = psprintf("{\"method\": \"%s\", \"events\": %lld, \"values\": %lld, \"contexts\": %lld}", method,
						  (long long) counts.events, (long long) counts.units, (long long) counts.contexts);
	SpoolEvent(oids, "ERASE", resource_type, NULL, NULL, NULL,
			   DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json))), 's');
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_erase);
PG_FUNCTION_INFO_V1(audit_chain_erase_value);

// erase(target regclass, key jsonb) RETURNS bigint: erases every recorded value of the row
// with this key (and of its events under a former key change to it).
Datum
audit_chain_erase(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target and key must not be NULL")));
	CheckAdmin();
	CheckNoOwnEvents();
	const CatalogOids *oids = GetCatalogOids(false);
	Oid relid = PG_GETARG_OID(0);
	Jsonb *key = PG_GETARG_JSONB_P(1);
	MemoryContext caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	TableHistory h = LoadTable(relid);
	char *resource_type = MemoryContextStrdup(caller, h.name);  // outlives SPI_finish()
	List *ids = WithHashedKeys(relid, KeyIdsOfAllEras(h, key));
	// The row's events: under this key (as written in every era of its key's type), and under each key it had before an UPDATE moved it
	// here (up to that move: later events under a former key are another row's).
	Oid types[9];
	Datum args[9];
	TableEventsFilterParams(h, types, args);
	RowKeySpans spans = RowKeys(h, ids);
	types[6] = TEXTARRAYOID;
	types[7] = types[8] = INT8ARRAYOID;
	args[6] = spans.ids;
	args[7] = spans.until_commit_seq;
	args[8] = spans.until_seq;
	char *sql = psprintf("SELECT e.chain_id, e.seq FROM audit_chain.events e"
						 "  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
						 " WHERE %s AND EXISTS ("
						 "   SELECT FROM ROWS FROM (pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9))"
						 "     AS k(id, ucs, us)"
						 "    WHERE (e.resource_id OPERATOR(pg_catalog.=) k.id"
						 "           OR (e.details OPERATOR(pg_catalog.?) 'new_resource_id'"
						 "               AND e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) k.id))"
						 "      AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) (k.ucs, k.us))"
						 " ORDER BY e.chain_id, e.seq",
						 TableEventsFilter(h));
	ErasureNaming naming;
	InitNaming(&naming, (const char *) linitial(ids));
	EraseCounts counts = NewCounts();
	EraseMatching(sql, 9, types, args, NULL, &naming, NULL, &counts);
	SPI_finish();
	RecordErasure(oids, resource_type, "key", counts);
	PG_RETURN_INT64(counts.events);
}

// erase_value(value text, target regclass DEFAULT NULL) RETURNS bigint: erases every recorded
// value equal to `value` (a string, or a number's text), nested or not, in all events (or in
// the events of one table).
Datum
audit_chain_erase_value(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("value must not be NULL")));
	CheckAdmin();
	CheckNoOwnEvents();
	const CatalogOids *oids = GetCatalogOids(false);
	char *value = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (value[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("value must not be empty")));
	MemoryContext caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	// Candidates by text search of the JSON (as a string and as a bare number), then exact
	// matching of values in C.
	StringInfoData quoted;
	initStringInfo(&quoted);
	escape_json(&quoted, value);
	Oid types[11];
	Datum args[11];
	const char *resource_type = "audit_chain";
	const char *scope = "";
	if (!PG_ARGISNULL(1)) {
		TableHistory h = LoadTable(PG_GETARG_OID(1));
		TableEventsFilterParams(h, types, args);
		resource_type = MemoryContextStrdup(caller, h.name);  // outlives SPI_finish()
		scope = psprintf(" AND %s", TableEventsFilter(h));
	} else {
		// $1..$6 unused: keep the numbering of the table filter.
		for (int i = 0; i < 6; i++) {
			types[i] = TEXTOID;
			args[i] = CStringGetTextDatum("");
		}
	}
	// A column recorded as a keyed hash holds HMAC(key, value): erased as well, under the
	// current key (values hashed under an earlier key are not recognised).
	Needle needle = {value, strlen(value), quoted.data, NULL, 0, NULL};
	if (guc_hmac_key != NULL && guc_hmac_key[0] != '\0') {
		needle.hashed = KeyedHashOfText(value, needle.len);
		needle.hashed_len = strlen(needle.hashed);
		StringInfoData hq;
		initStringInfo(&hq);
		escape_json(&hq, needle.hashed);
		needle.hashed_quoted = hq.data;
	}
	types[6] = types[7] = types[8] = types[9] = types[10] = TEXTOID;
	args[6] = CStringGetTextDatum(value);
	args[7] = CStringGetTextDatum(quoted.data);
	args[8] = CStringGetTextDatum(value);
	args[9] = CStringGetTextDatum(needle.hashed != NULL ? needle.hashed : value);
	args[10] = CStringGetTextDatum(needle.hashed_quoted != NULL ? needle.hashed_quoted : quoted.data);
	int nargs = 11;
	char *sql = psprintf(
		"SELECT e.chain_id, e.seq FROM audit_chain.events e"
		" JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
		" WHERE (e.resource_id OPERATOR(pg_catalog.=) $7"
		"    OR pg_catalog.strpos(e.resource_id, $8) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.old_data::pg_catalog.text, $8) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.new_data::pg_catalog.text, $8) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.details::pg_catalog.text, $8) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.old_data::pg_catalog.text, $9) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.new_data::pg_catalog.text, $9) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.details::pg_catalog.text, $9) OPERATOR(pg_catalog.>) 0"
		"    OR e.resource_id OPERATOR(pg_catalog.=) $10"
		"    OR pg_catalog.strpos(e.resource_id, $11) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.old_data::pg_catalog.text, $11) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.new_data::pg_catalog.text, $11) OPERATOR(pg_catalog.>) 0"
		"    OR pg_catalog.strpos(e.details::pg_catalog.text, $11) OPERATOR(pg_catalog.>) 0)%s"
		" ORDER BY e.chain_id, e.seq",
		scope);
	ErasureNaming naming;
	InitNaming(&naming, NULL);
	EraseCounts counts = NewCounts();
	// The contexts first (with target: those of the table's events; a context is shared by
	// every event under it, all of which then read the erased attribute).
	char *context_sql = psprintf(
		"SELECT c.context_id FROM audit_chain.contexts c"
		" WHERE (c.actor_id OPERATOR(pg_catalog.=) $7 OR c.session_user_name OPERATOR(pg_catalog.=) $7"
		"    OR c.current_user_name OPERATOR(pg_catalog.=) $7 OR c.application_name OPERATOR(pg_catalog.=) $7"
		"    OR c.user_agent OPERATOR(pg_catalog.=) $7 OR c.request_id OPERATOR(pg_catalog.=) $7"
		"    OR c.session_id OPERATOR(pg_catalog.=) $7 OR c.reason OPERATOR(pg_catalog.=) $7"
		"    OR pg_catalog.host(c.client_addr) OPERATOR(pg_catalog.=) $7"
		"    OR pg_catalog.abbrev(c.client_addr) OPERATOR(pg_catalog.=) $7)%s"
		" ORDER BY c.context_id",
		PG_ARGISNULL(1) ? ""
						: psprintf(" AND c.context_id IN (SELECT e.context_id FROM audit_chain.events e"
								   " JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
								   " WHERE true%s)",
								   scope));
	EraseContexts(oids, context_sql, 7, types, args, value, &naming, &counts);
	RowDigests digests = {NIL, CurrentMemoryContext};
	EraseMatching(sql, nargs, types, args, &needle, &naming, &digests, &counts);
	// The row digests of the changed events, and of every other version of those rows (found
	// through the table's events that name one of them; the list grows while this runs), each
	// become a pseudonym in all the table's events. Events changed only here count too.
	for (int i = 0; i < list_length(digests.list); i++) {
		CHECK_FOR_INTERRUPTS();
		const RowDigest *d = (const RowDigest *) list_nth(digests.list, i);
		Oid dtypes[2] = {INT4OID, TEXTOID};
		Datum dargs[2] = {Int32GetDatum(d->resource_ref), CStringGetTextDatum(d->id)};
		// Every id the events naming this one carry belongs to the same row.
		int rc = SPI_execute_with_args(
			"SELECT e.resource_id, e.details OPERATOR(pg_catalog.->>) 'new_resource_id' FROM audit_chain.events e"
			" WHERE e.resource_ref OPERATOR(pg_catalog.=) $1 AND (e.resource_id OPERATOR(pg_catalog.=) $2"
			"    OR e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) $2)",
			2, dtypes, dargs, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not read the ids of a row");
		for (uint64 k = 0; k < SPI_processed; k++)
			for (int col = 1; col <= 2; col++) {
				char *id = SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, col);
				if (id != NULL)
					NoteRowDigest(&digests, d->resource_ref, id, strlen(id));
			}
		Needle id_needle = {d->id, strlen(d->id), psprintf("\"%s\"", d->id), NULL, 0, NULL};
		EraseMatching(
			"SELECT e.chain_id, e.seq FROM audit_chain.events e"
			" WHERE e.resource_ref OPERATOR(pg_catalog.=) $1 AND (e.resource_id OPERATOR(pg_catalog.=) $2"
			"    OR e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) $2)"
			" ORDER BY e.chain_id, e.seq",
			2, dtypes, dargs, &id_needle, &naming, NULL, &counts);
	}
	SPI_finish();
	RecordErasure(oids, resource_type, "value", counts);
	PG_RETURN_INT64(counts.events);
}
}
