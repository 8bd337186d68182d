// src/pg/index_info_cache.cpp: see index_info_cache.hpp.
#include "pg/index_info_cache.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "nodes/pg_list.h"
#include "optimizer/optimizer.h"
#include "storage/lockdefs.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
}

namespace audit_chain::pg {

namespace {

struct CachedIndex {
	Oid index_oid;
	Oid table_oid;
	IndexInfo *info;  // in cache_cxt, expressions and predicate compiled
};

constexpr int kMaxCached = 64;

MemoryContext cache_cxt = NULL;
CachedIndex cached[kMaxCached];
int ncached = 0;

// An invalidation can arrive while a writer still uses descriptions (index_open and other
// lock acquisitions process invalidation messages): they are then retired, not freed, and
// freed once no writer is open (or at the end of the transaction).
int writers_open = 0;
MemoryContext retired_cxt = NULL;  // children: retired caches

void
FreeRetired()
{
	if (retired_cxt != NULL)
		MemoryContextDeleteChildren(retired_cxt);
}

// The executor compiles these lazily per use (ExecPrepareQual, ExecPrepareExprList); here
// they are compiled once, in the cache's context, with no parent plan, exactly as those do.
IndexInfo *
BuildCompiled(Relation index)
{
	IndexInfo *info = BuildIndexInfo(index);
	if (info->ii_Predicate != NIL)
		info->ii_PredicateState = ExecInitQual((List *) expression_planner((Expr *) info->ii_Predicate), NULL);
	if (info->ii_Expressions != NIL) {
		List *states = NIL;
		ListCell *lc;
		foreach (lc, info->ii_Expressions)
			states = lappend(states, ExecInitExpr(expression_planner((Expr *) lfirst(lc)), NULL));
		info->ii_ExpressionsState = states;
	}
	return info;
}

IndexInfo *
Lookup(Relation index)
{
	Oid oid = RelationGetRelid(index);
	for (int i = 0; i < ncached; i++)
		if (cached[i].index_oid == oid)
			return cached[i].info;
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(CacheMemoryContext, "audit_chain index info", ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cache_cxt);
	IndexInfo *info = BuildCompiled(index);
	MemoryContextSwitchTo(old);
	if (ncached < kMaxCached) {
		cached[ncached].index_oid = oid;
		cached[ncached].table_oid = index->rd_index->indrelid;
		cached[ncached].info = info;
		ncached++;
	}
	return info;
}

}  // namespace

void
OpenIndexesCached(ResultRelInfo *result_rel, MemoryContext use_cxt)
{
	Relation rel = result_rel->ri_RelationDesc;
	result_rel->ri_NumIndices = 0;
	result_rel->ri_IndexRelationDescs = NULL;
	result_rel->ri_IndexRelationInfo = NULL;
	if (!RelationGetForm(rel)->relhasindex)
		return;
	List *oids = RelationGetIndexList(rel);
	int n = list_length(oids);
	MemoryContext old = MemoryContextSwitchTo(use_cxt);
	RelationPtr descs = (RelationPtr) palloc(sizeof(Relation) * Max(n, 1));
	IndexInfo **infos = (IndexInfo **) palloc0(sizeof(IndexInfo *) * Max(n, 1));
	MemoryContextSwitchTo(old);
	result_rel->ri_IndexRelationDescs = descs;  // marks this writer as counted in writers_open
	writers_open++;
	int i = 0;
	ListCell *lc;
	foreach (lc, oids) {
		Relation index = index_open(lfirst_oid(lc), RowExclusiveLock);
		descs[i] = index;
		result_rel->ri_NumIndices = i + 1;  // closed by CloseIndexesCached even if Lookup fails
		result_rel->ri_IndexRelationDescs = descs;
		IndexInfo *info = Lookup(index);
		// Per-use state of the access method (BRIN's descriptor) must not outlive this use.
		info->ii_AmCache = NULL;
		info->ii_Context = use_cxt;
		infos[i] = info;
		result_rel->ri_IndexRelationInfo = infos;
		i++;
	}
	list_free(oids);
}

void
CloseIndexesCached(ResultRelInfo *result_rel)
{
	for (int i = 0; i < result_rel->ri_NumIndices; i++) {
		if (result_rel->ri_IndexRelationInfo != NULL && result_rel->ri_IndexRelationInfo[i] != NULL) {
			result_rel->ri_IndexRelationInfo[i]->ii_AmCache = NULL;
			result_rel->ri_IndexRelationInfo[i]->ii_Context = NULL;
		}
		index_close(result_rel->ri_IndexRelationDescs[i], NoLock);
	}
	result_rel->ri_NumIndices = 0;
	if (result_rel->ri_IndexRelationDescs != NULL && writers_open > 0 && --writers_open == 0)
		FreeRetired();
	result_rel->ri_IndexRelationDescs = NULL;
}

void
IndexInfoCacheAtEndOfTransaction(void)
{
	writers_open = 0;  // writers of an aborted transaction are never closed
	FreeRetired();
}

void
IndexInfoCacheInvalidate(Oid relid)
{
	bool hit = !OidIsValid(relid);
	for (int i = 0; i < ncached && !hit; i++)
		hit = cached[i].index_oid == relid || cached[i].table_oid == relid;
	if (!hit || cache_cxt == NULL)
		return;
	ncached = 0;
	if (writers_open == 0) {
		MemoryContextDelete(cache_cxt);
	} else {
		if (retired_cxt == NULL)
			retired_cxt = AllocSetContextCreate(CacheMemoryContext, "audit_chain retired index info", ALLOCSET_SMALL_SIZES);
		MemoryContextSetParent(cache_cxt, retired_cxt);
	}
	cache_cxt = NULL;
}

}  // namespace audit_chain::pg
