// The picture's colours: Okabe-Ito blue and vermillion, which colour-blind
// readers tell apart, plus a pattern per state so that a greyscale print still
// reads: sealed is solid dark, "should be sealed but is not" is striped,
// not applicable is plain light grey.
#pragma once

#include "cli/map/model.hpp"

namespace sealkit::cli::map {

inline constexpr const char* kSealedFill = "#0072B2";
inline constexpr const char* kUnsealedFill = "#D55E00";
inline constexpr const char* kUnsealedStripe = "#FBE0CC";
inline constexpr const char* kNotApplicableFill = "#E4E4E4";
// Darker shades of the same hues for text on white (contrast >= 4.5:1).
inline constexpr const char* kSealedText = "#00507D";
inline constexpr const char* kUnsealedText = "#A03F00";
inline constexpr const char* kNotApplicableText = "#595959";

// The SVG paint for a state: "url(#sealkit-sealed)" and so on (defs in svg_render.cpp).
const char* fill_of(SealState s);
const char* text_colour_of(SealState s);
// The short machine name used in data-state attributes and CSS classes.
const char* state_key(SealState s);

}  // namespace sealkit::cli::map
