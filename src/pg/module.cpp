// src/pg/module.cpp: library entry point: settings, transaction and cache callbacks.
#include "pg/capture.hpp"
#include "pg/catalog.hpp"
#include "pg/commit_writer.hpp"
#include "pg/context.hpp"
#include "pg/guard.hpp"
#include "pg/guc.hpp"
#include "pg/index_info_cache.hpp"
#include "pg/relation_info.hpp"
#include "pg/resources.hpp"
#include "pg/revert.hpp"
#include "pg/spool.hpp"
#include "pg/tracking.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

namespace audit_chain::pg {

namespace {

void
OnXactEvent(XactEvent event, void *arg)
{
	switch (event) {
	case XACT_EVENT_PRE_COMMIT:
		WriteSpooledEvents();
		break;
	case XACT_EVENT_PRE_PREPARE:
		RefusePrepareWithEvents();
		break;
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_PREPARE:
		CaptureAtEndOfTransaction();
		RevertAtEndOfTransaction();
		AllowAuditUpdates(false);
		AllowRegistryWrites(false);
		TrackingAtEndOfTransaction();
		ContextAtCommit();
		ResourcesAtCommit();
		IndexInfoCacheAtEndOfTransaction();
		SpoolReset(false);
		break;
	case XACT_EVENT_ABORT:
		CaptureAtEndOfTransaction();
		RevertAtEndOfTransaction();
		AllowAuditUpdates(false);
		AllowRegistryWrites(false);
		TrackingAtEndOfTransaction();
		ContextAtAbort();
		ResourcesAtAbort();
		IndexInfoCacheAtEndOfTransaction();
		SpoolReset(false);
		break;
	default:
		break;
	}
}

void
OnSubXactEvent(SubXactEvent event, SubTransactionId my_subid, SubTransactionId parent_subid, void *arg)
{
	// Rows interned by the aborted subtransaction are gone; the spool skips its events
	// itself (by transaction id) when the top-level transaction commits.
	if (event == SUBXACT_EVENT_ABORT_SUB) {
		GuardAtSubAbort();
		RevertAtSubAbort();
		ContextAtAbort();
		ResourcesAtAbort();
	}
}

void
OnRelcacheInvalidation(Datum arg, Oid relid)
{
	CatalogInvalidate(relid);
	RelationInfoInvalidate(relid);
	IndexInfoCacheInvalidate(relid);
}

void
OnNamespaceInvalidation(Datum arg, int cacheid, uint32 hashvalue)
{
	RelationInfoInvalidate(InvalidOid);  // a renamed schema renames resource types
}

}  // namespace

}  // namespace audit_chain::pg

using namespace audit_chain::pg;

extern "C" {

void
_PG_init(void)
{
	DefineSettings();
	RegisterXactCallback(OnXactEvent, NULL);
	RegisterSubXactCallback(OnSubXactEvent, NULL);
	CacheRegisterRelcacheCallback(OnRelcacheInvalidation, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, OnNamespaceInvalidation, (Datum) 0);
}

PG_FUNCTION_INFO_V1(audit_chain_version);

Datum
audit_chain_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text("0.1.0"));
}

}
