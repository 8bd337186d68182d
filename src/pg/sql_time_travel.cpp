// src/pg/sql_time_travel.cpp: audit_chain.history(), row_at() and table_at().
//
// "As of T" is the state committed at T: events apply in commit order up to the last
// transaction whose committed_at is at or before T. Replay starts at the last TRACK event
// of the table at or before T (its tracking period), follows renames of the table and its
// columns, and finds a row under a former key when an UPDATE moved it to the asked one.
#include "pg/catalog.hpp"
#include "pg/jsonb_util.hpp"
#include "pg/relation_info.hpp"
#include "pg/replay.hpp"
#include "pg/row_image.hpp"
#include "pg/table_history.hpp"

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

using namespace audit_chain::pg;

namespace {

constexpr int kFetchBatch = 1000;
constexpr int kMaxRenames = 1000;

// Columns of the event queries below.
enum EventColumn {
	kQCommitSeq = 1,
	kQSeq,
	kQCommittedAt,
	kQAction,
	kQResourceId,
	kQOldData,
	kQNewData,
	kQDetails,
	kQChainId,
	kQXid,
	kQActorId,
	kQDbUser,
	kQEventTime,
};

constexpr char kEventColumns[] =
	"e.commit_seq, e.seq, e.committed_at, e.action, e.resource_id, e.old_data, e.new_data, e.details, "
	"e.chain_id, e.xid, c.actor_id, c.current_user_name, e.event_time "
	"FROM audit_chain.events e "
	"JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref "
	"LEFT JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id ";

// The same columns without the who: replay alone needs no join with contexts.
constexpr char kReplayColumns[] =
	"e.commit_seq, e.seq, e.committed_at, e.action, e.resource_id, e.old_data, e.new_data, e.details, "
	"e.chain_id, e.xid, NULL::pg_catalog.text, NULL::pg_catalog.text, e.event_time "
	"FROM audit_chain.events e "
	"JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref ";

struct Position {
	int64 commit_seq;
	int64 seq;
};

constexpr Position kStart = {0, 0};
constexpr Position kEnd = {PG_INT64_MAX, PG_INT64_MAX};

TimestampTz
GetTimestamp(HeapTuple t, TupleDesc d, int col)
{
	bool isnull;
	return DatumGetTimestampTz(SPI_getbinval(t, d, col, &isnull));
}

int64
GetInt64(HeapTuple t, TupleDesc d, int col)
{
	bool isnull;
	Datum v = SPI_getbinval(t, d, col, &isnull);
	return isnull ? 0 : DatumGetInt64(v);
}

Jsonb *
GetJsonb(HeapTuple t, TupleDesc d, int col)
{
	bool isnull;
	Datum v = SPI_getbinval(t, d, col, &isnull);
	return isnull ? NULL : DatumGetJsonbP(v);
}

char *
GetText(HeapTuple t, TupleDesc d, int col)
{
	bool isnull;
	Datum v = SPI_getbinval(t, d, col, &isnull);
	return isnull ? NULL : TextDatumGetCString(v);
}

void
ToReplayEvent(HeapTuple t, TupleDesc d, ReplayEvent *e)
{
	e->commit_seq = GetInt64(t, d, kQCommitSeq);
	e->seq = GetInt64(t, d, kQSeq);
	e->committed_at = GetTimestamp(t, d, kQCommittedAt);
	e->event_time = GetTimestamp(t, d, kQEventTime);
	e->action = GetText(t, d, kQAction);
	e->resource_id = GetText(t, d, kQResourceId);
	e->old_data = GetJsonb(t, d, kQOldData);
	e->new_data = GetJsonb(t, d, kQNewData);
	e->details = GetJsonb(t, d, kQDetails);
}

// The event in a slot of an event query (columns as kEventColumns), valid until the slot
// changes and the current memory context is reset.
void
SlotToReplayEvent(TupleTableSlot *slot, ReplayEvent *e)
{
	slot_getallattrs(slot);
	const Datum *v = slot->tts_values;
	const bool *n = slot->tts_isnull;
	e->commit_seq = DatumGetInt64(v[kQCommitSeq - 1]);
	e->seq = DatumGetInt64(v[kQSeq - 1]);
	e->committed_at = DatumGetTimestampTz(v[kQCommittedAt - 1]);
	e->event_time = DatumGetTimestampTz(v[kQEventTime - 1]);
	e->action = TextDatumGetCString(v[kQAction - 1]);
	e->resource_id = n[kQResourceId - 1] ? NULL : TextDatumGetCString(v[kQResourceId - 1]);
	e->old_data = n[kQOldData - 1] ? NULL : DatumGetJsonbP(v[kQOldData - 1]);
	e->new_data = n[kQNewData - 1] ? NULL : DatumGetJsonbP(v[kQNewData - 1]);
	e->details = n[kQDetails - 1] ? NULL : DatumGetJsonbP(v[kQDetails - 1]);
}

// Applies every event of a query to a replayer as the executor produces it: no copy of the
// events, and what one event needs is freed before the next.
struct ReplayReceiver {
	DestReceiver pub;  // first: the executor sees a DestReceiver
	Replayer *replayer;
	MemoryContext per_event;
};

bool
ReplayReceive(TupleTableSlot *slot, DestReceiver *self)
{
	ReplayReceiver *receiver = (ReplayReceiver *) self;
	CHECK_FOR_INTERRUPTS();
	MemoryContext old = MemoryContextSwitchTo(receiver->per_event);
	ReplayEvent e;
	SlotToReplayEvent(slot, &e);
	const char *after;
	ReplayApply(receiver->replayer, &e, &after);
	MemoryContextSwitchTo(old);
	MemoryContextReset(receiver->per_event);
	return true;
}

void
ReplayStartup(DestReceiver *, int, TupleDesc)
{
}

void
ReplayShutdown(DestReceiver *)
{
}

void
ReplayDestroy(DestReceiver *)
{
}

Datum
Int8Array(const List *values)
{
	int n = list_length(values);
	Datum *elems = (Datum *) palloc(sizeof(Datum) * (n + 1));
	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(*(const int64 *) list_nth(values, i));
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

int64 *
BoxInt64(int64 v)
{
	int64 *p = (int64 *) palloc(sizeof(int64));
	*p = v;
	return p;
}

// The latest event, before `until`, that bounds the period in which `name` was this table's
// name: it was renamed into `name` (then it had an earlier name), or another table under that
// name was dropped or renamed away (then the name was someone else's before).
bool
NameBoundary(const char *name, Position until, Position *at, char **renamed_from, bool *renamed_into)
{
	Oid types[3] = {TEXTOID, INT8OID, INT8OID};
	Datum values[3] = {CStringGetTextDatum(name), Int64GetDatum(until.commit_seq), Int64GetDatum(until.seq)};
	int rc = SPI_execute_with_args(
		"SELECT * FROM ("
		"  SELECT true AS into, e.commit_seq, e.seq, e.details OPERATOR(pg_catalog.->>) 'renamed_from'"
		"    FROM audit_chain.events e"
		"    JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
		"   WHERE r.resource_type OPERATOR(pg_catalog.=) $1 AND e.resource_id IS NULL"
		"     AND e.action OPERATOR(pg_catalog.=) 'ALTER TABLE' AND e.details OPERATOR(pg_catalog.?) 'renamed_from'"
		"     AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($2, $3)"
		"  UNION ALL"
		"  SELECT false, e.commit_seq, e.seq, NULL FROM audit_chain.events e"
		"    JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
		"   WHERE r.resource_type OPERATOR(pg_catalog.=) $1 AND e.resource_id IS NULL"
		"     AND e.action OPERATOR(pg_catalog.=) 'DROP TABLE'"
		"     AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($2, $3)"
		"  UNION ALL"
		"  SELECT false, e.commit_seq, e.seq, NULL FROM audit_chain.events e"
		"   WHERE e.action OPERATOR(pg_catalog.=) 'ALTER TABLE' AND e.details OPERATOR(pg_catalog.?) 'renamed_from'"
		"     AND e.details OPERATOR(pg_catalog.->>) 'renamed_from' OPERATOR(pg_catalog.=) $1"
		"     AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($2, $3)"
		") b ORDER BY 2 DESC, 3 DESC LIMIT 1",
		3, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the names of %s", name);
	if (SPI_processed == 0)
		return false;
	HeapTuple t = SPI_tuptable->vals[0];
	TupleDesc d = SPI_tuptable->tupdesc;
	bool isnull;
	*renamed_into = DatumGetBool(SPI_getbinval(t, d, 1, &isnull));
	at->commit_seq = GetInt64(t, d, 2);
	at->seq = GetInt64(t, d, 3);
	*renamed_from = GetText(t, d, 4);
	return true;
}

// The parameters $1..$6 of TableEventsFilter for this table.
void
FilterParams(const TableHistory &h, Oid *types, Datum *values)
{
	const Oid t[6] = {TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, BOOLARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	const Datum v[6] = {h.names, h.from_commit_seq, h.from_seq, h.from_inclusive, h.until_commit_seq, h.until_seq};
	memcpy(types, t, sizeof(t));
	memcpy(values, v, sizeof(v));
}

}  // namespace

namespace audit_chain::pg {

const char *
TableEventsFilter(const TableHistory &h)
{
	// The resource_refs, written into the query, give every index on events its leading
	// column: the join with resources alone would leave the planner reading whole indexes.
	if (h.one_name)
		return psprintf("e.resource_ref OPERATOR(pg_catalog.=) ANY ('%s'::pg_catalog.int4[])"
						" AND r.resource_type OPERATOR(pg_catalog.=) ANY ($1)"
						" AND $2 IS NOT NULL AND $3 IS NOT NULL AND $4 IS NOT NULL AND $5 IS NOT NULL"
						" AND $6 IS NOT NULL",
						h.resource_refs);
	return psprintf("e.resource_ref OPERATOR(pg_catalog.=) ANY ('%s'::pg_catalog.int4[])"
					" AND r.resource_type OPERATOR(pg_catalog.=) ANY ($1) AND EXISTS ("
					"SELECT FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
					" pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6))"
					"   AS n(name, fcs, fs, finc, ucs, us)"
					" WHERE n.name OPERATOR(pg_catalog.=) r.resource_type"
					"   AND ((e.commit_seq, e.seq) OPERATOR(pg_catalog.>) (n.fcs, n.fs)"
					"        OR (n.finc AND e.commit_seq OPERATOR(pg_catalog.=) n.fcs"
					"            AND e.seq OPERATOR(pg_catalog.=) n.fs))"
					"   AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) (n.ucs, n.us))",
					h.resource_refs);
}

void
TableEventsFilterParams(const TableHistory &h, Oid *types, Datum *values)
{
	FilterParams(h, types, values);
}

// Everything about the table that replay needs; SPI must be connected.
TableHistory
LoadTable(Oid relid)
{
	TableHistory h;
	h.relid = relid;
	char relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid))));
	h.name = QualifiedRelationName(relid);
	Relation rel = table_open(relid, AccessShareLock);
	const RelationInfo *info = RelationInfoFor(rel, relid);
	h.key_names = NIL;
	for (int k = 0; k < info->nkeys; k++)
		h.key_names = lappend(h.key_names, info->columns[info->key_attnums[k] - 1].name);
	h.keyless = info->nkeys == 0;
	h.column_names = NIL;
	for (int i = 0; i < info->natts; i++)
		if (info->columns[i].name != NULL)
			h.column_names = lappend(h.column_names, info->columns[i].name);
	table_close(rel, AccessShareLock);

