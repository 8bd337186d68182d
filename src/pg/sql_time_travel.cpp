// src/pg/sql_time_travel.cpp: audit_chain.history(), row_at() and table_at().
//
// "As of T" is the state committed at T: events apply in commit order up to the last
// transaction whose committed_at is at or before T. Replay starts at the last TRACK event
// of the table at or before T (its tracking period), follows renames of the table and its
// columns, and follows a row across changes of its key.
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
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

using namespace audit_chain::pg;

namespace {

constexpr int kFetchBatch = 1000;

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
};

constexpr char kEventColumns[] =
	"e.commit_seq, e.seq, e.committed_at, e.action, e.resource_id, e.old_data, e.new_data, e.details, "
	"e.chain_id, e.xid, c.actor_id, c.current_user_name "
	"FROM audit_chain.events e "
	"JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref "
	"LEFT JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id ";

struct Position {
	int64 commit_seq;
	int64 seq;
};

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
	e->action = GetText(t, d, kQAction);
	e->resource_id = GetText(t, d, kQResourceId);
	e->old_data = GetJsonb(t, d, kQOldData);
	e->new_data = GetJsonb(t, d, kQNewData);
	e->details = GetJsonb(t, d, kQDetails);
}

}  // namespace

namespace audit_chain::pg {

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
	table_close(rel, AccessShareLock);

	// The names its events were recorded under: today's, and those it was renamed from.
	Oid types[1] = {TEXTOID};
	Datum values[1] = {CStringGetTextDatum(h.name)};
	int rc = SPI_execute_with_args(
		"WITH RECURSIVE names(n) AS ("
		"  SELECT $1::pg_catalog.text"
		"  UNION"
		"  SELECT e.details OPERATOR(pg_catalog.->>) 'renamed_from' FROM names"
		"    JOIN audit_chain.resources r ON r.resource_type OPERATOR(pg_catalog.=) names.n"
		"    JOIN audit_chain.events e ON e.resource_ref OPERATOR(pg_catalog.=) r.resource_ref"
		"   WHERE e.resource_id IS NULL AND e.action OPERATOR(pg_catalog.=) 'ALTER TABLE'"
		"     AND e.details OPERATOR(pg_catalog.?) 'renamed_from')"
		"SELECT pg_catalog.array_agg(n) FROM names",
		1, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the names of %s", h.name);
	bool isnull;
	Datum names = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	h.names = datumCopy(names, false, -1);
	return h;
}

}  // namespace audit_chain::pg

namespace {

// The TRACK event that starts the tracking period containing at; errors if there is none.
Position
TrackingStart(const TableHistory &h, TimestampTz at, const char *when)
{
	Oid types[2] = {TEXTARRAYOID, TIMESTAMPTZOID};
	Datum values[2] = {h.names, TimestampTzGetDatum(at)};
	int rc = SPI_execute_with_args(
		"SELECT e.commit_seq, e.seq FROM audit_chain.events e"
		"  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
		" WHERE r.resource_type OPERATOR(pg_catalog.=) ANY ($1) AND e.resource_id IS NULL"
		"   AND e.action OPERATOR(pg_catalog.=) 'TRACK' AND e.committed_at OPERATOR(pg_catalog.<=) $2"
		" ORDER BY e.commit_seq DESC, e.seq DESC LIMIT 1",
		2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the tracking history of %s", h.name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s was not tracked at %s", h.name, when),
				 errdetail("Its audit history starts later, or it was never tracked.")));
	Position p;
	p.commit_seq = GetInt64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	p.seq = GetInt64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	return p;
}

