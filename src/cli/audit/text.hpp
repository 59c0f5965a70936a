// Strings from /proc (comm, paths) are bytes that any process chooses: a
// comm may hold invalid UTF-8 or terminal escape sequences.
#pragma once

#include <string>
#include <string_view>

namespace sealkit::cli::audit {

// Valid UTF-8: each byte that does not start a well-formed sequence becomes U+FFFD.
std::string valid_utf8(std::string_view s);

// For a terminal: valid UTF-8, control characters shown as '?'.
std::string printable(std::string_view s);

}  // namespace sealkit::cli::audit
