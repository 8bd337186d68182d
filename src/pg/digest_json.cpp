// src/pg/digest_json.cpp: building and parsing digests.
#include "pg/digest_json.hpp"

#include "core/hex.hpp"
#include "pg/boundary.hpp"
#include "pg/event_view.hpp"
#include "pg/jsonb_util.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/datetime.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
}

namespace audit_chain::pg {

namespace {

constexpr char kFormat[] = "audit_chain.digest.v1";

void
AppendUtcTime(StringInfo buf, TimestampTz t)
{
	char out[MAXDATELEN + 1];
	const int utc = 0;
	JsonEncodeDateTime(out, TimestampTzGetDatum(t), TIMESTAMPTZOID, &utc);
	appendStringInfo(buf, "\"%s\"", out);
}

void
AppendUuid(StringInfo buf, const pg_uuid_t *id)
{
	char *text = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
	appendStringInfo(buf, "\"%s\"", text);
}

core::Hash
DigestHash(const pg_uuid_t *ledger_id, const core::ChainHead *heads, int nheads)
{
	core::Hash h;
	CallCore([&] { h = core::HashDigest(ledger_id->data, heads, (uint32) nheads); });
	return h;
}

[[noreturn]] void
Invalid(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid audit_chain digest"),
			 errdetail("%s", detail),
			 errhint("Pass a value returned by audit_chain.digest(), unmodified.")));
	pg_unreachable();
}

char *
StringField(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = JsonbMember(obj, name);
	if (v == NULL || v->type != jbvString)
		Invalid(psprintf("\"%s\" must be a string.", name));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

int64
IntegerField(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = JsonbMember(obj, name);
	if (v == NULL || v->type != jbvNumeric)
		Invalid(psprintf("\"%s\" must be a number.", name));
	char *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	char *end;
	errno = 0;
	long long value = strtoll(text, &end, 10);
	if (*end != '\0' || errno != 0)
		Invalid(psprintf("\"%s\" must be an integer.", name));
	return value;
}

void
Hex(const char *text, uint8 *out, size_t size)
{
	std::string_view view(text);
	CoreError err;
	if (!RunCore(err, [&] { core::HexDecode(view, out, size); }))
		Invalid(psprintf("A hash must be %d hexadecimal digits.", (int) (2 * size)));
}

// A UUID in its canonical text form (8-4-4-4-12 hexadecimal digits).
pg_uuid_t
ParseUuid(const char *text)
{
	pg_uuid_t id;
	char hex[33];
	int n = 0;
	for (int i = 0; text[i] != '\0'; i++) {
		bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash_position ? text[i] != '-' : n >= 32)
			Invalid("\"ledger_id\" must be a UUID.");
		if (!dash_position)
			hex[n++] = text[i];
	}
	hex[n] = '\0';
	if (n != 32 || strlen(text) != 36)
		Invalid("\"ledger_id\" must be a UUID.");
	Hex(hex, id.data, UUID_LEN);
	return id;
}

}  // namespace

Jsonb *
DigestToJsonb(const pg_uuid_t *ledger_id, const core::ChainHead *heads, int nheads)
{
	core::Hash digest = DigestHash(ledger_id, heads, nheads);
	char hex[2 * core::kHashSize + 1];
	StringInfoData buf;
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"format\": \"%s\", \"ledger_id\": ", kFormat);
	AppendUuid(&buf, ledger_id);
	appendStringInfoString(&buf, ", \"taken_at\": ");
	AppendUtcTime(&buf, GetCurrentTimestamp());
	appendStringInfoString(&buf, ", \"heads\": [");
	for (int i = 0; i < nheads; i++) {
		const core::ChainHead &h = heads[i];
		CallCore([&] { core::HexEncode(h.hash.bytes, core::kHashSize, hex); });
		hex[2 * core::kHashSize] = '\0';
		appendStringInfo(&buf, "%s{\"chain_id\": %u, \"seq\": " UINT64_FORMAT ", \"committed_at\": ", i ? ", " : "",
						 h.chain_id, h.seq);
		AppendUtcTime(&buf, TimestampFromUnixMicros(h.committed_at));
		appendStringInfo(&buf, ", \"committed_at_us\": " INT64_FORMAT ", \"hash\": \"%s\"}", h.committed_at, hex);
	}
	CallCore([&] { core::HexEncode(digest.bytes, core::kHashSize, hex); });
	hex[2 * core::kHashSize] = '\0';
	appendStringInfo(&buf, "], \"digest\": \"%s\"}", hex);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

void
DigestFromJsonb(Jsonb *digest, pg_uuid_t *ledger_id, core::ChainHead **heads_out, int *nheads_out)
{
	if (!JB_ROOT_IS_OBJECT(digest) || JB_ROOT_IS_SCALAR(digest))
		Invalid("A digest is a JSON object.");
	JsonbContainer *root = &digest->root;
	if (strcmp(StringField(root, "format"), kFormat) != 0)
		Invalid(psprintf("Unknown format; expected \"%s\".", kFormat));
	*ledger_id = ParseUuid(StringField(root, "ledger_id"));

	JsonbValue *heads = JsonbMember(root, "heads");
	if (heads == NULL || heads->type != jbvBinary || !JsonContainerIsArray(heads->val.binary.data))
		Invalid("\"heads\" must be an array.");
	JsonbContainer *arr = heads->val.binary.data;
	int n = (int) JsonContainerSize(arr);
	core::ChainHead *out = (core::ChainHead *) palloc0(sizeof(core::ChainHead) * (n + 1));
	for (int i = 0; i < n; i++) {
		JsonbValue *h = getIthJsonbValueFromContainer(arr, i);
		if (h == NULL || h->type != jbvBinary || !JsonContainerIsObject(h->val.binary.data))
			Invalid("Each head must be an object.");
		JsonbContainer *obj = h->val.binary.data;
		int64 chain = IntegerField(obj, "chain_id");
		int64 seq = IntegerField(obj, "seq");
		if (chain < 1 || chain > PG_INT32_MAX || seq < 1)
			Invalid("A head has an impossible chain_id or seq.");
		out[i].chain_id = (uint32) chain;
		out[i].seq = (uint64) seq;
		out[i].committed_at = IntegerField(obj, "committed_at_us");
		Hex(StringField(obj, "hash"), out[i].hash.bytes, core::kHashSize);
	}
	core::Hash claimed;
	Hex(StringField(root, "digest"), claimed.bytes, core::kHashSize);
	// Heads must be in ascending chain order (HashDigest refuses otherwise).
	CoreError err;
	core::Hash actual;
	if (!RunCore(err, [&] { actual = core::HashDigest(ledger_id->data, out, (uint32) n); }))
		Invalid(err.message);
	if (memcmp(actual.bytes, claimed.bytes, core::kHashSize) != 0)
		Invalid("The digest value does not match its heads: the digest was altered.");
	*heads_out = out;
	*nheads_out = n;
}

}  // namespace audit_chain::pg
