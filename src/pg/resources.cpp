// src/pg/resources.cpp: interning of resource types.
#include "pg/resources.hpp"

#include "pg/catalog.hpp"
#include "pg/row_writer.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/sequence.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace audit_chain::pg {

namespace {

constexpr int kMaxResourceTypeLength = 1024;

struct NameEntry {
	char name[kMaxResourceTypeLength + 1];  // hash key
	int32 ref;
	bool committed;
};

struct RefEntry {
	int32 ref;  // hash key
	char *name;
	bool committed;
};

HTAB *by_name = NULL;
HTAB *by_ref = NULL;
MemoryContext names_cxt = NULL;  // owns RefEntry names
bool any_uncommitted = false;
uint64 seen_generation = 0;

// Creates the caches, or empties them if the extension's tables were dropped since.
void
InitCaches()
{
	if (by_name != NULL && seen_generation == CatalogGeneration())
		return;
	if (by_name != NULL) {
		hash_destroy(by_name);
		hash_destroy(by_ref);
		MemoryContextReset(names_cxt);
	} else {
		names_cxt = AllocSetContextCreate(TopMemoryContext, "audit_chain resource names", ALLOCSET_SMALL_SIZES);
	}
	seen_generation = CatalogGeneration();
	any_uncommitted = false;
	HASHCTL ctl;
	ctl.keysize = kMaxResourceTypeLength + 1;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = TopMemoryContext;
	by_name = hash_create("audit_chain resources by name", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ctl.keysize = sizeof(int32);
	ctl.entrysize = sizeof(RefEntry);
	by_ref = hash_create("audit_chain resources by ref", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

void
Remember(const char *name, int32 ref, bool committed)
{
	NameEntry *n = (NameEntry *) hash_search(by_name, name, HASH_ENTER, NULL);
	n->ref = ref;
	n->committed = committed;
	bool found;
	RefEntry *r = (RefEntry *) hash_search(by_ref, &ref, HASH_ENTER, &found);
	if (!found)
		r->name = MemoryContextStrdup(names_cxt, name);
	r->committed = committed;
	if (!committed)
		any_uncommitted = true;
}

// A committed row with this name (any, if several), or 0.
int32
FindCommitted(const CatalogOids *oids, const char *name)
{
	Relation rel = table_open(oids->resources, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, kResType, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(name));
	// SnapshotSelf: committed rows without predicate locks (see commit_writer.cpp).
	SysScanDesc scan = systable_beginscan(rel, oids->resources_type_idx, true, SnapshotSelf, 1, &key);
	int32 ref = 0;
	HeapTuple tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple)) {
		bool isnull;
		ref = DatumGetInt32(heap_getattr(tuple, kResRef, RelationGetDescr(rel), &isnull));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return ref;
}

}  // namespace

int32
InternResource(const CatalogOids *oids, const char *resource_type)
{
	InitCaches();
	if (strlen(resource_type) > kMaxResourceTypeLength)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("resource_type is longer than %d bytes", kMaxResourceTypeLength)));
	NameEntry *n = (NameEntry *) hash_search(by_name, resource_type, HASH_FIND, NULL);
	if (n != NULL)
		return n->ref;

	int32 ref = FindCommitted(oids, resource_type);
	if (ref != 0) {
		Remember(resource_type, ref, true);
		return ref;
	}

	ref = (int32) nextval_internal(oids->resource_ref_seq, false);
	RowWriter writer;
	RowWriterOpen(&writer, oids->resources, 1);
	TupleTableSlot *slot = RowWriterSlot(&writer);
	slot->tts_values[kResRef - 1] = Int32GetDatum(ref);
	slot->tts_isnull[kResRef - 1] = false;
	slot->tts_values[kResType - 1] = CStringGetTextDatum(resource_type);
	slot->tts_isnull[kResType - 1] = false;
	RowWriterAdd(&writer);
	RowWriterClose(&writer);
	Remember(resource_type, ref, false);
	return ref;
}

char *
ReadResourceType(const CatalogOids *oids, Snapshot snapshot, int32 ref)
{
	Relation rel = table_open(oids->resources, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, kResRef, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(ref));
	SysScanDesc scan = systable_beginscan(rel, oids->resources_pkey, true, snapshot, 1, &key);
	char *name = NULL;
	HeapTuple tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple)) {
		bool isnull;
		Datum d = heap_getattr(tuple, kResType, RelationGetDescr(rel), &isnull);
		if (!isnull)
			name = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return name;
}

const char *
WriterResourceType(const CatalogOids *oids, Snapshot snapshot, int32 ref)
{
	InitCaches();
	RefEntry *r = (RefEntry *) hash_search(by_ref, &ref, HASH_FIND, NULL);
	if (r != NULL)
		return r->name;
	return ReadResourceType(oids, snapshot, ref);
}

void
ResourcesAtAbort(void)
{
	if (!any_uncommitted)
		return;
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, by_name);
	for (NameEntry *n; (n = (NameEntry *) hash_seq_search(&status)) != NULL;)
		if (!n->committed)
			hash_search(by_name, n->name, HASH_REMOVE, NULL);
	hash_seq_init(&status, by_ref);
	for (RefEntry *r; (r = (RefEntry *) hash_seq_search(&status)) != NULL;)
		if (!r->committed) {
			pfree(r->name);
			hash_search(by_ref, &r->ref, HASH_REMOVE, NULL);
		}
	any_uncommitted = false;
}

void
ResourcesAtCommit(void)
{
	if (!any_uncommitted)
		return;
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, by_name);
	for (NameEntry *n; (n = (NameEntry *) hash_seq_search(&status)) != NULL;)
		n->committed = true;
	hash_seq_init(&status, by_ref);
	for (RefEntry *r; (r = (RefEntry *) hash_seq_search(&status)) != NULL;)
		r->committed = true;
	any_uncommitted = false;
}

}  // namespace audit_chain::pg
