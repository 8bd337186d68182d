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

namespace {

struct ReplayRow {
	char *id;
	Jsonb *image;   // the row, when count > 0
	int64 count;    // rows with this id (more than one only in a table without key)
	bool known;     // false: the state of this id is unknown
	int64 arrived_commit_seq;  // when it took a key another row held (deferred keys), else 0
	TimestampTz arrived_stmt;
	ReplayRow *next;
};

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
	row->known = true;
	row->next = b->rows;
	b->rows = row;
	return row;
}

// Another row under an id a row already has (a deferrable key, inside a transaction).
ReplayRow *
AddNewcomer(Replayer *r, const ReplayEvent *e, const char *id)
{
	uint64 h = HashId(id);
	bool found;
	Bucket *b = (Bucket *) hash_search(r->buckets, &h, HASH_ENTER, &found);
	Assert(found);
	ReplayRow *row = (ReplayRow *) MemoryContextAllocZero(r->cxt, sizeof(ReplayRow));
	row->id = MemoryContextStrdup(r->cxt, id);
	row->known = true;
	row->arrived_commit_seq = e->commit_seq;
	row->arrived_stmt = e->event_time;
	// Last in the chain: the row that held the key first is found first.
	ReplayRow **tail = &b->rows;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = row;
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	r->crowded = lappend(r->crowded, row->id);
	MemoryContextSwitchTo(old);
	r->crowded_commit_seq = e->commit_seq;
	return row;
}

void
SetImage(Replayer *r, ReplayRow *row, Jsonb *image)
{
	if (row->image != NULL && row->image != image)
		pfree(row->image);
	row->image = NULL;
	if (image != NULL) {
		row->image = (Jsonb *) MemoryContextAlloc(r->cxt, VARSIZE(image));
		memcpy(row->image, image, VARSIZE(image));
	}
}

// The table's state is entirely known again (or entirely unknown): drop every row.
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
	r->inconsistent = NULL;
	r->crowded = NIL;
}

bool
BoolMember(Jsonb *obj, const char *key)
{
	JsonbValue *v = obj != NULL ? JsonbMember(&obj->root, key) : NULL;
	return v != NULL && v->type == jbvBool && v->val.boolean;
}

Jsonb *
ObjectMember(Jsonb *obj, const char *key)
{
	JsonbValue *v = obj != NULL ? JsonbMember(&obj->root, key) : NULL;
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
		JsonbValue *v = JsonbMember(&image->root, (const char *) lfirst(lc));
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
		if (JsonbMember(&new_data->root, (const char *) lfirst(lc)) != NULL)
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

// Renames top-level keys by a {"old": "new"} map.
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
			char *to = JsonbStringMember(&renames->root, pnstrdup(v.val.string.val, v.val.string.len));
			if (to != NULL) {
				v.val.string.val = to;
				v.val.string.len = (int) strlen(to);
				changed = true;
			}
		}
		result = pushJsonbValue(&state, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	if (!changed || result == NULL)
		return image;
	return JsonbValueToJsonb(result);
}

// Applies an ALTER TABLE event's description to every known row and to the key names.
void
ApplySchemaChange(Replayer *r, Jsonb *details)
{
	if (BoolMember(details, "rebaseline")) {
		Clear(r);  // the BASELINE events that follow hold every row
		r->complete = true;
	}
	// New key columns: the rows that follow (BASELINE first) are identified by them.
	JsonbValue *key_changed = details != NULL ? JsonbMember(&details->root, "key_changed") : NULL;
	if (key_changed != NULL && key_changed->type == jbvBinary) {
		MemoryContext old = MemoryContextSwitchTo(r->cxt);
		r->key_names = JsonbStringListMember(key_changed->val.binary.data, "to");
		MemoryContextSwitchTo(old);
		r->keyless = r->key_names == NIL;
	}
	Jsonb *renamed = ObjectMember(details, "columns_renamed");
	Jsonb *added = ObjectMember(details, "columns_added");
	JsonbValue *dropped = details != NULL ? JsonbMember(&details->root, "columns_dropped") : NULL;

	if (renamed != NULL) {
		ListCell *lc;
		foreach (lc, r->key_names) {
			char *to = JsonbStringMember(&renamed->root, (const char *) lfirst(lc));
			if (to != NULL)
				lfirst(lc) = MemoryContextStrdup(r->cxt, to);
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
			if (image != row->image)
				SetImage(r, row, image);
		}
}

// The columns a CONFIGURE event excludes from capture that image holds (a List of names).
List *
ExcludedColumnsOf(Jsonb *details, Jsonb *image)
{
	JsonbValue *excluded = details != NULL ? JsonbMember(&details->root, "exclude") : NULL;
	if (excluded == NULL || excluded->type != jbvBinary || image == NULL)
		return NIL;
	List *names = NIL;
	int n = (int) JsonContainerSize(excluded->val.binary.data);
	for (int i = 0; i < n; i++) {
		JsonbValue *name = getIthJsonbValueFromContainer(excluded->val.binary.data, i);
		if (name == NULL || name->type != jbvString)
			continue;
		char *column = pnstrdup(name->val.string.val, name->val.string.len);
		if (JsonbMember(&image->root, column) != NULL)
			names = lappend(names, column);
	}
	return names;
}

// A CONFIGURE event: a column excluded from here on is no longer recorded, so no row's value
// of it is known any more (an unrecorded change may follow). It leaves every row image, as
// if it had been excluded from the start.
void
ApplyPolicyChange(Replayer *r, Jsonb *details)
{
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, r->buckets);
	for (Bucket *b; (b = (Bucket *) hash_seq_search(&status)) != NULL;)
		for (ReplayRow *row = b->rows; row != NULL; row = row->next) {
			List *columns = ExcludedColumnsOf(details, row->image);
			if (columns == NIL)
				continue;
			Jsonb *image = row->image;
			ListCell *lc;
			foreach (lc, columns)
				image = DeleteKey(image, (const char *) lfirst(lc));
			SetImage(r, row, image);
		}
}