	// The names its events were recorded under, each with the period it was this table's:
	// walk back through renames from today's name.
	List *names = NIL, *fcs = NIL, *fs = NIL, *finc = NIL, *ucs = NIL, *us = NIL;
	const char *name = h.name;
	Position until = kEnd;
	for (int guard = 0; guard < kMaxRenames; guard++) {
		Position at = kStart;
		char *renamed_from = NULL;
		bool renamed_into = false;
		bool bounded = NameBoundary(name, until, &at, &renamed_from, &renamed_into);
		names = lappend(names, pstrdup(name));
		ucs = lappend(ucs, BoxInt64(until.commit_seq));
		us = lappend(us, BoxInt64(until.seq));
		fcs = lappend(fcs, BoxInt64(bounded ? at.commit_seq : 0));
		fs = lappend(fs, BoxInt64(bounded ? at.seq : 0));
		finc = lappend_int(finc, bounded ? renamed_into : true);
		if (!bounded || !renamed_into || renamed_from == NULL)
			break;
		name = renamed_from;
		until = at;
	}
	int n = list_length(names);
	// One name that no other table ever had: every event under it is this table's.
	h.one_name = n == 1 && *(int64 *) linitial(fcs) == 0 && *(int64 *) linitial(ucs) == kEnd.commit_seq;
	Datum *name_datums = (Datum *) palloc(sizeof(Datum) * (n + 1));
	Datum *inc_datums = (Datum *) palloc(sizeof(Datum) * (n + 1));
	for (int i = 0; i < n; i++) {
		name_datums[i] = CStringGetTextDatum((const char *) list_nth(names, i));
		inc_datums[i] = BoolGetDatum(list_nth_int(finc, i) != 0);
	}
	h.names = PointerGetDatum(construct_array(name_datums, n, TEXTOID, -1, false, TYPALIGN_INT));
	h.from_inclusive = PointerGetDatum(construct_array(inc_datums, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	h.from_commit_seq = Int8Array(fcs);
	h.from_seq = Int8Array(fs);
	h.until_commit_seq = Int8Array(ucs);
	h.until_seq = Int8Array(us);

	// The resource_refs of those names (resources holds one per name ever used).
	Oid ref_types[1] = {TEXTARRAYOID};
	Datum ref_values[1] = {h.names};
	if (SPI_execute_with_args("SELECT pg_catalog.array_agg(resource_ref ORDER BY resource_ref)::pg_catalog.text"
							  " FROM audit_chain.resources WHERE resource_type OPERATOR(pg_catalog.=) ANY ($1)",
							  1, ref_types, ref_values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the resource references of %s", h.name);
	char *refs = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	h.resource_refs = refs != NULL ? refs : pstrdup("{}");
	return h;
}

// The row id of a key given as {"column": value, ...} (the whole row for a table without key).
char *
KeyToId(const TableHistory &h, Jsonb *key)
{
	if (key == NULL || !JB_ROOT_IS_OBJECT(key) || JB_ROOT_IS_SCALAR(key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key must be a JSON object of column values, like {\"id\": 5}")));
	// Only key columns may be named (any column, for a table without key).
	if (!h.keyless) {
		JsonbIterator *it = JsonbIteratorInit(&key->root);
		JsonbValue v;
		JsonbIteratorToken tok;
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			if (tok == WJB_KEY) {
				char *name = pnstrdup(v.val.string.val, v.val.string.len);
				bool is_key = false;
				ListCell *lc;
				foreach (lc, h.key_names)
					is_key |= strcmp((const char *) lfirst(lc), name) == 0;
				if (!is_key)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("\"%s\" is not a key column of %s", name, h.name),
							 errhint("The key of %s is its primary key (or replica identity index).", h.name)));
			}
	}
	// Typed through the table's row type, so the id is formatted exactly as capture formats it.
	Oid types[1] = {JSONBOID};
	Datum values[1] = {JsonbPGetDatum(key)};
	char *sql = psprintf("SELECT pg_catalog.jsonb_populate_record(NULL::%s, $1)", h.name);
	int rc = SPI_execute_with_args(sql, 1, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not type the key for %s", h.name);
	bool isnull;
	Datum row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	HeapTupleHeader header = DatumGetHeapTupleHeader(row);
	HeapTupleData tuple;
	tuple.t_len = HeapTupleHeaderGetDatumLength(header);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = h.relid;
	tuple.t_data = header;

	Relation rel = table_open(h.relid, AccessShareLock);
	const RelationInfo *info = RelationInfoFor(rel, h.relid);
	TupleDesc desc = RelationGetDescr(rel);
	for (int k = 0; k < info->nkeys; k++) {
		bool null;
		(void) heap_getattr(&tuple, info->key_attnums[k], desc, &null);
		if (null)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key must give a value for key column \"%s\" of %s",
							info->columns[info->key_attnums[k] - 1].name, h.name)));
	}
	PinnedSettings pinned = NoPinnedSettings();
	text *id = ResourceIdOf(info, desc, &tuple, &pinned);
	UnpinSettings(&pinned);
	table_close(rel, AccessShareLock);
	return text_to_cstring(id);
}

}  // namespace audit_chain::pg

