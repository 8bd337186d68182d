// tools/jsonb_text.hpp: writes canonical JSON tokens as text the way PostgreSQL prints a
// jsonb value (keys in jsonb order, ", " and ": " separators, escape_json's escapes), so
// generated vectors look exactly like rows of audit_chain.events_export.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_value.hpp"

namespace audit_chain::tools {

inline void
AppendJsonString(std::string &out, std::string_view s)
{
	static const char digits[] = "0123456789abcdef";
	out += '"';
	for (char c : s) {
		switch (c) {
		case '\b': out += "\\b"; break;
		case '\f': out += "\\f"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		default:
			if (static_cast<unsigned char>(c) < 0x20) {
				out += "\\u00";
				out += digits[(c >> 4) & 15];
				out += digits[c & 15];
			} else {
				out += c;
			}
		}
	}
	out += '"';
}

// Appends one value; returns the number of tokens it used.
inline uint32_t
AppendJsonbText(std::string &out, const core::JsonToken *t)
{
	switch (t[0].kind) {
	case core::JsonKind::kNull: out += "null"; return 1;
	case core::JsonKind::kFalse: out += "false"; return 1;
	case core::JsonKind::kTrue: out += "true"; return 1;
	case core::JsonKind::kNumber: out += t[0].text.str(); return 1;
	case core::JsonKind::kString: AppendJsonString(out, t[0].text.str()); return 1;
	case core::JsonKind::kArray: {
		out += '[';
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++) {
			if (i)
				out += ", ";
			used += AppendJsonbText(out, t + used);
		}
		out += ']';
		return used;
	}
	case core::JsonKind::kObject: {
		out += '{';
		uint32_t used = 1;
		for (uint32_t i = 0; i < t[0].count; i++) {
			if (i)
				out += ", ";
			AppendJsonString(out, t[used].text.str());
			out += ": ";
			used += 1;
			used += AppendJsonbText(out, t + used);
		}
		out += '}';
		return used;
	}
	}
	return 1;
}

inline std::string
JsonbText(const core::JsonToken *t)
{
	std::string out;
	AppendJsonbText(out, t);
	return out;
}

}  // namespace audit_chain::tools
