// src/pg/catalog.hpp: the extension's own relations, found by name and cached.
//
// The cache is dropped on any relcache invalidation of one of these relations (so DROP and
// re-CREATE EXTENSION are noticed) and is looked up again on next use.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace audit_chain::pg {

// Attribute numbers of audit_chain.events (src/sql/10_storage.sql), checked on lookup.
enum EventsAttr {
	kEvSeq = 1,
	kEvCommitSeq,
	kEvXid,
	kEvCommittedAt,
	kEvEventTime,
	kEvContextId,
	kEvEventId,
	kEvChainId,
	kEvResourceRef,
	kEvOutcome,
	kEvAction,
	kEvResourceId,
	kEvOldData,
	kEvNewData,
	kEvDetails,
	kEvSalt,
	kEvHash,
	kEvErasure,
	kEvNumAttrs = kEvErasure
};

// Attribute numbers of audit_chain.contexts.
enum ContextsAttr {
	kCtxContextId = 1,
	kCtxActorId,
	kCtxActorType,
	kCtxSessionUser,
	kCtxCurrentUser,
	kCtxClientAddr,
	kCtxApplicationName,
	kCtxUserAgent,
	kCtxRequestId,
	kCtxSessionId,
	kCtxReason,
	kCtxPrivileged,
	kCtxSalt,
	kCtxErasure,
	kCtxNumAttrs = kCtxErasure
};

// Attribute numbers of audit_chain.resources.
enum ResourcesAttr {
	kResRef = 1,
	kResType,
	kResNumAttrs = kResType
};

struct CatalogOids {
	Oid schema;
	Oid ledger;
	Oid ledger_pkey;
	Oid events;
	Oid events_pkey;
	Oid contexts;
	Oid contexts_pkey;
	Oid resources;
	Oid resources_pkey;
	Oid resources_type_idx;
	Oid commit_seq;
	Oid context_id_seq;
	Oid resource_ref_seq;
};

// The OIDs, or NULL when the extension is not installed in this database and missing_ok.
const CatalogOids *GetCatalogOids(bool missing_ok);

// Relcache invalidation hook (called from module.cpp's callback).
void CatalogInvalidate(Oid relid);

// Changes whenever the cached OIDs are dropped; session caches of rows in the extension's
// tables (interned contexts and resources) compare it to notice a dropped and re-created
// extension.
uint64 CatalogGeneration(void);

}  // namespace audit_chain::pg