// Records the first inconsistency; it is reported when a state that depends on it is asked
// for, unless a full re-baseline comes first.
void
Inconsistent(Replayer *r, const ReplayEvent *e, const char *what)
{
	if (r->inconsistent == NULL)
		r->inconsistent = MemoryContextStrdup(
			r->cxt, psprintf("%s of row %s (transaction %lld) %s.", e->action, e->resource_id,
							 (long long) e->commit_seq, what));
}

void
InconsistentText(Replayer *r, const char *what)
{
	if (r->inconsistent == NULL)
		r->inconsistent = MemoryContextStrdup(r->cxt, what);
}

// The end of a transaction in which rows shared keys: each key must be one row's again. Rows
// that left a shared key are forgotten.
void
SettleCrowded(Replayer *r)
{
	ListCell *lc;
	foreach (lc, r->crowded) {
		const char *id = (const char *) lfirst(lc);
		uint64 h = HashId(id);
		Bucket *b = (Bucket *) hash_search(r->buckets, &h, HASH_FIND, NULL);
		if (b == NULL)
			continue;
		int live = 0;
		ReplayRow *keep = NULL;
		for (ReplayRow *row = b->rows; row != NULL; row = row->next)
			if (strcmp(row->id, id) == 0) {
				live += row->count > 0 || !row->known;
				if (keep == NULL || (keep->count == 0 && keep->known && (row->count > 0 || !row->known)))
					keep = row;
			}
		if (live > 1)
			InconsistentText(r, psprintf("Two rows have key %s after transaction %lld.", id,
										 (long long) r->crowded_commit_seq));
		for (ReplayRow **link = &b->rows; *link != NULL;) {
			ReplayRow *row = *link;
			if (strcmp(row->id, id) == 0 && row != keep && row->count == 0 && row->known) {
				*link = row->next;
				if (row->image != NULL)
					pfree(row->image);
				pfree(row);
			} else {
				row->arrived_commit_seq = 0;
				link = &row->next;
			}
		}
	}
	r->crowded = NIL;
}

void
ReportInconsistent(Replayer *r)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the audit history of %s is inconsistent", r->table),
			 errdetail("%s", r->inconsistent),
			 errhint("Run audit_chain.verify(); changes may have been made while capture was bypassed.")));
}

[[noreturn]] void
Incomplete(Replayer *r, const char *id, const char *when)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 id != NULL ? errmsg("the state of row %s of %s is not known from its audit history", id, r->table)
						: errmsg("the state of %s is not known from its audit history", r->table),
			 errdetail("The table was tracked without a baseline at %s, so rows it held then are only known once "
					   "they are recorded whole (asked for %s).",
					   timestamptz_to_str(r->tracked_since), when),
			 errhint("Track tables with audit_chain.track(table, baseline => true) to make time travel complete.")));
	pg_unreachable();
}

void
NotTracked(Replayer *r, const char *when)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s was not tracked at %s", r->table, when),
			 errdetail("It was untracked, or its capture trigger was disabled or dropped, and no change of that "
					   "time was recorded.")));
}

// Rows under id whose state is no longer known: one unknown row remains.
void
MakeUnknown(Replayer *r, const char *id)
{
	ReplayRow *first = Find(r, id, true);
	for (ReplayRow *row = first; row != NULL; row = row->next)
		if (strcmp(row->id, id) == 0) {
			SetImage(r, row, NULL);
			row->count = 0;
			row->known = row != first;
		}
}

