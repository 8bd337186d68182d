// src/pg/replay.cpp: the replay state machine of time travel.
#include "pg/replay.hpp"

#include "pg/jsonb_util.hpp"
#include "pg/row_image.hpp"

extern "C" {
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace audit_chain::pg {

struct ReplayRow {
	char *id;
	Jsonb *image;  // NULL: known not to exist
	ReplayRow *next;
};

namespace {

struct Bucket {
	uint64 hash;  // key
	ReplayRow *rows;
};

uint64
HashId(const char *id)
{
	return hash_bytes_extended((const unsigned char *) id, (int) strlen(id), 0);
}

ReplayRow *
Find(Replayer *r, const char *id, bool create)
{
	uint64 h = HashId(id);
	bool found;
	Bucket *b = (Bucket *) hash_search(r->buckets, &h, create ? HASH_ENTER : HASH_FIND, &found);
	if (b == NULL)
		return NULL;
	if (!found)
		b->rows = NULL;
	for (ReplayRow *row = b->rows; row != NULL; row = row->next)
		if (strcmp(row->id, id) == 0)
			return row;
	if (!create)
		return NULL;
	ReplayRow *row = (ReplayRow *) MemoryContextAllocZero(r->cxt, sizeof(ReplayRow));
	row->id = MemoryContextStrdup(r->cxt, id);
	row->next = b->rows;
	b->rows = row;
	return row;
}

void
SetImage(Replayer *r, const char *id, Jsonb *image)
{
	ReplayRow *row = Find(r, id, true);
	if (row->image != NULL)
		pfree(row->image);
	row->image = NULL;
	if (image != NULL) {
		MemoryContext old = MemoryContextSwitchTo(r->cxt);
		row->image = (Jsonb *) palloc(VARSIZE(image));
		memcpy(row->image, image, VARSIZE(image));
		MemoryContextSwitchTo(old);
	}
}

void
Clear(Replayer *r)
{
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, r->buckets);
	for (Bucket *b; (b = (Bucket *) hash_seq_search(&status)) != NULL;) {
		for (ReplayRow *row = b->rows; row != NULL;) {
			ReplayRow *next = row->next;
			if (row->image != NULL)
				pfree(row->image);
			pfree(row->id);
			pfree(row);
			row = next;
		}
		b->rows = NULL;
		hash_search(r->buckets, &b->hash, HASH_REMOVE, NULL);
	}
}

JsonbValue *
Member(Jsonb *obj, const char *key)
{
	return obj != NULL ? JsonbMember(&obj->root, key) : NULL;
}

bool
BoolMember(Jsonb *obj, const char *key)
{
	JsonbValue *v = Member(obj, key);
	return v != NULL && v->type == jbvBool && v->val.boolean;
}

Jsonb *
ObjectMember(Jsonb *obj, const char *key)
{
	JsonbValue *v = Member(obj, key);
	if (v == NULL || v->type != jbvBinary)
		return NULL;
	return JsonbValueToJsonb(v);
}

// The id of a row image: its key columns' values, formatted as capture formats them.
const char *
IdOf(Replayer *r, Jsonb *image)
{
	if (r->keyless)
		return text_to_cstring(RowDigestId(image));
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	ListCell *lc;
	foreach (lc, r->key_names) {
		JsonbValue *v = Member(image, (const char *) lfirst(lc));
		JsonbValue null_value;
		null_value.type = jbvNull;
		(void) pushJsonbValue(&state, WJB_ELEM, v != NULL ? v : &null_value);
	}
	Jsonb *keys = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
	return text_to_cstring(ResourceIdFromKeyArray(keys, list_length(r->key_names)));
}

bool
TouchesKey(Replayer *r, Jsonb *new_data)
{
	if (r->keyless)
		return true;
	ListCell *lc;
	foreach (lc, r->key_names)
		if (Member(new_data, (const char *) lfirst(lc)) != NULL)
			return true;
	return false;
}

Jsonb *
Concat(Jsonb *a, Jsonb *b)
{
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(a), JsonbPGetDatum(b)));
}

Jsonb *
DeleteKey(Jsonb *image, const char *key)
{
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(image), CStringGetTextDatum(key)));
}