namespace {

// The TRACK event that starts the tracking period containing at; errors if there is none.
Position
TrackingStart(const TableHistory &h, TimestampTz at, const char *when)
{
	Oid types[7];
	Datum values[7];
	FilterParams(h, types, values);
	types[6] = TIMESTAMPTZOID;
	values[6] = TimestampTzGetDatum(at);
	char *sql = psprintf("SELECT e.commit_seq, e.seq FROM audit_chain.events e"
						 "  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
						 " WHERE %s AND e.resource_id IS NULL"
						 "   AND e.action OPERATOR(pg_catalog.=) 'TRACK' AND e.committed_at OPERATOR(pg_catalog.<=) $7"
						 " ORDER BY e.commit_seq DESC, e.seq DESC LIMIT 1",
						 TableEventsFilter(h));
	int rc = SPI_execute_with_args(sql, 7, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the tracking history of %s", h.name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s was not tracked at %s", h.name, when),
				 errdetail("Its audit history starts later, or it was never tracked.")));
	return Position{GetInt64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
					GetInt64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)};
}

struct Alter {
	Position position;
	TimestampTz committed_at;
	Jsonb *details;
};

// The table's ALTER TABLE events from position `from` on, oldest first (a list of Alter *).
List *
AltersFrom(const TableHistory &h, Position from)
{
	Oid types[8];
	Datum values[8];
	FilterParams(h, types, values);
	types[6] = types[7] = INT8OID;
	values[6] = Int64GetDatum(from.commit_seq);
	values[7] = Int64GetDatum(from.seq);
	char *sql = psprintf("SELECT e.committed_at, e.details, e.commit_seq, e.seq FROM audit_chain.events e"
						 "  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
						 " WHERE %s AND e.resource_id IS NULL AND e.action OPERATOR(pg_catalog.=) 'ALTER TABLE'"
						 "   AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.>=) ($7, $8)"
						 " ORDER BY e.commit_seq, e.seq",
						 TableEventsFilter(h));
	int rc = SPI_execute_with_args(sql, 8, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the schema history of %s", h.name);
	List *alters = NIL;
	for (uint64 i = 0; i < SPI_processed; i++) {
		Alter *a = (Alter *) palloc(sizeof(Alter));
		a->committed_at = GetTimestamp(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		a->details = GetJsonb(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		a->position.commit_seq = GetInt64(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		a->position.seq = GetInt64(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);
		alters = lappend(alters, a);
	}
	return alters;
}

// The name a column named `name` after alter `first` (of `alters`) has today, or NULL if it
// was dropped since (a column added later under the same name is another column).
const char *
NameToday(List *alters, int first, const char *name)
{
	for (int i = first; i < list_length(alters) && name != NULL; i++) {
		Jsonb *d = ((Alter *) list_nth(alters, i))->details;
		JsonbValue *dropped = JsonbMember(&d->root, "columns_dropped");
		if (dropped != NULL && dropped->type == jbvBinary) {
			int n = (int) JsonContainerSize(dropped->val.binary.data);
			for (int k = 0; k < n; k++) {
				JsonbValue *e = getIthJsonbValueFromContainer(dropped->val.binary.data, k);
				if (e != NULL && e->type == jbvString && (size_t) e->val.string.len == strlen(name) &&
					memcmp(e->val.string.val, name, e->val.string.len) == 0)
					return NULL;
			}
		}
		JsonbValue *renamed = JsonbMember(&d->root, "columns_renamed");
		if (renamed != NULL && renamed->type == jbvBinary) {
			char *to = JsonbStringMember(renamed->val.binary.data, name);
			if (to != NULL)
				name = to;
		}
	}
	return name;
}

// The index in `alters` of the first alter committed after `at`.
int
FirstAlterAfter(List *alters, TimestampTz at)
{
	int i = 0;
	while (i < list_length(alters) && ((Alter *) list_nth(alters, i))->committed_at <= at)
		i++;
	return i;
}

bool
HasColumn(const TableHistory &h, const char *name)
{
	ListCell *lc;
	foreach (lc, h.column_names)
		if (strcmp((const char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

// The image with its keys named as today. A column dropped since keeps the name it had,
// unless today's table has another column of that name (then it is left out: the value is
// not that column's).
Jsonb *
InTodaysNames(const TableHistory &h, Jsonb *image, List *alters, int first)
{
	if (first >= list_length(alters))
		return image;
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	JsonbIterator *it = JsonbIteratorInit(&image->root);
	JsonbValue v;
	JsonbIteratorToken tok;
	(void) JsonbIteratorNext(&it, &v, true);  // WJB_BEGIN_OBJECT
	const char *today = NULL;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
		if (tok == WJB_KEY) {
			char *then = pnstrdup(v.val.string.val, v.val.string.len);
			today = NameToday(alters, first, then);
			if (today == NULL && !HasColumn(h, then))
				today = then;
			if (today != NULL)
				PushJsonbKey(&state, today);
		} else if (tok == WJB_VALUE && today != NULL) {
			(void) pushJsonbValue(&state, WJB_VALUE, &v);
		}
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

// The first alter that changed the key columns, or -1.
int
FirstKeyChange(List *alters)
{
	for (int i = 0; i < list_length(alters); i++)
		if (JsonbMember(&((Alter *) list_nth(alters, i))->details->root, "key_changed") != NULL)
			return i;
	return -1;
}

// The names in the "from" list of a key change.
List *
KeyChangeFromNames(const Alter *a)
{
	JsonbValue *changed = JsonbMember(&a->details->root, "key_changed");
	return changed != NULL && changed->type == jbvBinary ? JsonbStringListMember(changed->val.binary.data, "from") : NIL;
}

// Whether rows were identified by their whole value at the start of `alters`.
bool
KeylessBefore(const TableHistory &h, List *alters)
{
	int first = FirstKeyChange(alters);
	if (first < 0)
		return h.keyless;
	return KeyChangeFromNames((Alter *) list_nth(alters, first)) == NIL;
}

// The key column names as they were at the start of `alters`: today's with renames undone, or
// before a change of the key columns, the key of then (with the renames before it undone).
List *
KeyNamesBefore(const TableHistory &h, List *alters)
{
	int first_change = FirstKeyChange(alters);
	List *names = first_change < 0 ? list_copy(h.key_names) : KeyChangeFromNames((Alter *) list_nth(alters, first_change));
	for (int i = (first_change < 0 ? list_length(alters) : first_change) - 1; i >= 0; i--) {
		JsonbValue *renamed = JsonbMember(&((Alter *) list_nth(alters, i))->details->root, "columns_renamed");
		if (renamed == NULL || renamed->type != jbvBinary)
			continue;
		ListCell *lc;
		foreach (lc, names) {
			JsonbIterator *it = JsonbIteratorInit(renamed->val.binary.data);
			JsonbValue v;
			JsonbIteratorToken tok;
			char *old_name = NULL;
			while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
				if (tok == WJB_KEY)
					old_name = pnstrdup(v.val.string.val, v.val.string.len);
				else if (tok == WJB_VALUE && v.type == jbvString &&
						 (size_t) v.val.string.len == strlen((const char *) lfirst(lc)) &&
						 memcmp(v.val.string.val, lfirst(lc), v.val.string.len) == 0)
					lfirst(lc) = old_name;
			}
		}
	}
	return names;
}

// The type a retype recorded a column had before (its "from"), or NULL.
const char *
RetypedFrom(const Alter *a, const char *column)
{
	JsonbValue *retyped = JsonbMember(&a->details->root, "columns_retyped");
	if (retyped == NULL || retyped->type != jbvBinary)
		return NULL;
	JsonbValue *change = JsonbMember(retyped->val.binary.data, column);
	if (change == NULL || change->type != jbvBinary)
		return NULL;
	return JsonbStringMember(change->val.binary.data, "from");
}

// Whether alter i retyped a column that is part of a row's id: a key column (today's names in
// h.key_names), or any column of a table without key.
bool
RetypesKey(const TableHistory &h, List *alters, int i)
{
	Alter *a = (Alter *) list_nth(alters, i);
	JsonbValue *retyped = JsonbMember(&a->details->root, "columns_retyped");
	if (retyped == NULL || retyped->type != jbvBinary)
		return false;
	if (h.keyless)
		return true;
	JsonbIterator *it = JsonbIteratorInit(retyped->val.binary.data);
	JsonbValue v;
	JsonbIteratorToken tok;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
		if (tok != WJB_KEY)
			continue;
		const char *now = NameToday(alters, i + 1, pnstrdup(v.val.string.val, v.val.string.len));
		ListCell *lc;
		foreach (lc, h.key_names)
			if (now != NULL && strcmp(now, (const char *) lfirst(lc)) == 0)
				return true;
	}
	return false;
}

char *
TodaysTypeOf(const TableHistory &h, const char *column)
{
	AttrNumber attnum = get_attnum(h.relid, column);
	Oid typid, collation;
	int32 typmod;
	get_atttypetypmodcoll(h.relid, attnum, &typid, &typmod, &collation);
	return format_type_with_typemod(typid, typmod);
}

// The first change of the key columns at or after alter `first`, or NULL. Before it, rows had
// other ids, which today's key cannot name.
Alter *
KeyChangeFrom(List *alters, int first)
{
	for (int i = first; i < list_length(alters); i++) {
		Alter *a = (Alter *) list_nth(alters, i);
		if (JsonbMember(&a->details->root, "key_changed") != NULL)
			return a;
	}
	return NULL;
}

char *
KeyChangeText(const Alter *a)
{
	JsonbValue *changed = JsonbMember(&a->details->root, "key_changed");
	return changed != NULL && changed->type == jbvBinary ? JsonbToCString(NULL, changed->val.binary.data, -1)
													   : pstrdup("?");
}

// The row id of `key` as capture wrote it between alter first-1 and alter first: key columns
// retyped since are typed as they were then (5 then, 5.00 today). NULL when the key's value
// could not be written in the type of then (5.50 in a column that was an integer).
char *
KeyToIdAsOf(const TableHistory &h, Jsonb *key, List *alters, int first)
{
	char *today = KeyToId(h, key);  // also checks the key
	if (h.keyless)
		return today;
	List *types = NIL;
	bool any = false;
	ListCell *lc;
	foreach (lc, h.key_names) {
		const char *type = NULL;
		for (int i = first; i < list_length(alters) && type == NULL; i++) {
			Alter *a = (Alter *) list_nth(alters, i);
			// The column as it was named at that alter: today's name with later renames undone.
			JsonbValue *retyped = JsonbMember(&a->details->root, "columns_retyped");
			if (retyped == NULL || retyped->type != jbvBinary)
				continue;
			JsonbIterator *it = JsonbIteratorInit(retyped->val.binary.data);
			JsonbValue v;
			JsonbIteratorToken tok;
			while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
				if (tok == WJB_KEY && type == NULL) {
					char *then = pnstrdup(v.val.string.val, v.val.string.len);
					const char *now = NameToday(alters, i + 1, then);
					if (now != NULL && strcmp(now, (const char *) lfirst(lc)) == 0) {
						type = RetypedFrom(a, then);
						if (type == NULL)
							ereport(ERROR,
									(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
									 errmsg("the type key column \"%s\" of %s had before %s is not recorded",
											(const char *) lfirst(lc), h.name, timestamptz_to_str(a->committed_at))));
					}
				}
		}
		types = lappend(types, (void *) type);
		any |= type != NULL;
	}
	if (!any)
		return today;
	// Each value through its type of then, written as capture writes values.
	JsonbParseState *state = NULL;
	PinnedSettings pinned = NoPinnedSettings();
	(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	ListCell *tc;
	forboth (lc, h.key_names, tc, types) {
		JsonbValue *v = JsonbMember(&key->root, (const char *) lfirst(lc));
		char *text = v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len)
										  : JsonbToCString(NULL, v->type == jbvBinary ? v->val.binary.data
																				   : &JsonbValueToJsonb(v)->root,
														   -1);
		const char *type = (const char *) lfirst(tc);
		const char *today_type = TodaysTypeOf(h, (const char *) lfirst(lc));
		// A retyped column: the value in today's type (as given), cast to the type of then,
		// which must give it back (5.00 was written 5 then; 5.50 could not have been written).
		char *sql = type == NULL ? psprintf("SELECT CAST($1 AS %s), true", today_type)
								 : psprintf("SELECT b.v, CAST(b.v AS %s) IS NOT DISTINCT FROM a.t"
											"  FROM (SELECT CAST($1 AS %s) AS t) a, LATERAL (SELECT CAST(a.t AS %s) AS v) b",
											today_type, today_type, type);
		Oid argtypes[1] = {TEXTOID};
		Datum args[1] = {CStringGetTextDatum(text)};
		if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not type the key for %s", h.name);
		bool isnull;
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull))) {
			UnpinSettings(&pinned);
			return NULL;
		}
		Datum typed = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		PushDatumAsJson(&state, WJB_ELEM, typed, isnull, SPI_gettypeid(SPI_tuptable->tupdesc, 1), &pinned);
	}
	Jsonb *values = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
	UnpinSettings(&pinned);
	return text_to_cstring(ResourceIdFromKeyArray(values, list_length(h.key_names)));
}

// A table without key: its rows' ids digest every value, so a retype after alter `first`
// makes rows before and after unmatchable by id. Refuse rather than answer for another row.
void
CheckNoRetypeWithoutKey(const TableHistory &h, List *alters, int first)
{
	if (!h.keyless)
		return;
	for (int i = first; i < list_length(alters); i++)
		if (RetypesKey(h, alters, i)) {
			Alter *a = (Alter *) list_nth(alters, i);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a row of %s cannot be followed across a later change of a column's type", h.name),
					 errdetail("%s has no key: its rows are identified by all their values, which the type change "
							   "at %s rewrote.",
							   h.name, timestamptz_to_str(a->committed_at)),
					 errhint("Use table_at() for that moment instead.")));
		}
}

// Opens a cursor over the table's events between `from` (inclusive) and `until` (exclusive),
// committed at or before at (when bounded). With an id: only that row's events (including an
// UPDATE that moved a row to this key) and table-wide ones. with_context: also who made them.
Portal
OpenEvents(const TableHistory &h, const char *id, Position from, Position until, TimestampTz at, bool bounded,
		   bool with_context)
{
	Oid types[12];
	Datum values[12];
	char nulls[13] = "            ";
	FilterParams(h, types, values);
	const Oid more_types[6] = {INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID};
	const Datum more_values[6] = {Int64GetDatum(from.commit_seq),  Int64GetDatum(from.seq),
								  Int64GetDatum(until.commit_seq), Int64GetDatum(until.seq),
								  TimestampTzGetDatum(at),		   id != NULL ? CStringGetTextDatum(id) : (Datum) 0};
	memcpy(types + 6, more_types, sizeof(more_types));
	memcpy(values + 6, more_values, sizeof(more_values));
	if (id == NULL)
		nulls[11] = 'n';
	char *sql = psprintf(
		"SELECT %s WHERE %s"
		" AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.>=) ($7, $8)"
		" AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($9, $10)"
		" %s %s"
		" ORDER BY e.commit_seq, e.seq",
		with_context ? kEventColumns : kReplayColumns, TableEventsFilter(h),
		bounded ? "AND e.committed_at OPERATOR(pg_catalog.<=) $11" : "AND $11 IS NOT NULL",
		id != NULL ? "AND (e.resource_id OPERATOR(pg_catalog.=) $12 OR e.resource_id IS NULL"
					 " OR (e.details OPERATOR(pg_catalog.?) 'new_resource_id'"
					 " AND e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) $12))"
				   : "AND $12 IS NULL");
	Portal portal = SPI_cursor_open_with_args(NULL, sql, 12, types, values, nulls, true, 0);
	if (portal == NULL)
		elog(ERROR, "could not open the events of %s", h.name);
	return portal;
}

// Replays the table's events in [from, kEnd) committed at or before at into r.
void
ReplayTableEvents(const TableHistory &h, Position from, TimestampTz at, Replayer *r)
{
	Oid types[12];
	Datum values[12];
	FilterParams(h, types, values);
	const Oid more_types[5] = {INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID};
	const Datum more_values[5] = {Int64GetDatum(from.commit_seq), Int64GetDatum(from.seq),
								  Int64GetDatum(kEnd.commit_seq), Int64GetDatum(kEnd.seq), TimestampTzGetDatum(at)};
	memcpy(types + 6, more_types, sizeof(more_types));
	memcpy(values + 6, more_values, sizeof(more_values));
	char *sql = psprintf("SELECT %s WHERE %s"
						 " AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.>=) ($7, $8)"
						 " AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($9, $10)"
						 " AND e.committed_at OPERATOR(pg_catalog.<=) $11"
						 " ORDER BY e.commit_seq, e.seq",
						 kReplayColumns, TableEventsFilter(h));
	ParamListInfo params = makeParamList(11);
	for (int i = 0; i < 11; i++) {
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	ReplayReceiver receiver;
	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = ReplayReceive;
	receiver.pub.rStartup = ReplayStartup;
	receiver.pub.rShutdown = ReplayShutdown;
	receiver.pub.rDestroy = ReplayDestroy;
	receiver.pub.mydest = DestNone;
	receiver.replayer = r;
	receiver.per_event = AllocSetContextCreate(CurrentMemoryContext, "audit_chain replay event", ALLOCSET_DEFAULT_SIZES);
	SPIExecuteOptions options;
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = &receiver.pub;
	int rc = SPI_execute_extended(sql, &options);
	if (rc != SPI_OK_UTILITY)  // what SPI says of a SELECT whose rows went to another receiver
		elog(ERROR, "could not read the events of %s: %d", h.name, rc);
	MemoryContextDelete(receiver.per_event);
}

char *
When(TimestampTz at)
{
	return pstrdup(timestamptz_to_str(at));
}

// Bounds the recursion through chains of key changes.
constexpr int kMaxKeyChanges = 10000;

struct ReplayScope {
	const TableHistory *h;
	List *alters;     // ALTER TABLE events from start on
	Position start;   // the TRACK event the replay starts at
	TimestampTz at;
	bool bounded;
	const char *when;
	bool lenient;
};

// The image of row id after the events in [start, until) committed at or before at (NULL:
// the row does not exist). A row that arrived under this key by a key change is followed
// back to its previous key. Errors when the image cannot be known, unless lenient.
Jsonb *
ImageBefore(const ReplayScope &s, const char *id, Position until, const ReplayEvent *about, int depth)
{
	if (depth > kMaxKeyChanges)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row %s of %s changed its key more than %d times", id, s.h->name, kMaxKeyChanges)));
	check_stack_depth();
	Replayer r;
	ReplayInit(&r, KeyNamesBefore(*s.h, s.alters), KeylessBefore(*s.h, s.alters), s.h->name);
	r.lenient = s.lenient;
	Portal portal = OpenEvents(*s.h, id, s.start, until, s.at, s.bounded, false);
	for (;;) {
		SPI_cursor_fetch(portal, true, kFetchBatch);
		if (SPI_processed == 0)
			break;
		SPITupleTable *batch = SPI_tuptable;  // the recursion below replaces SPI_tuptable
		uint64 n = SPI_processed;
		for (uint64 i = 0; i < n; i++) {
			ReplayEvent e;
			ToReplayEvent(batch->vals[i], batch->tupdesc, &e);
			if (e.resource_id != NULL && strcmp(e.resource_id, id) != 0 && strcmp(e.action, "UPDATE") == 0) {
				// Arrival by key change: the row's image is its previous key's, just before.
				Jsonb *previous = ImageBefore(s, e.resource_id, Position{e.commit_seq, e.seq}, &e, depth + 1);
				if (previous != NULL)
					ReplaySetRow(&r, e.resource_id, previous);
			}
			const char *after;
			ReplayApply(&r, &e, &after);
		}
		SPI_freetuptable(batch);
	}
	SPI_cursor_close(portal);
	Jsonb *image = about != NULL ? ReplayRowFor(&r, about, s.when) : ReplayRowAt(&r, id, s.when);
	if (image == NULL)
		return NULL;
	Jsonb *copy = (Jsonb *) palloc(VARSIZE(image));
	memcpy(copy, image, VARSIZE(image));
	return copy;
}

// The row with this key as committed at `at`, in the caller's context.
Jsonb *
RowAt(const TableHistory &h, Jsonb *key, TimestampTz at, bool today_names, MemoryContext result_cxt)
{
	const char *when = When(at);
	Position start = TrackingStart(h, at, when);
	List *alters = AltersFrom(h, start);
	int first_after = FirstAlterAfter(alters, at);
	CheckNoRetypeWithoutKey(h, alters, first_after);
	if (Alter *change = KeyChangeFrom(alters, first_after))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the key columns of %s changed after the moment asked about", h.name),
				 errdetail("Rows are identified by their key of the time; the key columns changed at %s: %s.",
						   timestamptz_to_str(change->committed_at), KeyChangeText(change)),
				 errhint("table_at() reconstructs that moment without a row's key.")));
	const char *id = KeyToIdAsOf(h, key, alters, first_after);
	if (id == NULL)
		return NULL;  // no row could have had this key then
	ReplayScope scope = {&h, alters, start, at, true, when, false};
	Jsonb *image = ImageBefore(scope, id, kEnd, NULL, 0);
	if (image != NULL && today_names)
		image = InTodaysNames(h, image, alters, first_after);
	Jsonb *result = NULL;
	if (image != NULL) {
		result = (Jsonb *) MemoryContextAlloc(result_cxt, VARSIZE(image));
		memcpy(result, image, VARSIZE(image));
	}
	return result;
}

struct EmitRows {
	const TableHistory *h;
	Tuplestorestate *store;
	TupleDesc desc;
	List *alters;
	int first_after;  // -1: names as they were
};

void
EmitRow(Jsonb *image, void *arg)
{
	EmitRows *emit = (EmitRows *) arg;
	if (emit->first_after >= 0)
		image = InTodaysNames(*emit->h, image, emit->alters, emit->first_after);
	Datum values[1] = {JsonbPGetDatum(image)};
	bool nulls[1] = {false};
	tuplestore_putvalues(emit->store, emit->desc, values, nulls);
}

bool
IsRewrite(const ReplayEvent &e)
{
	return strcmp(e.action, "ALTER TABLE") == 0 && e.details != NULL &&
		   JsonbMember(&e.details->root, "rebaseline") != NULL;
}

}  // namespace