bool
Contains(Jsonb *image, Jsonb *part)
{
	JsonbIterator *it1 = JsonbIteratorInit(&image->root);
	JsonbIterator *it2 = JsonbIteratorInit(&part->root);
	return JsonbDeepContains(&it1, &it2);
}

// The row a change of e->resource_id is about. Only a deferrable key can make it more than one:
// then it is the one holding the values the change found, not moved there by the same
// statement; *ambiguous when that still leaves rows that differ.
ReplayRow *
Target(Replayer *r, const ReplayEvent *e, bool *ambiguous)
{
	*ambiguous = false;
	ReplayRow *first = Find(r, e->resource_id, false);
	if (first == NULL || r->crowded == NIL)
		return first;
	List *live = NIL;
	for (ReplayRow *row = first; row != NULL; row = row->next)
		if (strcmp(row->id, e->resource_id) == 0 && row->count > 0)
			live = lappend(live, row);
	if (list_length(live) <= 1)
		return live != NIL ? (ReplayRow *) linitial(live) : first;
	List *matching = NIL;
	ListCell *lc;
	foreach (lc, live) {
		ReplayRow *row = (ReplayRow *) lfirst(lc);
		if (e->old_data == NULL || row->image == NULL || Contains(row->image, e->old_data))
			matching = lappend(matching, row);
	}
	if (matching == NIL)
		matching = live;
	List *not_moved_by_it = NIL;
	foreach (lc, matching) {
		ReplayRow *row = (ReplayRow *) lfirst(lc);
		if (!(row->arrived_commit_seq == e->commit_seq && row->arrived_stmt == e->event_time))
			not_moved_by_it = lappend(not_moved_by_it, row);
	}
	if (not_moved_by_it != NIL)
		matching = not_moved_by_it;
	ReplayRow *chosen = (ReplayRow *) linitial(matching);
	foreach (lc, matching) {
		ReplayRow *row = (ReplayRow *) lfirst(lc);
		// Equal rows are interchangeable.
		if (row->image == NULL || chosen->image == NULL || VARSIZE(row->image) != VARSIZE(chosen->image) ||
			memcmp(row->image, chosen->image, VARSIZE(chosen->image)) != 0)
			*ambiguous = true;
	}
	return chosen;
}

}  // namespace

bool
ReplayDropsColumns(const ReplayEvent *e, Jsonb *image)
{
	return strcmp(e->action, "CONFIGURE") == 0 && e->resource_id == NULL && ExcludedColumnsOf(e->details, image) != NIL;
}

const char *
NewResourceId(const ReplayEvent *e)
{
	return e->details != NULL ? JsonbStringMember(&e->details->root, "new_resource_id") : NULL;
}

void
ReplaySetRow(Replayer *r, const char *id, Jsonb *image)
{
	ReplayRow *row = Find(r, id, true);
	SetImage(r, row, image);
	row->count = image != NULL ? 1 : 0;
	row->known = true;
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
	r->lenient = false;
	r->inconsistent = NULL;
	r->crowded = NIL;
	r->crowded_commit_seq = 0;
	r->tracked_since = 0;
	r->table = table;
}