// The position of the table's last event committed at or before at ({0, 0} if none).
Position
LastPositionAt(const TableHistory &h, TimestampTz at)
{
	Oid types[2] = {TEXTARRAYOID, TIMESTAMPTZOID};
	Datum values[2] = {h.names, TimestampTzGetDatum(at)};
	int rc = SPI_execute_with_args(
		"SELECT e.commit_seq, e.seq FROM audit_chain.events e"
		"  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
		" WHERE r.resource_type OPERATOR(pg_catalog.=) ANY ($1) AND e.resource_id IS NULL"
		"   AND e.committed_at OPERATOR(pg_catalog.<=) $2"
		" ORDER BY e.commit_seq DESC, e.seq DESC LIMIT 1",
		2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the history of %s", h.name);
	if (SPI_processed == 0)
		return Position{0, 0};
	return Position{GetInt64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
					GetInt64(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)};
}

// The column renames recorded after a position, in order (a list of Jsonb {"old": "new"}).
List *
RenamesAfter(const TableHistory &h, Position from, bool inclusive)
{
	Oid types[3] = {TEXTARRAYOID, INT8OID, INT8OID};
	Datum values[3] = {h.names, Int64GetDatum(from.commit_seq), Int64GetDatum(from.seq)};
	char *sql = psprintf(
		"SELECT e.details OPERATOR(pg_catalog.->) 'columns_renamed' FROM audit_chain.events e"
		"  JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref"
		" WHERE r.resource_type OPERATOR(pg_catalog.=) ANY ($1) AND e.resource_id IS NULL"
		"   AND e.action OPERATOR(pg_catalog.=) 'ALTER TABLE' AND e.details OPERATOR(pg_catalog.?) 'columns_renamed'"
		"   AND (e.commit_seq, e.seq) %s ($2, $3)"
		" ORDER BY e.commit_seq, e.seq",
		inclusive ? ">=" : ">");
	int rc = SPI_execute_with_args(sql, 3, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the schema history of %s", h.name);
	List *renames = NIL;
	for (uint64 i = 0; i < SPI_processed; i++)
		renames = lappend(renames, GetJsonb(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return renames;
}

const char *
RenamedTo(Jsonb *renames, const char *name)
{
	return JsonbStringMember(&renames->root, name);
}

// Today's key column names as they were at the start of the replay (renames undone).
List *
KeyNamesAt(const TableHistory &h, Position start)
{
	List *renames = RenamesAfter(h, start, true);
	List *names = list_copy(h.key_names);
	for (int i = list_length(renames) - 1; i >= 0; i--) {
		Jsonb *map = (Jsonb *) list_nth(renames, i);
		ListCell *lc;
		foreach (lc, names) {
			// Find old such that map[old] == current name.
			JsonbIterator *it = JsonbIteratorInit(&map->root);
			JsonbValue v;
			JsonbIteratorToken tok;
			char *old_name = NULL;
			while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
				if (tok == WJB_KEY)
					old_name = pnstrdup(v.val.string.val, v.val.string.len);
				else if (tok == WJB_VALUE && v.type == jbvString &&
						 strncmp(v.val.string.val, (const char *) lfirst(lc), v.val.string.len) == 0 &&
						 strlen((const char *) lfirst(lc)) == (size_t) v.val.string.len)
					lfirst(lc) = old_name;
			}
		}
	}
	return names;
}

// {"name at T": "name today", ...} from the renames recorded after position `after`.
Jsonb *
RenamesToToday(const TableHistory &h, Position after)
{
	List *renames = RenamesAfter(h, after, false);
	if (renames == NIL)
		return NULL;
	// Follow every column name forward through each rename.
	List *from = NIL, *to = NIL;
	ListCell *lc;
	foreach (lc, renames) {
		Jsonb *map = (Jsonb *) lfirst(lc);
		ListCell *a;
		foreach (a, to) {
			const char *next = RenamedTo(map, (const char *) lfirst(a));
			if (next != NULL)
				lfirst(a) = (void *) next;
		}
		JsonbIterator *it = JsonbIteratorInit(&map->root);
		JsonbValue v;
		JsonbIteratorToken tok;
		char *key = NULL;
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
			if (tok == WJB_KEY) {
				key = pnstrdup(v.val.string.val, v.val.string.len);
			} else if (tok == WJB_VALUE && v.type == jbvString) {
				bool known = false;
				ListCell *b;
				foreach (b, to)
					known |= strcmp((const char *) lfirst(b), pnstrdup(v.val.string.val, v.val.string.len)) == 0;
				if (!known) {
					from = lappend(from, key);
					to = lappend(to, pnstrdup(v.val.string.val, v.val.string.len));
				}
			}
		}
	}
	JsonbParseState *state = NULL;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	ListCell *a, *b;
	forboth (a, from, b, to) {
		JsonbValue k, v;
		k.type = v.type = jbvString;
		k.val.string.val = (char *) lfirst(a);
		k.val.string.len = (int) strlen((char *) lfirst(a));
		v.val.string.val = (char *) lfirst(b);
		v.val.string.len = (int) strlen((char *) lfirst(b));
		(void) pushJsonbValue(&state, WJB_KEY, &k);
		(void) pushJsonbValue(&state, WJB_VALUE, &v);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

}  // namespace

namespace audit_chain::pg {

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

// Opens a cursor over the events of the table between `from` (inclusive or not) and
// `until` (exclusive), committed at or before at (when bounded). With an id: only that row's
// events (including those that moved a row to this key) and table-wide ones.
Portal
OpenEvents(const TableHistory &h, const char *id, Position from, bool inclusive, Position until, TimestampTz at,
		   bool bounded)
{
	Oid types[7] = {TEXTARRAYOID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID, INT8OID, INT8OID};
	Datum values[7] = {h.names,
					   Int64GetDatum(from.commit_seq),
					   Int64GetDatum(from.seq),
					   TimestampTzGetDatum(at),
					   id != NULL ? CStringGetTextDatum(id) : (Datum) 0,
					   Int64GetDatum(until.commit_seq),
					   Int64GetDatum(until.seq)};
	char nulls[8] = "       ";
	if (id == NULL)
		nulls[4] = 'n';
	char *sql = psprintf(
		"SELECT %s WHERE r.resource_type OPERATOR(pg_catalog.=) ANY ($1)"
		" AND (e.commit_seq, e.seq) %s ($2, $3) AND (e.commit_seq, e.seq) OPERATOR(pg_catalog.<) ($6, $7)"
		" %s %s"
		" ORDER BY e.commit_seq, e.seq",
		kEventColumns, inclusive ? ">=" : ">",
		bounded ? "AND e.committed_at OPERATOR(pg_catalog.<=) $4" : "AND $4 IS NOT NULL",
		id != NULL ? "AND (e.resource_id OPERATOR(pg_catalog.=) $5 OR e.resource_id IS NULL"
					 " OR (e.details OPERATOR(pg_catalog.?) 'new_resource_id'"
					 " AND e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) $5))"
				   : "AND $5 IS NULL");
	Portal portal = SPI_cursor_open_with_args(NULL, sql, 7, types, values, nulls, true, 0);
	if (portal == NULL)
		elog(ERROR, "could not open the events of %s", h.name);
	return portal;
}

constexpr Position kEnd = {PG_INT64_MAX, PG_INT64_MAX};

char *
When(TimestampTz at)
{
	return pstrdup(timestamptz_to_str(at));
}

// Bounds the recursion through chains of key changes.
constexpr int kMaxKeyChanges = 10000;

// The image of row id after the events in [start, until) committed at or before at (NULL:
// the row does not exist). A row that arrived under this key by a key change is followed
// back to its previous key. Errors when the image cannot be known, unless lenient.
Jsonb *
ImageBefore(const TableHistory &h, const char *id, Position start, Position until, TimestampTz at, bool bounded,
			const char *when, bool lenient, int depth)
{
	if (depth > kMaxKeyChanges)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row %s of %s changed its key more than %d times", id, h.name, kMaxKeyChanges)));
	check_stack_depth();
	Replayer r;
	ReplayInit(&r, KeyNamesAt(h, start), h.keyless, h.name);
	r.lenient = lenient;
	Portal portal = OpenEvents(h, id, start, true, until, at, bounded);
	for (;;) {
		SPI_cursor_fetch(portal, true, kFetchBatch);
		if (SPI_processed == 0)
			break;
		SPITupleTable *batch = SPI_tuptable;
		uint64 n = SPI_processed;
		for (uint64 i = 0; i < n; i++) {
			ReplayEvent e;
			ToReplayEvent(batch->vals[i], batch->tupdesc, &e);
			if (e.resource_id != NULL && strcmp(e.resource_id, id) != 0 && strcmp(e.action, "UPDATE") == 0) {
				// Arrival by key change: the row's image is its previous key's, just before.
				Jsonb *previous = ImageBefore(h, e.resource_id, start, Position{e.commit_seq, e.seq}, at, bounded,
											  when, lenient, depth + 1);
				if (previous != NULL)
					ReplaySetRow(&r, e.resource_id, previous);
			}
			const char *after;
			ReplayApply(&r, &e, &after);
		}
		SPI_freetuptable(batch);
	}
	SPI_cursor_close(portal);
	Jsonb *image = ReplayRowAt(&r, id, when);
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
	const char *id = KeyToId(h, key);
	Jsonb *image = ImageBefore(h, id, start, kEnd, at, true, when, false, 0);
	if (image != NULL && today_names) {
		Jsonb *renames = RenamesToToday(h, LastPositionAt(h, at));
		if (renames != NULL)
			image = RenameKeys(image, renames);
	}
	Jsonb *result = NULL;
	if (image != NULL) {
		result = (Jsonb *) MemoryContextAlloc(result_cxt, VARSIZE(image));
		memcpy(result, image, VARSIZE(image));
	}
	return result;
}

struct EmitRows {
	Tuplestorestate *store;
	TupleDesc desc;
	Jsonb *renames;
};

void
EmitRow(Jsonb *image, void *arg)
{
	EmitRows *emit = (EmitRows *) arg;
	if (emit->renames != NULL)
		image = RenameKeys(image, emit->renames);
	Datum values[1] = {JsonbPGetDatum(image)};
	bool nulls[1] = {false};
	tuplestore_putvalues(emit->store, emit->desc, values, nulls);
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(audit_chain_row_at);
PG_FUNCTION_INFO_V1(audit_chain_table_at);
PG_FUNCTION_INFO_V1(audit_chain_history);

// row_at(target regclass, key jsonb, at timestamptz, current_names boolean DEFAULT false) RETURNS jsonb
Datum
audit_chain_row_at(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	Oid relid = PG_GETARG_OID(0);
	Jsonb *key = PG_GETARG_JSONB_P(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	bool today_names = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);
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
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target and at must not be NULL")));
	Oid relid = PG_GETARG_OID(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
	bool today_names = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	(void) GetCatalogOids(false);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	TableHistory h = LoadTable(relid);
	const char *when = When(at);
	Position start = TrackingStart(h, at, when);
	Replayer r;
	ReplayInit(&r, KeyNamesAt(h, start), h.keyless, h.name);
	Position p = start;
	Portal portal = OpenEvents(h, NULL, start, true, kEnd, at, true);
	for (;;) {
		SPI_cursor_fetch(portal, true, kFetchBatch);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++) {
			CHECK_FOR_INTERRUPTS();
			ReplayEvent e;
			ToReplayEvent(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, &e);
			const char *after;
			ReplayApply(&r, &e, &after);
			p = Position{e.commit_seq, e.seq};
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	EmitRows emit = {rsinfo->setResult, rsinfo->setDesc, today_names ? RenamesToToday(h, p) : NULL};
	MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	ReplayForEachRow(&r, EmitRow, &emit, when);
	MemoryContextSwitchTo(old);
	SPI_finish();
	return (Datum) 0;
}

// history(target regclass, key jsonb): every version of one row, oldest first.
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
	const char *id = KeyToId(h, key);
	Position first = {0, 0};
	Replayer r;
	ReplayInit(&r, KeyNamesAt(h, first), h.keyless, h.name);
	r.lenient = true;

	Position p = first;
	bool inclusive = true;
	for (;;) {
		Portal portal = OpenEvents(h, id, p, inclusive, kEnd, 0, false);
		bool rekeyed = false;
		for (;;) {
			SPI_cursor_fetch(portal, true, kFetchBatch);
			if (SPI_processed == 0)
				break;
			SPITupleTable *batch = SPI_tuptable;  // nested queries below replace SPI_tuptable
			uint64 n = SPI_processed;
			for (uint64 i = 0; i < n && !rekeyed; i++) {
				HeapTuple t = batch->vals[i];
				TupleDesc d = batch->tupdesc;
				ReplayEvent e;
				ToReplayEvent(t, d, &e);
				if (e.resource_id != NULL && strcmp(e.resource_id, id) != 0 && strcmp(e.action, "UPDATE") == 0) {
					// Arrival by key change: take the image the row had under its previous key.
					Jsonb *previous = ImageBefore(h, e.resource_id, first, Position{e.commit_seq, e.seq}, 0, false,
												  "its arrival", true, 1);
					if (previous != NULL)
						ReplaySetRow(&r, e.resource_id, previous);
				}
				bool existed = ReplayPeek(&r, id) != NULL;
				const char *after;
				ReplayApply(&r, &e, &after);
				p = Position{e.commit_seq, e.seq};
				// Table-wide events matter to this row only if it existed when they happened. An
				// ALTER TABLE that rewrote the rows is shown by the BASELINE event that follows it.
				bool rewrite = strcmp(e.action, "ALTER TABLE") == 0 && e.details != NULL &&
							   JsonbMember(&e.details->root, "rebaseline") != NULL;
				if (e.resource_id == NULL && !(existed && !rewrite &&
											   (strcmp(e.action, "TRUNCATE") == 0 || strcmp(e.action, "ALTER TABLE") == 0 ||
												strcmp(e.action, "UNTRACK") == 0 || strcmp(e.action, "DROP TABLE") == 0)))
					continue;
				const char *now_id = after != NULL ? after : id;
				Jsonb *row = ReplayPeek(&r, now_id);
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
				if (after != NULL && e.resource_id != NULL && strcmp(after, id) != 0) {
					id = pstrdup(after);
					rekeyed = true;
				}
			}
			SPI_freetuptable(batch);
			if (rekeyed)
				break;
		}
		SPI_cursor_close(portal);
		if (!rekeyed)
			break;
		inclusive = false;
	}
	SPI_finish();
	return (Datum) 0;
}
}