namespace audit_chain::pg {

// Every way the row's key was written: today's, and the one of each era before a retype of
// a key column. A retype does not change which row a key denotes, so every one is this row's.
List *
KeyIdsOfAllEras(const TableHistory &h, Jsonb *key)
{
	List *alters = AltersFrom(h, kStart);
	// Before a change of the key columns, the row had another id, and today's id may then have
	// been another row's ("5" is id 5 then and code 5 now): erasing under it would erase the
	// wrong row's values.
	if (Alter *change = KeyChangeFrom(alters, 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the key columns of %s changed since tracking began: its rows cannot be found by today's key "
						"in the events before",
						h.name),
				 errdetail("The key columns changed at %s: %s.", timestamptz_to_str(change->committed_at),
						   KeyChangeText(change)),
				 errhint("Erase the row's values with erase_value().")));
	List *ids = list_make1(KeyToId(h, key));
	for (int i = 0; i < list_length(alters); i++)
		if (RetypesKey(h, alters, i)) {
			char *id = KeyToIdAsOf(h, key, alters, i);
			if (id == NULL)
				continue;
			ListCell *lc;
			bool seen = false;
			foreach (lc, ids)
				seen |= strcmp((const char *) lfirst(lc), id) == 0;
			if (!seen)
				ids = lappend(ids, id);
		}
	return ids;
}

}  // namespace audit_chain::pg

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_row_at);
PG_FUNCTION_INFO_V1(audit_chain_table_at);
PG_FUNCTION_INFO_V1(audit_chain_history);

