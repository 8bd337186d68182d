// src/pg/relation_info.cpp: per-relation capture metadata.
#include "pg/relation_info.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_trigger.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "catalog/pg_index.h"
#include "utils/varlena.h"
}

#include "pg/guc.hpp"
#include "pg/jsonb_util.hpp"
#include "pg/registry.hpp"

namespace audit_chain::pg {

namespace {

HTAB *relation_cache = NULL;

// The table whose trigger was cloned into this partition's trigger (following tgparentid).
Oid
TrackedRoot(Relation rel, const Trigger *trigger)
{
	Oid relid = RelationGetRelid(rel);
	Oid tgoid = trigger->tgoid;
	Relation tgrel = table_open(TriggerRelationId, AccessShareLock);
	for (int guard = 0; guard < 1000; guard++) {
		ScanKeyData key;
		ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(tgoid));
		SysScanDesc scan = systable_beginscan(tgrel, TriggerOidIndexId, true, NULL, 1, &key);
		HeapTuple tuple = systable_getnext(scan);
		Oid parent = InvalidOid;
		if (HeapTupleIsValid(tuple)) {
			Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
			relid = form->tgrelid;
			parent = form->tgparentid;
		}
		systable_endscan(scan);
		if (!OidIsValid(parent))
			break;
		tgoid = parent;
	}
	table_close(tgrel, AccessShareLock);
	return relid;
}

// The primary key, DEFERRABLE or not (the relcache's primary key skips deferrable ones).
Oid
PrimaryKeyIndex(Relation rel)
{
	ListCell *lc;
	foreach (lc, RelationGetIndexList(rel)) {
		HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		if (!HeapTupleIsValid(tuple))
			continue;
		bool primary = ((Form_pg_index) GETSTRUCT(tuple))->indisprimary;
		ReleaseSysCache(tuple);
		if (primary)
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

// Primary key, else the replica identity index, else none (whole-row identity).
void
FindKey(Relation rel, RelationInfo *info)
{
	Oid index_oid = PrimaryKeyIndex(rel);
	if (!OidIsValid(index_oid))
		index_oid = RelationGetReplicaIndex(rel);
	info->nkeys = 0;
	info->key_attnums = NULL;
	if (!OidIsValid(index_oid))
		return;
	Relation index = index_open(index_oid, AccessShareLock);
	int n = index->rd_index->indnkeyatts;
	info->key_attnums = (AttrNumber *) palloc(sizeof(AttrNumber) * n);
	for (int i = 0; i < n; i++)
		info->key_attnums[i] = index->rd_index->indkey.values[i];
	info->nkeys = n;
	index_close(index, AccessShareLock);
}

// Fills info in CurrentMemoryContext.
bool
InJsonbList(Jsonb *settings, const char *list, const char *name)
{
	JsonbValue *v = settings != NULL ? JsonbMember(&settings->root, list) : NULL;
	if (v == NULL || v->type != jbvBinary)
		return false;
	int n = (int) JsonContainerSize(v->val.binary.data);
	for (int i = 0; i < n; i++) {
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);
		if (e != NULL && e->type == jbvString && (size_t) e->val.string.len == strlen(name) &&
			memcmp(e->val.string.val, name, e->val.string.len) == 0)
			return true;
	}
	return false;
}

// Per-column policies: the table's settings first, then the default sensitive names (which
// never apply to key columns: the key identifies the row in time travel).
void
ComputePolicies(RelationInfo *info)
{
	RegistryEntry entry;
	Jsonb *settings = RegistryGet(info->root_relid, &entry) ? entry.settings : NULL;
	info->any_excluded = false;
	for (int i = 0; i < info->natts; i++) {
		ColumnInfo &col = info->columns[i];
		if (col.name == NULL)
			continue;
		bool is_key = false;
		for (int k = 0; k < info->nkeys; k++)
			is_key |= info->key_attnums[k] == i + 1;
		if (InJsonbList(settings, "record", col.name))
			col.policy = ColumnPolicy::kRecord;
		else if (InJsonbList(settings, "exclude", col.name))
			col.policy = ColumnPolicy::kExclude;
		else if (InJsonbList(settings, "redact", col.name))
			col.policy = ColumnPolicy::kRedact;
		else if (InJsonbList(settings, "hash", col.name))
			col.policy = ColumnPolicy::kHash;
		else if (!is_key && InDefaultSensitiveList(col.name))
			col.policy = ColumnPolicy::kRedact;
		else
			col.policy = ColumnPolicy::kRecord;
		info->any_excluded |= col.policy == ColumnPolicy::kExclude;
	}
	info->policy_generation = policy_settings_generation;
}

void
Fill(RelationInfo *info, Relation rel, Oid root_relid)
{
	info->relid = RelationGetRelid(rel);
	info->root_relid = root_relid;
	info->resource_type = QualifiedRelationName(info->root_relid);

	TupleDesc desc = RelationGetDescr(rel);
	info->natts = desc->natts;
	info->columns = (ColumnInfo *) palloc0(sizeof(ColumnInfo) * desc->natts);
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped)
			continue;
		info->columns[i].name = pstrdup(NameStr(att->attname));
		info->columns[i].typid = att->atttypid;
	}
	FindKey(rel, info);
	ComputePolicies(info);
	info->valid = true;
}

