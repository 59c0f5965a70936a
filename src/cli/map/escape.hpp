// Making bytes from /proc safe to put in SVG and HTML.
//
// A path in /proc/PID/maps can hold any byte but newline. XML cannot hold
// most control characters even as character references, a stray byte is
// invalid UTF-8, and bidirectional overrides make text read differently from
// what it is. So every string that came from the process goes through here.
#pragma once

#include "cli/format.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealkit::cli::map {

// Text safe in XML/HTML element content and in quoted attribute values:
// & < > " ' become entities; valid UTF-8 printable characters stay; every
// other byte (invalid UTF-8, C0 controls, DEL, U+FFFE/U+FFFF, bidi controls)
// is written as the four characters \xNN, and a backslash as \\ so that the
// result reads back unambiguously. At most `max_chars` characters are shown
// (an escape counts as its four), then "…".
std::string markup_escape(std::string_view raw, std::size_t max_chars = SIZE_MAX);

// The same without the XML entities: what a reader sees once the markup is
// parsed. The tests compare parsed text with this.
std::string visible_text(std::string_view raw, std::size_t max_chars = SIZE_MAX);

// human_bytes(): cli/format.hpp.
using cli::human_bytes;

}  // namespace sealkit::cli::map
