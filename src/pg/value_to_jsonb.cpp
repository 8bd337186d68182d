// src/pg/value_to_jsonb.cpp: session-independent conversion of SQL values to jsonb.
#include "pg/value_to_jsonb.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

namespace audit_chain::pg {

namespace {

enum class Category : uint8 {
	kBool,
	kInt2,
	kInt4,
	kInt8,
	kNumeric,
	kFloat4,
	kFloat8,
	kDate,
	kTimestamp,
	kTimestampTz,
	kJson,
	kJsonb,
	kBytea,
	kInterval,
	kArray,
	kComposite,
	kPlainText,   // output function does not depend on session settings
	kPinnedText,  // output function may depend on session settings: print under pinned ones
};

struct TypeInfo {
	Oid typid;  // hash key
	Oid base_type;
	Category category;
	Oid element_type;  // arrays
	int16 elem_len;
	bool elem_byval;
	char elem_align;
	FmgrInfo output;  // kPlainText, kPinnedText
};

HTAB *type_cache = NULL;

// Built-in types whose text output is fixed whatever the session settings.
bool
HasStableOutput(Oid typid)
{
	switch (typid) {
	case TEXTOID:
	case VARCHAROID:
	case BPCHAROID:
	case NAMEOID:
	case CHAROID:
	case UUIDOID:
	case INETOID:
	case CIDROID:
	case MACADDROID:
	case MACADDR8OID:
	case OIDOID:
	case XIDOID:
	case XID8OID:
	case CIDOID:
	case TIDOID:
	case BITOID:
	case VARBITOID:
	case XMLOID:
	case TSVECTOROID:
	case TSQUERYOID:
	case TIMEOID:
	case TIMETZOID:
	case PG_LSNOID:
	case INT2VECTOROID:
	case OIDVECTOROID:
		return true;
	default:
		return false;
	}
}

const TypeInfo *
LookupType(Oid typid)
{
	if (type_cache == NULL) {
		HASHCTL ctl;
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TypeInfo);
		ctl.hcxt = TopMemoryContext;
		type_cache = hash_create("audit_chain type conversions", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	TypeInfo *cached = (TypeInfo *) hash_search(type_cache, &typid, HASH_FIND, NULL);
	if (cached != NULL)
		return cached;

	// Filled completely before it enters the cache, so an error leaves no half entry.
	TypeInfo info;
	TypeInfo *t = &info;
	memset(t, 0, sizeof(info));
	t->typid = typid;
	t->base_type = getBaseType(typid);
	Oid base = t->base_type;
	t->element_type = InvalidOid;
	switch (base) {
	case BOOLOID: t->category = Category::kBool; break;
	case INT2OID: t->category = Category::kInt2; break;
	case INT4OID: t->category = Category::kInt4; break;
	case INT8OID: t->category = Category::kInt8; break;
	case NUMERICOID: t->category = Category::kNumeric; break;
	case FLOAT4OID: t->category = Category::kFloat4; break;
	case FLOAT8OID: t->category = Category::kFloat8; break;
	case DATEOID: t->category = Category::kDate; break;
	case TIMESTAMPOID: t->category = Category::kTimestamp; break;
	case TIMESTAMPTZOID: t->category = Category::kTimestampTz; break;
	case JSONOID: t->category = Category::kJson; break;
	case JSONBOID: t->category = Category::kJsonb; break;
	case BYTEAOID: t->category = Category::kBytea; break;
	case INTERVALOID: t->category = Category::kInterval; break;
	default:
		if (OidIsValid(get_element_type(base)) && type_is_array(base)) {
			t->category = Category::kArray;
			t->element_type = get_element_type(base);
			get_typlenbyvalalign(t->element_type, &t->elem_len, &t->elem_byval, &t->elem_align);
		} else if (type_is_rowtype(base)) {
			t->category = Category::kComposite;
		} else {
			Oid outfunc;
			bool varlena;
			getTypeOutputInfo(base, &outfunc, &varlena);
			fmgr_info_cxt(outfunc, &t->output, TopMemoryContext);
			t->category = HasStableOutput(base) || type_is_enum(base) ? Category::kPlainText : Category::kPinnedText;
		}
	}
	cached = (TypeInfo *) hash_search(type_cache, &typid, HASH_ENTER, NULL);
	*cached = info;
	return cached;
}

void
SetPinned(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

void
PinSettingsIfNeeded(PinnedSettings *pinned)
{
	if (pinned->nest_level != 0)
		return;
	pinned->nest_level = NewGUCNestLevel();
	SetPinned("DateStyle", "ISO, YMD");
	SetPinned("IntervalStyle", "postgres");
	SetPinned("TimeZone", "UTC");
	SetPinned("extra_float_digits", "1");
	SetPinned("bytea_output", "hex");
	SetPinned("lc_monetary", "C");
	SetPinned("search_path", "pg_catalog");
}

void
PushScalar(JsonbParseState **state, JsonbIteratorToken seq, JsonbValue *v)
{
	(void) pushJsonbValue(state, seq, v);
}

void
PushString(JsonbParseState **state, JsonbIteratorToken seq, char *s, int len)
{
	JsonbValue v;
	v.type = jbvString;
	v.val.string.val = s;
	v.val.string.len = len;
	PushScalar(state, seq, &v);
}

void
PushCString(JsonbParseState **state, JsonbIteratorToken seq, char *s)
{
	PushString(state, seq, s, (int) strlen(s));
}

void
PushNumeric(JsonbParseState **state, JsonbIteratorToken seq, Numeric n)
{
	JsonbValue v;
	if (numeric_is_nan(n) || numeric_is_inf(n)) {
		// JSON has no NaN or infinity: write them as strings, as to_jsonb does.
		PushCString(state, seq, DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n))));
		return;
	}
	v.type = jbvNumeric;
	v.val.numeric = n;
	PushScalar(state, seq, &v);
}

// Finite floats become JSON numbers in their shortest exact decimal form (whatever
// extra_float_digits says); NaN and infinities become strings, as to_jsonb writes them.
void
PushFloat(JsonbParseState **state, JsonbIteratorToken seq, double f, bool is_float4)
{
	char buf[32];
	if (isnan(f)) {
		PushCString(state, seq, pstrdup("NaN"));
		return;
	}
	if (isinf(f)) {
		PushCString(state, seq, pstrdup(f > 0 ? "Infinity" : "-Infinity"));
		return;
	}
	if (is_float4)
		float_to_shortest_decimal_buf((float) f, buf);
	else
		double_to_shortest_decimal_buf(f, buf);
	Datum n = DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	PushNumeric(state, seq, DatumGetNumeric(n));
}

void PushValue(JsonbParseState **state, JsonbIteratorToken seq, Datum value, bool isnull, Oid typid,
			   PinnedSettings *pinned, int depth);

void
PushArrayDim(JsonbParseState **state, JsonbIteratorToken seq, int dim, int ndims, const int *dims, Datum *elems,
			 bool *nulls, int *pos, Oid elemtype, PinnedSettings *pinned, int depth)
{
	(void) pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < dims[dim]; i++) {
		if (dim + 1 == ndims) {
			PushValue(state, WJB_ELEM, elems[*pos], nulls[*pos], elemtype, pinned, depth + 1);
			(*pos)++;
		} else {
			PushArrayDim(state, WJB_ELEM, dim + 1, ndims, dims, elems, nulls, pos, elemtype, pinned, depth + 1);
		}
	}
	(void) pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

void
PushArray(JsonbParseState **state, JsonbIteratorToken seq, Datum value, const TypeInfo *t, PinnedSettings *pinned,
		  int depth)
{
	ArrayType *arr = DatumGetArrayTypeP(value);
	int ndims = ARR_NDIM(arr);
	if (ndims == 0) {
		(void) pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
		(void) pushJsonbValue(state, WJB_END_ARRAY, NULL);
		return;
	}
	Datum *elems;
	bool *nulls;
	int nelems;
	deconstruct_array(arr, t->element_type, t->elem_len, t->elem_byval, t->elem_align, &elems, &nulls, &nelems);
	int pos = 0;
	PushArrayDim(state, seq, 0, ndims, ARR_DIMS(arr), elems, nulls, &pos, t->element_type, pinned, depth);
}

void
PushComposite(JsonbParseState **state, Datum value, PinnedSettings *pinned, int depth)
{
	HeapTupleHeader rec = DatumGetHeapTupleHeader(value);
	Oid tuptype = HeapTupleHeaderGetTypeId(rec);
	int32 tuptypmod = HeapTupleHeaderGetTypMod(rec);
	TupleDesc desc = lookup_rowtype_tupdesc(tuptype, tuptypmod);
	HeapTupleData tuple;
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;

	(void) pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped)
			continue;
		PushCString(state, WJB_KEY, NameStr(att->attname));
		bool isnull;
		Datum v = heap_getattr(&tuple, i + 1, desc, &isnull);
		PushValue(state, WJB_VALUE, v, isnull, att->atttypid, pinned, depth + 1);
	}
	(void) pushJsonbValue(state, WJB_END_OBJECT, NULL);
	ReleaseTupleDesc(desc);
}

