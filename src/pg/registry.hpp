// src/pg/registry.hpp: audit_chain.tracked_tables, the registry of tracked tables.
//
// The registry is written with the extension owner's rights (callers check their own
// authorisation first), so application roles need no privilege on it.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
}

namespace audit_chain::pg {

struct RegistryEntry {
	char *resource_type;
	bool baseline;
	Jsonb *columns;
	Jsonb *settings;
};

// False if relid is not registered. Allocates in CurrentMemoryContext.
bool RegistryGet(Oid relid, RegistryEntry *entry);

// Every registered table.
List *RegistryRelids(void);

void RegistryInsert(Oid relid, const char *resource_type, bool baseline, Jsonb *columns);
void RegistryUpdate(Oid relid, const char *resource_type, Jsonb *columns);
void RegistrySetSettings(Oid relid, Jsonb *settings);
void RegistryDelete(Oid relid);

// Runs one statement with the rights of the extension's owner; returns SPI_processed.
uint64 RunAsExtensionOwner(const char *sql, int nargs, const Oid *types, const Datum *values, const char *nulls,
						   bool read_only);

}  // namespace audit_chain::pg
