#include "cli/map/model.hpp"

#include <cmath>
#include <cstdio>

#include "cli/map/escape.hpp"
#include "cli/map/palette.hpp"

namespace sealkit::cli::map {

const char* to_string(SealState s) {
  switch (s) {
    case SealState::kSealed:
      return "sealed";
    case SealState::kUnsealed:
      return "NOT sealed";
    case SealState::kNotApplicable:
      return "n/a";
  }
  return "?";
}

const char* state_key(SealState s) {
  switch (s) {
    case SealState::kSealed:
      return "sealed";
    case SealState::kUnsealed:
      return "unsealed";
    case SealState::kNotApplicable:
      return "na";
  }
  return "?";
}

const char* fill_of(SealState s) {
  switch (s) {
    case SealState::kSealed:
      return "url(#sealkit-sealed)";
    case SealState::kUnsealed:
      return "url(#sealkit-unsealed)";
    case SealState::kNotApplicable:
      return "url(#sealkit-na)";
  }
  return "none";
}

const char* text_colour_of(SealState s) {
  switch (s) {
    case SealState::kSealed:
      return kSealedText;
    case SealState::kUnsealed:
      return kUnsealedText;
    case SealState::kNotApplicable:
      return kNotApplicableText;
  }
  return "#000";
}

std::string coverage_line(const Picture& p) {
  const std::string pct = p.should_seal_bytes == 0 ? "100.0%" : percent_of(p.sealed_of_should_bytes, p.should_seal_bytes);
  if (p.should_seal_bytes == 0) return std::string("coverage ") + pct + ": nothing in this process should be sealed";
  std::string line = std::string("coverage ") + pct + ": " + human_bytes(p.sealed_of_should_bytes) + " of the " +
                     human_bytes(p.should_seal_bytes) + " that should be sealed is sealed";
  if (p.sealed_of_should_bytes != p.should_seal_bytes && !p.state.empty()) line += "; " + p.state;
  return line;
}

}  // namespace sealkit::cli::map
