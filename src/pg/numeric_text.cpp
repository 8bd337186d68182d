// src/pg/numeric_text.cpp: see numeric_text.hpp.
//
// The stored form (src/backend/utils/adt/numeric.c, stable across releases because
// pg_upgrade keeps data files): a uint16 header word, then, in the long format, an int16
// weight; then base-10000 digits (int16). Short format header: 0x8000 | sign 0x2000 |
// dscale << 7 (6 bits) | weight sign 0x0040 | weight (6 bits). Long format: sign in the top two
// bits of the first word (0x0000 positive, 0x4000 negative; 0xC000 special), dscale in the
// low 14. The printing below is get_str_from_var()'s, digit for digit.
#include "pg/numeric_text.hpp"

extern "C" {
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
}

namespace audit_chain::pg {

namespace {

constexpr uint16 kSignMask = 0xC000;
constexpr uint16 kNegative = 0x4000;
constexpr uint16 kShort = 0x8000;
constexpr uint16 kSpecial = 0xC000;
constexpr uint16 kShortSignMask = 0x2000;
constexpr uint16 kShortDscaleMask = 0x1F80;
constexpr int kShortDscaleShift = 7;
constexpr uint16 kShortWeightSignMask = 0x0040;
constexpr uint16 kShortWeightMask = 0x003F;
constexpr uint16 kDscaleMask = 0x3FFF;
constexpr int kDecDigits = 4;

uint16
ReadU16(const char *p)
{
	uint16 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

// The varlena header of num, which may be unaligned: a 1-byte or a 4-byte header (a value
// inside jsonb is never toasted).
void
ReadHeader(const char *num, Size *total, Size *header)
{
	uint8 first = (uint8) num[0];
	if (VARATT_IS_1B(&first)) {
		*total = VARSIZE_1B(&first);
		*header = VARHDRSZ_SHORT;
	} else {
		uint32 word;
		memcpy(&word, num, sizeof(word));
		*total = VARSIZE_4B(&word);
		*header = VARHDRSZ;
	}
}

char *
ViaNumericOut(const char *num, int *len)
{
	Size size, header;
	ReadHeader(num, &size, &header);
	// numeric_out wants an aligned 4-byte header.
	char *copy = (char *) palloc(size - header + VARHDRSZ);
	SET_VARSIZE(copy, size - header + VARHDRSZ);
	memcpy(copy + VARHDRSZ, num + header, size - header);
	char *text = DatumGetCString(DirectFunctionCall1(numeric_out, PointerGetDatum(copy)));
	*len = (int) strlen(text);
	return text;
}

}  // namespace

char *
NumericText(const char *num, int *len)
{
	Size total, header;
	ReadHeader(num, &total, &header);
	const char *body = num + header;
	Size body_size = total > header ? total - header : 0;
	if (body_size < sizeof(uint16))
		return ViaNumericOut(num, len);
	uint16 head = ReadU16(body);
	bool negative;
	int dscale, weight;
	const char *digits;
	Size header_size;
	if ((head & kSignMask) == kShort) {
		negative = (head & kShortSignMask) != 0;
		dscale = (head & kShortDscaleMask) >> kShortDscaleShift;
		// A 7-bit two's complement weight: the sign bit extends over the bits above the mask.
		weight = (head & kShortWeightSignMask) ? (int) (int16) (0xFFC0 | (head & kShortWeightMask))
											   : (int) (head & kShortWeightMask);
		header_size = sizeof(uint16);
	} else if ((head & kSignMask) == kSpecial || body_size < 2 * sizeof(uint16)) {
		return ViaNumericOut(num, len);
	} else {
		negative = (head & kSignMask) == kNegative;
		dscale = head & kDscaleMask;
		weight = (int16) ReadU16(body + sizeof(uint16));
		header_size = 2 * sizeof(uint16);
	}
	digits = body + header_size;
	int ndigits = (int) ((body_size - header_size) / sizeof(int16));

	int int_part = weight >= 0 ? (weight + 1) * kDecDigits : 1;
	char *str = (char *) palloc(int_part + dscale + kDecDigits + 2);
	char *cp = str;
	if (negative)
		*cp++ = '-';
	int d;
	if (weight < 0) {
		d = weight + 1;
		*cp++ = '0';
	} else {
		for (d = 0; d <= weight; d++) {
			int dig = d < ndigits ? (int16) ReadU16(digits + sizeof(int16) * d) : 0;
			bool putit = d > 0;  // in the first digit, no leading zeros
			int d1 = dig / 1000;
			dig -= d1 * 1000;
			putit |= d1 > 0;
			if (putit)
				*cp++ = (char) (d1 + '0');
			d1 = dig / 100;
			dig -= d1 * 100;
			putit |= d1 > 0;
			if (putit)
				*cp++ = (char) (d1 + '0');
			d1 = dig / 10;
			dig -= d1 * 10;
			putit |= d1 > 0;
			if (putit)
				*cp++ = (char) (d1 + '0');
			*cp++ = (char) (dig + '0');
		}
	}
	if (dscale > 0) {
		*cp++ = '.';
		char *end = cp + dscale;
		for (int i = 0; i < dscale; d++, i += kDecDigits) {
			int dig = d >= 0 && d < ndigits ? (int16) ReadU16(digits + sizeof(int16) * d) : 0;
			int d1 = dig / 1000;
			dig -= d1 * 1000;
			*cp++ = (char) (d1 + '0');
			d1 = dig / 100;
			dig -= d1 * 100;
			*cp++ = (char) (d1 + '0');
			d1 = dig / 10;
			dig -= d1 * 10;
			*cp++ = (char) (d1 + '0');
			*cp++ = (char) (dig + '0');
		}
		cp = end;
	}
	*cp = '\0';
	*len = (int) (cp - str);
	return str;
}

}  // namespace audit_chain::pg
