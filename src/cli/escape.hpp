// Bytes that processes and files choose (comm, command lines, exe and
// mapping paths, file names) made safe to show. A comm or a path can hold
// any byte: terminal escape sequences (ESC, and the C1 controls such as CSI,
// U+009B, which some terminals act on), bytes that are not UTF-8, and bidi
// overrides that make text read differently from what it is. Every such
// string the CLI prints for people goes through visible_text (print_table,
// print_error and the map's pictures do it for their callers); JSON is
// written ASCII-only by nlohmann, invalid bytes replaced (cli/output.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealkit::cli {

// Valid UTF-8: each byte that does not start a well-formed sequence becomes
// U+FFFD. For formats that carry the text as it is (Prometheus label values).
std::string valid_utf8(std::string_view raw);

// For a person: valid, printable UTF-8 stays; every other byte is written as
// the four characters \xNN: bytes that are not valid UTF-8 (overlong forms,
// surrogates, cut sequences), C0 controls (tab and newline too: one string is
// one line), DEL, C1 controls, U+FFFE and U+FFFF, and the bidi controls
// (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069). A backslash is
// written \\ so that the result reads back unambiguously. At most `max_chars`
// characters are shown (an escape counts as its four), then "…".
std::string visible_text(std::string_view raw, std::size_t max_chars = SIZE_MAX);

}  // namespace sealkit::cli