void
Build(RelationInfo *info, Relation rel, const Trigger *trigger)
{
	if (info->cxt == NULL)
		info->cxt = AllocSetContextCreate(CacheMemoryContext, "audit_chain relation info", ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(info->cxt);
	MemoryContext cxt = info->cxt;
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Fill(info, rel, TrackedRoot(rel, trigger));
	info->cxt = cxt;
	MemoryContextSwitchTo(old);
}

}  // namespace

char *
QualifiedRelationName(Oid relid)
{
	char *schema = get_namespace_name(get_rel_namespace(relid));
	char *name = get_rel_name(relid);
	if (schema == NULL || name == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return pstrdup(quote_qualified_identifier(schema, name));
}

int
TableKeyColumns(Relation rel, AttrNumber **attnums)
{
	RelationInfo info;
	memset(&info, 0, sizeof(info));
	FindKey(rel, &info);
	*attnums = info.key_attnums;
	return info.nkeys;
}

const RelationInfo *
RelationInfoFor(Relation rel, Oid root_relid)
{
	RelationInfo *info = (RelationInfo *) palloc0(sizeof(RelationInfo));
	Fill(info, rel, root_relid);
	return info;
}

const RelationInfo *
GetRelationInfo(Relation rel, const Trigger *trigger)
{
	if (relation_cache == NULL) {
		HASHCTL ctl;
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RelationInfo);
		ctl.hcxt = CacheMemoryContext;
		relation_cache = hash_create("audit_chain relation info", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	Oid relid = RelationGetRelid(rel);
	bool found;
	RelationInfo *info = (RelationInfo *) hash_search(relation_cache, &relid, HASH_ENTER, &found);
	if (!found) {
		info->valid = false;
		info->cxt = NULL;
	}
	if (!info->valid || info->policy_generation != policy_settings_generation)
		Build(info, rel, trigger);
	return info;
}

void
RelationInfoInvalidate(Oid relid)
{
	if (relation_cache == NULL)
		return;
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, relation_cache);
	for (RelationInfo *info; (info = (RelationInfo *) hash_seq_search(&status)) != NULL;)
		if (!OidIsValid(relid) || info->relid == relid || info->root_relid == relid)
			info->valid = false;
}

// True if the name is in audit_chain.sensitive_columns (compared without regard to case).
bool
InDefaultSensitiveList(const char *name)
{
	if (guc_sensitive_columns == NULL || guc_sensitive_columns[0] == '\0')
		return false;
	char *copy = pstrdup(guc_sensitive_columns);
	List *names;
	if (!SplitIdentifierString(copy, ',', &names))
		return false;
	ListCell *lc;
	foreach (lc, names)
		if (pg_strcasecmp((const char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

}  // namespace audit_chain::pg
