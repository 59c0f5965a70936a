#include "cli/map/svg_render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <vector>

#include "cli/map/escape.hpp"
#include "cli/map/layout.hpp"
#include "cli/map/palette.hpp"

namespace sealkit::cli::map {

namespace {

// Columns, left to right (pixels).
constexpr double kWidth = 1000;
constexpr double kAddressX = 12;
constexpr double kBarX = 132;
constexpr double kBarWidth = 170;
constexpr double kLabelX = 314;      // part
constexpr double kPermsX = 396;      // permissions
constexpr double kSizeRightX = 496;  // size, right-aligned
constexpr double kStateX = 508;
constexpr double kBracketX = 596;
constexpr double kNameX = 608;
constexpr double kBodyTop = 164;  // below header, legend and column heads
constexpr double kBottomMargin = 16;
// Names and paths are shown whole up to these lengths; the picture widens to
// fit them (svg_width) rather than cut a path while the page has room.
constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxPathChars = 240;
// Average advance per character of the band name (12.5 bold) and path (10) fonts.
constexpr double kNameCharWidth = 7.9;
constexpr double kPathCharWidth = 6.2;
constexpr std::size_t kMaxCommandChars = 110;
constexpr std::size_t kRuleLineChars = 160;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Addresses in 12 hex digits, as smaps prints them.
std::string hex(std::uintptr_t a) { return cli::hex(a, 12); }

void write_defs(std::ostringstream& o) {
  o << "<defs>\n"
    << "<pattern id=\"sealkit-sealed\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
    << "<rect width=\"8\" height=\"8\" fill=\"" << kSealedFill << "\"/></pattern>\n"
    << "<pattern id=\"sealkit-unsealed\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
       "patternTransform=\"rotate(45)\">"
    << "<rect width=\"8\" height=\"8\" fill=\"" << kUnsealedFill << "\"/>"
    << "<rect width=\"3\" height=\"8\" fill=\"" << kUnsealedStripe << "\"/></pattern>\n"
    << "<pattern id=\"sealkit-na\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
    << "<rect width=\"8\" height=\"8\" fill=\"" << kNotApplicableFill << "\"/></pattern>\n"
    << "</defs>\n";
}

void write_header(std::ostringstream& o, const Picture& p) {
  o << "<text x=\"" << num(kAddressX) << "\" y=\"26\" font-size=\"17\" font-weight=\"bold\">sealkit map of pid "
    << p.pid << "</text>\n";
  o << "<text id=\"command\" x=\"" << num(kAddressX) << "\" y=\"46\" font-size=\"12\" fill=\"#333\">"
    << markup_escape(p.command, kMaxCommandChars) << "</text>\n";
  o << "<text id=\"coverage\" x=\"" << num(kAddressX) << "\" y=\"68\" font-size=\"14\" font-weight=\"bold\">"
    << markup_escape(coverage_line(p)) << "</text>\n";
  // The rule, wrapped at spaces into lines that fit the width.
  std::string_view rule = p.coverage_rule;
  double y = 85;
  while (!rule.empty() && y < 110) {
    std::size_t cut = rule.size();
    if (cut > kRuleLineChars) {
      cut = rule.rfind(' ', kRuleLineChars);
      if (cut == std::string_view::npos || cut == 0) cut = kRuleLineChars;
    }
    o << "<text class=\"rule\" x=\"" << num(kAddressX) << "\" y=\"" << num(y)
      << "\" font-size=\"10.5\" fill=\"#555\">" << markup_escape(rule.substr(0, cut)) << "</text>\n";
    rule.remove_prefix(cut);
    while (!rule.empty() && rule.front() == ' ') rule.remove_prefix(1);
    y += 13;
  }
}

void write_legend(std::ostringstream& o) {
  struct Item {
    SealState state;
    const char* label;
  };
  static constexpr Item kItems[] = {
      {SealState::kSealed, "sealed (sl): its mapping is fixed; rw-p data stays writable"},
      {SealState::kUnsealed, "should be sealed, is NOT (why: the header)"},
      {SealState::kNotApplicable, "not applicable"},
  };
  o << "<g id=\"legend\" font-size=\"12\">\n";
  double x = kAddressX;
  for (const Item& it : kItems) {
    o << "<rect x=\"" << num(x) << "\" y=\"114\" width=\"30\" height=\"16\" fill=\"" << fill_of(it.state)
      << "\" stroke=\"#333\" stroke-width=\"0.8\"/>";
    o << "<text x=\"" << num(x + 38) << "\" y=\"127\">" << it.label << "</text>\n";
    x += 38 + static_cast<double>(std::string_view(it.label).size()) * 6.6 + 24;
  }
  o << "</g>\n";
  o << "<g font-size=\"10.5\" fill=\"#555\" font-style=\"italic\">"
    << "<text x=\"" << num(kAddressX) << "\" y=\"154\">start address</text>"
    << "<text x=\"" << num(kBarX) << "\" y=\"154\">height: log of size</text>"
    << "<text x=\"" << num(kLabelX) << "\" y=\"154\">part</text>"
    << "<text x=\"" << num(kPermsX) << "\" y=\"154\">perms</text>"
    << "<text x=\"" << num(kSizeRightX) << "\" y=\"154\" text-anchor=\"end\">size</text>"
    << "<text x=\"" << num(kStateX) << "\" y=\"154\">state</text>"
    << "<text x=\"" << num(kNameX) << "\" y=\"154\">object or mapping</text></g>\n";
}

// Hover text, already escaped: the VMA, then its full path on a second line.
std::string vma_title(const Band& band, const Vma& v) {
  std::string t = markup_escape(band.name) + ": " + markup_escape(v.part) + " " + markup_escape(v.perms) + " " +
                  hex(v.range.begin) + "-" + hex(v.range.end) + " (" + human_bytes(v.range.size()) + ") " +
                  to_string(v.state);
  if (!v.path.empty() && v.path != band.name) t += "\n" + markup_escape(v.path);
  return t;
}

// "gap 12.0 MiB unmapped". A gap that reaches past the lower half of the
// address space (up to [vsyscall], the kernel's page) is mostly the
// non-canonical hole and the kernel's half: no mapping can live there, so
// its size says nothing about the process.
std::string gap_text(const GapRow& g) {
  constexpr std::uint64_t kLowerHalfEnd = std::uint64_t{1} << 47;  // 4-level paging; 5-level goes to 2^56
  constexpr std::uint64_t kLowerHalfEnd5 = std::uint64_t{1} << 56;
  const std::uint64_t half = g.begin < kLowerHalfEnd ? kLowerHalfEnd : kLowerHalfEnd5;
  if (g.end <= half) return "gap " + human_bytes(g.end - g.begin) + " unmapped";
  if (g.begin >= half) return "the non-canonical hole and the kernel's half: no mapping lives here";
  return "gap " + human_bytes(half - g.begin) +
         " unmapped to the end of the user half, then the non-canonical hole and the kernel's half";
}

void write_gap(std::ostringstream& o, const GapRow& g, double top) {
  double y = top + g.y, mid = y + g.height / 2;
  // A zig-zag across the bar: memory continues past the break.
  o << "<path class=\"gap\" d=\"M" << num(kBarX) << " " << num(mid);
  for (int i = 1; i <= 10; ++i) {
    o << " L" << num(kBarX + kBarWidth * i / 10) << " " << num(mid + (i % 2 ? -3.5 : 3.5));
  }
  o << "\" fill=\"none\" stroke=\"#888\" stroke-width=\"1\"/>";
  o << "<text x=\"" << num(kLabelX) << "\" y=\"" << num(mid + 3.5) << "\" font-size=\"10.5\" fill=\"#777\" "
    << "font-style=\"italic\">" << gap_text(g) << "</text>\n";
}

void write_vma(std::ostringstream& o, const Band& band, const Vma& v, const VmaRow& r, double top) {
  double y = top + r.y;
  o << "<rect class=\"vma\" x=\"" << num(kBarX) << "\" y=\"" << num(y) << "\" width=\"" << num(kBarWidth)
    << "\" height=\"" << num(r.height) << "\" fill=\"" << fill_of(v.state) << "\" stroke=\"#fff\" "
    << "stroke-width=\"1\" data-begin=\"" << hex(v.range.begin) << "\" data-end=\"" << hex(v.range.end)
    << "\" data-state=\"" << state_key(v.state) << "\"><title>" << vma_title(band, v)
    << "</title></rect>\n";
  double text_y = y + 12;
  o << "<text x=\"" << num(kAddressX) << "\" y=\"" << num(text_y) << "\" class=\"addr\">" << hex(v.range.begin)
    << "</text>";
  std::string ty = num(text_y);
  o << "<text x=\"" << num(kLabelX) << "\" y=\"" << ty << "\" font-size=\"11\">" << markup_escape(v.part, 12)
    << "</text><text class=\"mono\" x=\"" << num(kPermsX) << "\" y=\"" << ty << "\" font-size=\"11\">"
    << markup_escape(v.perms, 4) << "</text><text x=\"" << num(kSizeRightX) << "\" y=\"" << ty
    << "\" font-size=\"11\" text-anchor=\"end\">" << human_bytes(v.range.size()) << "</text><text x=\""
    << num(kStateX) << "\" y=\"" << ty << "\" font-size=\"11\" font-weight=\"bold\" fill=\""
    << text_colour_of(v.state) << "\">" << to_string(v.state) << "</text>\n";
}

void write_box(std::ostringstream& o, const Band& band, const BandBox& b, double top) {
  double y = top + b.y;
  o << "<rect class=\"band-box\" x=\"" << num(kBarX - 2) << "\" y=\"" << num(y) << "\" width=\""
    << num(kBarWidth + 4) << "\" height=\"" << num(b.height) << "\" fill=\"none\" stroke=\"#222\" "
    << "stroke-width=\"1.2\"/>";
  // A bracket joining the band's rows to its name.
  o << "<path d=\"M" << num(kBracketX - 5) << " " << num(y + 1.5) << " H" << num(kBracketX) << " V"
    << num(y + b.height - 1.5) << " H" << num(kBracketX - 5) << "\" fill=\"none\" stroke=\"#444\"/>";
  o << "<text class=\"band-name\" x=\"" << num(kNameX) << "\" y=\"" << num(y + 12.5)
    << "\" font-size=\"12.5\" font-weight=\"bold\">" << markup_escape(band.name, kMaxNameChars)
    << (b.continued ? " (continued)" : "") << "<title>" << markup_escape(band.title) << "</title></text>";
  if (b.height >= 30 && band.title != band.name) {
    o << "<text x=\"" << num(kNameX) << "\" y=\"" << num(y + 26) << "\" font-size=\"10\" fill=\"#555\">"
      << markup_escape(band.title, kMaxPathChars) << "</text>";
  }
  o << "\n";
}


// kWidth, or wider when a name or path needs it.
double svg_width(const Picture& p) {
  double need = kWidth;
  for (const Band& b : p.bands) {
    const double name = static_cast<double>(std::min(b.name.size(), kMaxNameChars)) * kNameCharWidth;
    const double path = static_cast<double>(std::min(b.title.size(), kMaxPathChars)) * kPathCharWidth;
    need = std::max(need, kNameX + std::max(name, path) + 16);
  }
  return std::ceil(need);
}

}  // namespace

std::string render_svg_element(const Picture& p) {
  Layout layout = lay_out(p);
  double height = kBodyTop + layout.height + kBottomMargin;
  const double width = svg_width(p);
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\"" << num(height)
    << "\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\" "
    << "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" role=\"img\">\n";
  o << "<title>sealkit map of pid " << p.pid << ": " << markup_escape(coverage_line(p)) << "</title>\n";
  o << "<style>.addr,.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}.addr{font-size:10.5px;"
       "fill:#333}</style>\n";
  write_defs(o);
  o << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  write_header(o, p);
  write_legend(o);

  // Rows grouped per band, so that a band is one <g>; its boxes after its rows, on top.
  std::vector<std::vector<const VmaRow*>> rows_of(p.bands.size());
  std::vector<std::vector<const BandBox*>> boxes_of(p.bands.size());
  for (const VmaRow& r : layout.vmas) rows_of[r.band].push_back(&r);
  for (const BandBox& box : layout.boxes) boxes_of[box.band].push_back(&box);
  for (std::size_t b = 0; b < p.bands.size(); ++b) {
    const Band& band = p.bands[b];
    o << "<g class=\"band\" data-name=\"" << markup_escape(band.name) << "\">\n";
    for (const VmaRow* r : rows_of[b]) write_vma(o, band, band.vmas[r->vma], *r, kBodyTop);
    for (const BandBox* box : boxes_of[b]) write_box(o, band, *box, kBodyTop);
    o << "</g>\n";
  }
  for (const GapRow& g : layout.gaps) write_gap(o, g, kBodyTop);
  o << "</svg>\n";
  return o.str();
}

std::string render_svg_document(const Picture& p) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render_svg_element(p);
}

}  // namespace sealkit::cli::map
