// Making bytes from /proc safe to put in SVG and HTML.
//
// A path in /proc/PID/maps can hold any byte but newline. XML cannot hold
// most control characters even as character references, a stray byte is
// invalid UTF-8, and bidirectional overrides make text read differently from
// what it is. So every string that came from the process goes through here:
// cli::visible_text (cli/escape.hpp), then XML's entities.
#pragma once

#include "cli/escape.hpp"
#include "cli/format.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealkit::cli::map {

// Text safe in XML/HTML element content and in quoted attribute values:
// cli::visible_text(raw, max_chars), with & < > " ' as entities.
std::string markup_escape(std::string_view raw, std::size_t max_chars = SIZE_MAX);

// human_bytes(): cli/format.hpp.
using cli::human_bytes;

}  // namespace sealkit::cli::map
