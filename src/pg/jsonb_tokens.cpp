// src/pg/jsonb_tokens.cpp: jsonb to core tokens.
#include "pg/jsonb_tokens.hpp"

#include "pg/numeric_text.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
}

namespace audit_chain::pg {

using core::JsonKind;
using core::JsonToken;

namespace {

core::TextView
View(const char *data, int len)
{
	return core::TextView{data, (uint32) len};
}

void
Append(JsonbMembers *out, uint32 *capacity, JsonToken token)
{
	if (out->total_tokens == *capacity) {
		*capacity *= 2;
		if (out->tokens_inline) {  // the first tokens share an allocation with the member arrays
			JsonToken *grown = (JsonToken *) palloc(sizeof(JsonToken) * *capacity);
			memcpy(grown, out->tokens, sizeof(JsonToken) * out->total_tokens);
			out->tokens = grown;
			out->tokens_inline = false;
		} else {
			out->tokens = (JsonToken *) repalloc(out->tokens, sizeof(JsonToken) * *capacity);
		}
	}
	out->tokens[out->total_tokens++] = token;
}

// The walk below reads jsonb's on-disk container format (utils/jsonb.h) in place: a uint32
// header, one JEntry per child (for objects: all keys, then all values), then the children's
// data, numerics and nested containers padded to 4-byte boundaries relative to the start of
// the data. Stored datums usually have a 1-byte varlena header, so the container is not
// aligned: every uint32 is read with memcpy, and nothing is copied or iterated through
// JsonbIterator, which allocates per container and was most of verification's cost.
uint32
ReadU32(const char *p)
{
	uint32 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

struct Child {
	uint32 jentry;
	const char *data;  // start of the child's data (padding skipped for numerics/containers)
	uint32 length;
};

// The children of the container at p: count (pairs for an object) and flags.
struct Container {
	uint32 count;
	bool object;
	bool scalar;
	const char *entries;  // JEntry array
	const char *base;     // start of the children's data
};

Container
OpenContainer(const char *p)
{
	uint32 header = ReadU32(p);
	Container c;
	c.count = header & JB_CMASK;
	c.object = (header & JB_FOBJECT) != 0;
	c.scalar = (header & JB_FSCALAR) != 0;
	c.entries = p + sizeof(uint32);
	c.base = c.entries + sizeof(JEntry) * (c.object ? 2 * c.count : c.count);
	return c;
}

// Fills children[0 .. n) (n = the number of JEntries) with their data.
void
ReadChildren(const Container &c, Child *children)
{
	uint32 n = c.object ? 2 * c.count : c.count;
	uint32 offset = 0;
	for (uint32 i = 0; i < n; i++) {
		uint32 je = ReadU32(c.entries + sizeof(JEntry) * i);
		uint32 end = JBE_HAS_OFF(je) ? JBE_OFFLENFLD(je) : offset + JBE_OFFLENFLD(je);
		uint32 start = offset;
		if (JBE_ISNUMERIC(je) || JBE_ISCONTAINER(je))
			start = INTALIGN(offset);
		children[i].jentry = je;
		children[i].data = c.base + start;
		children[i].length = end > start ? end - start : 0;
		offset = end;
	}
}

core::JsonToken
NumberToken(const Child &child)
{
	int len;
	char *text = NumericText(child.data, &len);
	return core::JsonToken{JsonKind::kNumber, 0, View(text, len)};
}

constexpr uint32 kLocalChildren = 32;

void WalkValue(const Child &child, JsonbMembers *out, uint32 *capacity);

void
WalkContainer(const char *p, JsonbMembers *out, uint32 *capacity)
{
	Container c = OpenContainer(p);
	uint32 n = c.object ? 2 * c.count : c.count;
	Child local[kLocalChildren];
	Child *children = n <= kLocalChildren ? local : (Child *) palloc(sizeof(Child) * n);
	ReadChildren(c, children);
	if (c.scalar) {
		if (n == 1)
			WalkValue(children[0], out, capacity);
	} else if (c.object) {
		Append(out, capacity, JsonToken{JsonKind::kObject, c.count, {}});
		for (uint32 i = 0; i < c.count; i++) {
			Append(out, capacity, JsonToken{JsonKind::kString, 0, View(children[i].data, (int) children[i].length)});
			WalkValue(children[c.count + i], out, capacity);
		}
	} else {
		Append(out, capacity, JsonToken{JsonKind::kArray, c.count, {}});
		for (uint32 i = 0; i < n; i++)
			WalkValue(children[i], out, capacity);
	}
}

void
WalkValue(const Child &child, JsonbMembers *out, uint32 *capacity)
{
	check_stack_depth();
	uint32 je = child.jentry;
	if (JBE_ISSTRING(je))
		Append(out, capacity, JsonToken{JsonKind::kString, 0, View(child.data, (int) child.length)});
	else if (JBE_ISNUMERIC(je))
		Append(out, capacity, NumberToken(child));
	else if (JBE_ISBOOL_TRUE(je))
		Append(out, capacity, JsonToken{JsonKind::kTrue, 0, {}});
	else if (JBE_ISBOOL_FALSE(je))
		Append(out, capacity, JsonToken{JsonKind::kFalse, 0, {}});
	else if (JBE_ISNULL(je))
		Append(out, capacity, JsonToken{JsonKind::kNull, 0, {}});
	else if (JBE_ISCONTAINER(je))
		WalkContainer(child.data, out, capacity);
	else
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("unexpected jsonb entry type in audit data")));
}

}  // namespace

bool
JsonbContainerMembers(const char *container, JsonbMembers *out)
{
	Container c = OpenContainer(container);
	if (c.scalar || !c.object)
		return false;
	uint32 n = c.count;
	out->count = (int) n;
	// One allocation for the member arrays and a first guess of the tokens (Append grows them).
	uint32 capacity = 8 + 2 * n;
	size_t keys_size = MAXALIGN(sizeof(core::TextView) * (n + 1));
	size_t index_size = MAXALIGN(sizeof(uint32) * (n + 1));
	char *mem = (char *) palloc(keys_size + 2 * index_size + sizeof(JsonToken) * capacity);
	out->keys = (core::TextView *) mem;
	out->first = (uint32 *) (mem + keys_size);
	out->ntokens = (uint32 *) (mem + keys_size + index_size);
	out->tokens = (JsonToken *) (mem + keys_size + 2 * index_size);
	out->total_tokens = 0;
	out->tokens_inline = true;

	Child local[kLocalChildren];
	Child *children = 2 * n <= kLocalChildren ? local : (Child *) palloc(sizeof(Child) * 2 * n);
	ReadChildren(c, children);
	for (uint32 i = 0; i < n; i++) {
		out->keys[i] = View(children[i].data, (int) children[i].length);
		out->first[i] = out->total_tokens;
		WalkValue(children[n + i], out, &capacity);
		out->ntokens[i] = out->total_tokens - out->first[i];
	}
	return true;
}

bool
JsonbObjectMembers(Jsonb *jb, JsonbMembers *out)
{
	return JsonbContainerMembers((const char *) &jb->root, out);
}

bool
JsonbDatumMembers(Datum d, JsonbMembers *out)
{
	// Decompressed or fetched if it must be; an inline value is read where it lies.
	struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
	return JsonbContainerMembers(VARDATA_ANY(v), out);
}

int
FindMember(const JsonbMembers *members, const char *key, int keylen)
{
	for (int i = 0; i < members->count; i++)
		if (members->keys[i].size == (uint32) keylen && memcmp(members->keys[i].data, key, keylen) == 0)
			return i;
	return -1;
}

}  // namespace audit_chain::pg