void
ReplayApply(Replayer *r, const ReplayEvent *e, const char **row_id_after)
{
	*row_id_after = NULL;
	if (r->crowded != NIL && e->commit_seq != r->crowded_commit_seq)
		SettleCrowded(r);
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
	} else if (strcmp(a, "CONFIGURE") == 0 && e->resource_id == NULL) {
		ApplyPolicyChange(r, e->details);
	} else if (e->resource_id == NULL) {
		return;  // other table-wide events (application events, auditing of DDL) change no row
	} else if (strcmp(a, "BASELINE") == 0 || strcmp(a, "INSERT") == 0) {
		if (e->new_data == NULL)
			return Inconsistent(r, e, "has no row image");
		ReplayRow *row = Find(r, e->resource_id, true);
		if (row->count > 0 && !r->keyless)
			row = AddNewcomer(r, e, e->resource_id);  // unique again by the end of the transaction?
		SetImage(r, row, e->new_data);
		row->count = r->keyless ? row->count + 1 : 1;
		row->known = true;
		*row_id_after = e->resource_id;
	} else if (strcmp(a, "DELETE") == 0) {
		bool ambiguous;
		ReplayRow *row = Target(r, e, &ambiguous);
		*row_id_after = e->resource_id;
		if (ambiguous)
			return MakeUnknown(r, e->resource_id);
		if (row == NULL) {
			// A row nobody recorded whole: it existed before tracking (without baseline).
			if (r->complete)
				Inconsistent(r, e, "deletes a row that did not exist");
			row = Find(r, e->resource_id, true);
		} else if (row->known && row->count == 0) {
			Inconsistent(r, e, "deletes a row that did not exist");
		} else if (row->count > 0) {
			row->count--;
		}
		if (row->count == 0)
			SetImage(r, row, NULL);
		row->known = true;
	} else if (strcmp(a, "UPDATE") == 0) {
		bool ambiguous;
		ReplayRow *row = Target(r, e, &ambiguous);
		const char *recorded = NewResourceId(e);
		if (ambiguous) {
			// Which of the rows sharing the key changed is not known.
			MakeUnknown(r, e->resource_id);
			const char *id = recorded != NULL ? recorded : e->resource_id;
			MakeUnknown(r, id);
			*row_id_after = id;
			return;
		}
		if (row == NULL || row->count == 0 || !row->known) {
			// Changes of a row whose whole image was never recorded (tracked without baseline),
			// or of a row that does not exist (an inconsistency).
			if (row != NULL && row->known && row->count == 0)
				Inconsistent(r, e, "updates a row that did not exist");
			else if (row == NULL && r->complete)
				Inconsistent(r, e, "updates a row that did not exist");
			const char *id = recorded != NULL ? recorded : e->resource_id;
			ReplayRow *target = Find(r, id, true);
			target->known = false;
			target->count = 0;
			*row_id_after = id;
			return;
		}
		Jsonb *image = e->new_data != NULL ? Concat(row->image, e->new_data) : row->image;
		const char *id = e->resource_id;
		if (recorded != NULL)
			id = recorded;
		else if (e->new_data != NULL && TouchesKey(r, e->new_data))
			id = IdOf(r, image);
		if (strcmp(id, e->resource_id) == 0) {
			SetImage(r, row, image);
		} else {
			Jsonb *copy = (Jsonb *) palloc(VARSIZE(image));
			memcpy(copy, image, VARSIZE(image));
			row->count--;
			if (row->count == 0)
				SetImage(r, row, NULL);
			ReplayRow *target = Find(r, id, true);
			if (target->count > 0 && !r->keyless)
				target = AddNewcomer(r, e, id);  // unique again by the end of the transaction?
			SetImage(r, target, copy);
			target->count = r->keyless ? target->count + 1 : 1;
			target->known = true;
		}
		*row_id_after = id;
	}
}

Jsonb *
ReplayPeek(Replayer *r, const char *id)
{
	ReplayRow *row = Find(r, id, false);
	return row != NULL && row->count > 0 ? row->image : NULL;
}

Jsonb *
ReplayRowAt(Replayer *r, const char *id, const char *when)
{
	if (r->crowded != NIL)
		SettleCrowded(r);
	if (r->inconsistent != NULL && !r->lenient)
		ReportInconsistent(r);
	if (!r->tracked) {
		if (r->lenient)
			return NULL;
		NotTracked(r, when);
	}
	ReplayRow *row = Find(r, id, false);
	if (row != NULL && row->known)
		return row->count > 0 ? row->image : NULL;
	if ((row != NULL || !r->complete) && !r->lenient)
		Incomplete(r, id, when);
	return NULL;
}

Jsonb *
ReplayRowFor(Replayer *r, const ReplayEvent *e, const char *when)
{
	if (r->inconsistent != NULL && !r->lenient)
		ReportInconsistent(r);
	if (!r->tracked) {
		if (r->lenient)
			return NULL;
		NotTracked(r, when);
	}
	bool ambiguous;
	ReplayRow *row = Target(r, e, &ambiguous);
	if (row != NULL && row->known && !ambiguous)
		return row->count > 0 ? row->image : NULL;
	if ((row != NULL || !r->complete) && !r->lenient)
		Incomplete(r, e->resource_id, when);
	return NULL;
}

void
ReplayForEachRow(Replayer *r, void (*fn)(Jsonb *image, void *arg), void *arg, const char *when)
{
	if (r->crowded != NIL)
		SettleCrowded(r);
	if (r->inconsistent != NULL)
		ReportInconsistent(r);
	if (!r->tracked)
		NotTracked(r, when);
	if (!r->complete)
		Incomplete(r, NULL, when);
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, r->buckets);
	for (Bucket *b; (b = (Bucket *) hash_seq_search(&status)) != NULL;)
		for (ReplayRow *row = b->rows; row != NULL; row = row->next) {
			if (!row->known)
				Incomplete(r, row->id, when);
			for (int64 i = 0; i < row->count; i++)
				fn(row->image, arg);
		}
}

}  // namespace audit_chain::pg