// row_at(target regclass, key jsonb, at timestamptz, current_names boolean DEFAULT false) RETURNS jsonb
Datum
audit_chain_row_at(PG_FUNCTION_ARGS)
{
	// NULL is no answer: it would read as "the row did not exist".
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target, key, at and current_names must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	Jsonb *key = PG_GETARG_JSONB_P(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	bool today_names = PG_GETARG_BOOL(3);
	(void) GetCatalogOids(false);
	MemoryContext caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	TableHistory h = LoadTable(relid);
	Jsonb *image = RowAt(h, key, at, today_names, caller);
	SPI_finish();
	if (image == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(image);
}

// table_at(target regclass, at timestamptz, current_names boolean DEFAULT false) RETURNS SETOF jsonb
Datum
audit_chain_table_at(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target, at and current_names must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
	bool today_names = PG_GETARG_BOOL(2);
	(void) GetCatalogOids(false);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	TableHistory h = LoadTable(relid);
	const char *when = When(at);
	Position start = TrackingStart(h, at, when);
	List *alters = AltersFrom(h, start);
	int first_after = FirstAlterAfter(alters, at);
	Replayer r;
	ReplayInit(&r, KeyNamesBefore(h, alters), KeylessBefore(h, alters), h.name);
	ReplayTableEvents(h, start, at, &r);
	EmitRows emit = {&h, rsinfo->setResult, rsinfo->setDesc, alters, today_names ? first_after : -1};
	MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	ReplayForEachRow(&r, EmitRow, &emit, when);
	MemoryContextSwitchTo(old);
	SPI_finish();
	return (Datum) 0;
}

// history(target regclass, key jsonb): every version recorded under one key, oldest first.
Datum
audit_chain_history(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target and key must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	Jsonb *key = PG_GETARG_JSONB_P(1);
	(void) GetCatalogOids(false);
	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext per_query = rsinfo->econtext->ecxt_per_query_memory;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	TableHistory h = LoadTable(relid);
	List *alters = AltersFrom(h, kStart);
	CheckNoRetypeWithoutKey(h, alters, 0);
	ListCell *alc;
	foreach (alc, alters) {
		const Alter *change = (const Alter *) lfirst(alc);
		if (JsonbMember(&change->details->root, "key_changed") != NULL)
			ereport(NOTICE,
					(errmsg("the key columns of %s changed: this row's events from before are recorded under its key "
							"of the time and are not shown",
							h.name),
					 errdetail("The key columns changed at %s: %s.", timestamptz_to_str(change->committed_at),
							   KeyChangeText(change))));
	}
	ReplayScope scope = {&h, alters, kStart, 0, false, "its arrival", true};
	Replayer r;
	ReplayInit(&r, KeyNamesBefore(h, alters), KeylessBefore(h, alters), h.name);
	r.lenient = true;

	// A retype of a key column changes how the row's key is written: the history is read in
	// eras between such retypes, each under the key as written then. Before the last change of
	// the key columns, today's key named no row (or another one): the history starts there.
	int era_first = 0;  // the first alter after the era's start
	Position era_start = kStart;
	for (int i = 0; i < list_length(alters); i++)
		if (JsonbMember(&((Alter *) list_nth(alters, i))->details->root, "key_changed") != NULL) {
			era_first = i + 1;
			era_start = ((Alter *) list_nth(alters, i))->position;
		}
	for (bool last_era = false; !last_era;) {
	int boundary = era_first;
	while (boundary < list_length(alters) && !RetypesKey(h, alters, boundary))
		boundary++;
	last_era = h.keyless || boundary >= list_length(alters);
	Position era_end = last_era ? kEnd : ((Alter *) list_nth(alters, boundary))->position;
	const char *id = KeyToIdAsOf(h, key, alters, era_first);
	// A key no row could have had in that era (5.50 while the column was an integer) has no
	// events there.
	Portal portal = id != NULL ? OpenEvents(h, id, era_start, era_end, 0, false, true) : NULL;
	for (; portal != NULL;) {
		SPI_cursor_fetch(portal, true, kFetchBatch);
		if (SPI_processed == 0)
			break;
		SPITupleTable *batch = SPI_tuptable;  // nested queries below replace SPI_tuptable
		uint64 n = SPI_processed;
		for (uint64 i = 0; i < n; i++) {
			HeapTuple t = batch->vals[i];
			TupleDesc d = batch->tupdesc;
			ReplayEvent e;
			ToReplayEvent(t, d, &e);
			if (e.resource_id != NULL && strcmp(e.resource_id, id) != 0 && strcmp(e.action, "UPDATE") == 0) {
				// Arrival by key change: take the image the row had under its previous key.
				Jsonb *previous = ImageBefore(scope, e.resource_id, Position{e.commit_seq, e.seq}, &e, 1);
				if (previous != NULL)
					ReplaySetRow(&r, e.resource_id, previous);
			}
			bool existed = ReplayPeek(&r, id) != NULL;
			bool drops_columns = ReplayDropsColumns(&e, ReplayPeek(&r, id));
			const char *after;
			ReplayApply(&r, &e, &after);
			// Table-wide events matter to this row only if it existed when they happened. An
			// ALTER TABLE that rewrote the rows is shown by the BASELINE event that follows it;
			// a CONFIGURE only when it stopped the recording of some of the row's columns.
			if (e.resource_id == NULL &&
				!(existed && !IsRewrite(e) &&
				  (strcmp(e.action, "TRUNCATE") == 0 || strcmp(e.action, "ALTER TABLE") == 0 ||
				   strcmp(e.action, "UNTRACK") == 0 || strcmp(e.action, "DROP TABLE") == 0 ||
				   strcmp(e.action, "DISABLE TRIGGER") == 0 || strcmp(e.action, "DROP TRIGGER") == 0 ||
				   drops_columns)))
				continue;
			// The row after the change: under its new key when the change moved it.
			Jsonb *row = ReplayPeek(&r, after != NULL ? after : id);
			Datum values[12];
			bool nulls[12] = {};
			bool isnull;
			MemoryContext old = MemoryContextSwitchTo(per_query);
			values[0] = Int32GetDatum(DatumGetInt32(SPI_getbinval(t, d, kQChainId, &isnull)));
			values[1] = Int64GetDatum(e.seq);
			values[2] = Int64GetDatum(e.commit_seq);
			values[3] = TimestampTzGetDatum(e.committed_at);
			values[4] = SPI_getbinval(t, d, kQXid, &isnull);
			values[5] = CStringGetTextDatum(e.action);
			char *actor = GetText(t, d, kQActorId);
			char *db_user = GetText(t, d, kQDbUser);
			nulls[6] = actor == NULL;
			values[6] = actor ? CStringGetTextDatum(actor) : (Datum) 0;
			nulls[7] = db_user == NULL;
			values[7] = db_user ? CStringGetTextDatum(db_user) : (Datum) 0;
			nulls[8] = e.old_data == NULL;
			values[8] = e.old_data ? JsonbPGetDatum(e.old_data) : (Datum) 0;
			nulls[9] = e.new_data == NULL;
			values[9] = e.new_data ? JsonbPGetDatum(e.new_data) : (Datum) 0;
			nulls[10] = row == NULL;
			values[10] = row ? JsonbPGetDatum(row) : (Datum) 0;
			nulls[11] = e.resource_id == NULL;
			values[11] = e.resource_id ? CStringGetTextDatum(e.resource_id) : (Datum) 0;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
		}
		SPI_freetuptable(batch);
	}
	if (portal != NULL)
		SPI_cursor_close(portal);
	era_first = boundary + 1;
	era_start = era_end;
	}
	SPI_finish();
	return (Datum) 0;
}
}