void
PushValue(JsonbParseState **state, JsonbIteratorToken seq, Datum value, bool isnull, Oid typid,
		  PinnedSettings *pinned, int depth)
{
	check_stack_depth();
	if (isnull) {
		JsonbValue v;
		v.type = jbvNull;
		PushScalar(state, seq, &v);
		return;
	}
	const TypeInfo *t = LookupType(typid);
	switch (t->category) {
	case Category::kBool: {
		JsonbValue v;
		v.type = jbvBool;
		v.val.boolean = DatumGetBool(value);
		PushScalar(state, seq, &v);
		return;
	}
	case Category::kInt2:
		PushNumeric(state, seq, int64_to_numeric(DatumGetInt16(value)));
		return;
	case Category::kInt4:
		PushNumeric(state, seq, int64_to_numeric(DatumGetInt32(value)));
		return;
	case Category::kInt8:
		PushNumeric(state, seq, int64_to_numeric(DatumGetInt64(value)));
		return;
	case Category::kNumeric:
		PushNumeric(state, seq, DatumGetNumeric(value));
		return;
	case Category::kFloat4:
		PushFloat(state, seq, DatumGetFloat4(value), true);
		return;
	case Category::kFloat8:
		PushFloat(state, seq, DatumGetFloat8(value), false);
		return;
	case Category::kDate:
	case Category::kTimestamp:
	case Category::kTimestampTz: {
		char buf[MAXDATELEN + 1];
		const int utc = 0;
		JsonEncodeDateTime(buf, value, t->base_type, t->category == Category::kTimestampTz ? &utc : NULL);
		PushCString(state, seq, pstrdup(buf));
		return;
	}
	case Category::kJson: {
		char *json = TextDatumGetCString(value);
		Datum jb = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
		PushValue(state, seq, jb, false, JSONBOID, pinned, depth);
		return;
	}
	case Category::kJsonb: {
		Jsonb *jb = DatumGetJsonbP(value);
		JsonbValue v;
		v.type = jbvBinary;
		v.val.binary.data = &jb->root;
		v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
		(void) pushJsonbValue(state, seq, &v);
		return;
	}
	case Category::kBytea: {
		bytea *b = DatumGetByteaPP(value);
		int len = VARSIZE_ANY_EXHDR(b);
		char *out = (char *) palloc(2 * len + 3);
		out[0] = '\\';
		out[1] = 'x';
		static const char digits[] = "0123456789abcdef";
		const unsigned char *p = (const unsigned char *) VARDATA_ANY(b);
		for (int i = 0; i < len; i++) {
			out[2 + 2 * i] = digits[p[i] >> 4];
			out[3 + 2 * i] = digits[p[i] & 15];
		}
		out[2 * len + 2] = '\0';
		PushString(state, seq, out, 2 * len + 2);
		return;
	}
	case Category::kInterval: {
		Interval *span = DatumGetIntervalP(value);
		struct pg_itm itm;
		char buf[MAXDATELEN + 1];
		interval2itm(*span, &itm);
		EncodeInterval(&itm, INTSTYLE_POSTGRES, buf);
		PushCString(state, seq, pstrdup(buf));
		return;
	}
	case Category::kArray:
		PushArray(state, seq, value, t, pinned, depth);
		return;
	case Category::kComposite:
		PushComposite(state, value, pinned, depth);
		return;
	case Category::kPlainText:
		PushCString(state, seq, OutputFunctionCall(const_cast<FmgrInfo *>(&t->output), value));
		return;
	case Category::kPinnedText:
		PinSettingsIfNeeded(pinned);
		PushCString(state, seq, OutputFunctionCall(const_cast<FmgrInfo *>(&t->output), value));
		return;
	}
}

}  // namespace

void
UnpinSettings(PinnedSettings *pinned)
{
	if (pinned->nest_level != 0) {
		AtEOXact_GUC(true, pinned->nest_level);
		pinned->nest_level = 0;
	}
}

void
PushDatumAsJson(JsonbParseState **state, JsonbIteratorToken seq, Datum value, bool isnull, Oid typid,
				PinnedSettings *pinned)
{
	PushValue(state, seq, value, isnull, typid, pinned, 0);
}

}  // namespace audit_chain::pg
