// The picture as SVG: a header (pid, command, coverage), a legend, then one
// row per VMA in address order (see layout.hpp), grouped into bands.
//
// Structure that tools and tests can rely on: each band is
// <g class="band" data-name="NAME">, each VMA in it a
// <rect class="vma" data-begin="0x.." data-end="0x.." data-state="sealed|unsealed|na">
// with a <title> for hover text; the legend is <g id="legend">, the coverage
// line <text id="coverage">.
#pragma once

#include <string>

#include "cli/map/model.hpp"

namespace sealkit::cli::map {

// A standalone SVG document (XML declaration included).
std::string render_svg_document(const Picture& picture);

// The <svg> element alone, for inlining in HTML.
std::string render_svg_element(const Picture& picture);

}  // namespace sealkit::cli::map