// Applies an ALTER TABLE event's description to every known row and to the key names.
void
ApplySchemaChange(Replayer *r, Jsonb *details)
{
	if (BoolMember(details, "rebaseline")) {
		Clear(r);  // the BASELINE events that follow hold every row
		r->complete = true;
	}
	Jsonb *renamed = ObjectMember(details, "columns_renamed");
	Jsonb *added = ObjectMember(details, "columns_added");
	JsonbValue *dropped = Member(details, "columns_dropped");

	if (renamed != NULL) {
		ListCell *lc;
		foreach (lc, r->key_names) {
			JsonbValue *to = Member(renamed, (const char *) lfirst(lc));
			if (to != NULL && to->type == jbvString)
				lfirst(lc) = MemoryContextStrdup(r->cxt, pnstrdup(to->val.string.val, to->val.string.len));
		}
	}
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, r->buckets);
	for (Bucket *b; (b = (Bucket *) hash_seq_search(&status)) != NULL;)
		for (ReplayRow *row = b->rows; row != NULL; row = row->next) {
			if (row->image == NULL)
				continue;
			Jsonb *image = row->image;
			if (renamed != NULL)
				image = RenameKeys(image, renamed);
			if (dropped != NULL && dropped->type == jbvBinary) {
				int n = (int) JsonContainerSize(dropped->val.binary.data);
				for (int i = 0; i < n; i++) {
					JsonbValue *name = getIthJsonbValueFromContainer(dropped->val.binary.data, i);
					if (name != NULL && name->type == jbvString)
						image = DeleteKey(image, pnstrdup(name->val.string.val, name->val.string.len));
				}
			}
			if (added != NULL)
				image = Concat(image, added);
			if (image != row->image) {
				MemoryContext old = MemoryContextSwitchTo(r->cxt);
				Jsonb *copy = (Jsonb *) palloc(VARSIZE(image));
				memcpy(copy, image, VARSIZE(image));
				MemoryContextSwitchTo(old);
				pfree(row->image);
				row->image = copy;
			}
		}
}

[[noreturn]] void
Inconsistent(Replayer *r, const ReplayEvent *e, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the audit history of %s is inconsistent", r->table),
			 errdetail("%s %s of row %s (transaction %lld) %s.", e->action, "event", e->resource_id,
					   (long long) e->commit_seq, what),
			 errhint("Run audit_chain.verify(); changes may have been made while capture was bypassed.")));
	pg_unreachable();
}

[[noreturn]] void
Incomplete(Replayer *r, const char *id, const char *when)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 id != NULL ? errmsg("the state of row %s of %s is not known from its audit history", id, r->table)
						: errmsg("the state of %s is not known from its audit history", r->table),
			 when != NULL ? errdetail("The table was tracked without a baseline, so rows it held before %s are "
									  "only known once they are changed (asked for %s).",
									  timestamptz_to_str(r->tracked_since), when)
						  : errdetail("The table was tracked without a baseline at %s, and this row was changed "
									  "before it was ever recorded whole.",
									  timestamptz_to_str(r->tracked_since)),
			 errhint("Track tables with audit_chain.track(table, baseline => true) to make time travel complete.")));
	pg_unreachable();
}

}  // namespace

const char *
NewResourceId(const ReplayEvent *e)
{
	JsonbValue *v = Member(e->details, "new_resource_id");
	return v != NULL && v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len) : NULL;
}

void
ReplaySetRow(Replayer *r, const char *id, Jsonb *image)
{
	SetImage(r, id, image);
}

