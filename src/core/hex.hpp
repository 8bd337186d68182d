// src/core/hex.hpp: lower-case hexadecimal text of byte strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace audit_chain::core {

// Writes 2 * size characters (no terminator) into out.
void HexEncode(const uint8_t *data, size_t size, char *out);
std::string HexEncode(const uint8_t *data, size_t size);

// Decodes exactly out_size bytes from text (upper or lower case); throws kInvalidText.
void HexDecode(std::string_view text, uint8_t *out, size_t out_size);

}  // namespace audit_chain::core
