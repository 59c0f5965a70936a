// The picture as one self-contained HTML page: the SVG inline, then a table
// of every VMA. No script, no stylesheet or font from elsewhere, nothing
// fetched: the file can be mailed or attached to a ticket as it is.
// The page is also well-formed XML, so that tests parse it strictly.
#pragma once

#include <string>

#include "cli/map/model.hpp"

namespace sealkit::cli::map {

std::string render_html(const Picture& picture);

}  // namespace sealkit::cli::map