void
ReplayInit(Replayer *r, List *key_names, bool keyless, const char *table)
{
	r->cxt = AllocSetContextCreate(CurrentMemoryContext, "audit_chain replay", ALLOCSET_DEFAULT_SIZES);
	HASHCTL ctl;
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(Bucket);
	ctl.hcxt = r->cxt;
	r->buckets = hash_create("audit_chain replay rows", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	r->key_names = NIL;
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	ListCell *lc;
	foreach (lc, key_names)
		r->key_names = lappend(r->key_names, pstrdup((const char *) lfirst(lc)));
	MemoryContextSwitchTo(old);
	r->keyless = keyless;
	r->tracked = false;
	r->complete = false;
	r->tracked_since = 0;
	r->lenient = false;
	r->table = table;
}

void
ReplayApply(Replayer *r, const ReplayEvent *e, const char **row_id_after)
{
	*row_id_after = NULL;
	const char *a = e->action;
	if (strcmp(a, "TRACK") == 0) {
		Clear(r);
		r->tracked = true;
		r->tracked_since = e->committed_at;
		r->complete = BoolMember(e->details, "baseline");
	} else if (strcmp(a, "UNTRACK") == 0 || strcmp(a, "DROP TABLE") == 0 || strcmp(a, "DISABLE TRIGGER") == 0 ||
			   strcmp(a, "DROP TRIGGER") == 0) {
		// Changes from here on were not captured: nothing is known until capture resumes.
		Clear(r);
		r->tracked = false;
		r->complete = false;
	} else if (strcmp(a, "ENABLE TRIGGER") == 0) {
		Clear(r);  // the BASELINE events that follow hold every row
		r->tracked = true;
		r->complete = true;
	} else if (strcmp(a, "TRUNCATE") == 0) {
		Clear(r);
		r->complete = true;  // the table is known to be empty
	} else if (strcmp(a, "ALTER TABLE") == 0) {
		ApplySchemaChange(r, e->details);
	} else if (e->resource_id == NULL) {
		return;  // other table-wide events (application events, auditing of DDL) change no row
	} else if (strcmp(a, "BASELINE") == 0 || strcmp(a, "INSERT") == 0) {
		if (e->new_data == NULL)
			Inconsistent(r, e, "has no row image");
		SetImage(r, e->resource_id, e->new_data);
		*row_id_after = e->resource_id;
	} else if (strcmp(a, "DELETE") == 0) {
		ReplayRow *row = Find(r, e->resource_id, false);
		if ((row == NULL || row->image == NULL) && r->complete && !r->lenient)
			Inconsistent(r, e, "deletes a row that did not exist");
		SetImage(r, e->resource_id, NULL);  // known not to exist from now on
		*row_id_after = e->resource_id;
	} else if (strcmp(a, "UPDATE") == 0) {
		ReplayRow *row = Find(r, e->resource_id, false);
		if (row == NULL || row->image == NULL) {
			if (r->lenient) {
				// The image stays unknown; the row is still followed to its new key.
				const char *recorded = NewResourceId(e);
				*row_id_after = recorded != NULL ? recorded : e->resource_id;
				return;
			}
			if (r->complete || row != NULL)
				Inconsistent(r, e, "updates a row that did not exist");
			Incomplete(r, e->resource_id, NULL);
		}
		Jsonb *image = e->new_data != NULL ? Concat(row->image, e->new_data) : row->image;
		const char *id = e->resource_id;
		const char *recorded = NewResourceId(e);
		if (recorded != NULL)
			id = recorded;
		else if (e->new_data != NULL && TouchesKey(r, e->new_data))
			id = IdOf(r, image);
		if (strcmp(id, e->resource_id) != 0)
			SetImage(r, e->resource_id, NULL);
		SetImage(r, id, image);
		*row_id_after = id;
	}
}

Jsonb *
ReplayPeek(Replayer *r, const char *id)
{
	ReplayRow *row = Find(r, id, false);
	return row != NULL ? row->image : NULL;
}

Jsonb *
ReplayRowAt(Replayer *r, const char *id, const char *when)
{
	if (!r->tracked)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s was not tracked at %s", r->table, when)));
	ReplayRow *row = Find(r, id, false);
	if (row != NULL)
		return row->image;
	if (!r->complete && !r->lenient)
		Incomplete(r, id, when);
	return NULL;
}

void
ReplayForEachRow(Replayer *r, void (*fn)(Jsonb *image, void *arg), void *arg, const char *when)
{
	if (!r->tracked)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s was not tracked at %s", r->table, when)));
	if (!r->complete)
		Incomplete(r, NULL, when);
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, r->buckets);
	for (Bucket *b; (b = (Bucket *) hash_seq_search(&status)) != NULL;)
		for (ReplayRow *row = b->rows; row != NULL; row = row->next)
			if (row->image != NULL)
				fn(row->image, arg);
}

Jsonb *
RenameKeys(Jsonb *image, Jsonb *renames)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it = JsonbIteratorInit(&image->root);
	JsonbValue v;
	JsonbIteratorToken tok;
	int depth = 0;
	bool changed = false;
	JsonbValue *result = NULL;
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
			depth++;
		else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			depth--;
		if (tok == WJB_KEY && depth == 1) {
			char *key = pnstrdup(v.val.string.val, v.val.string.len);
			JsonbValue *to = Member(renames, key);
			if (to != NULL && to->type == jbvString) {
				v = *to;
				changed = true;
			}
		}
		result = pushJsonbValue(&state, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	if (!changed || result == NULL)
		return image;
	return JsonbValueToJsonb(result);
}

}  // namespace audit_chain::pg
