#include "cli/map/html_render.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "cli/map/escape.hpp"
#include "cli/map/palette.hpp"
#include "cli/map/svg_render.hpp"

namespace sealkit::cli::map {

namespace {

// Addresses in 12 hex digits, as smaps prints them.
std::string hex(std::uintptr_t a) { return cli::hex(a, 12); }

void write_style(std::ostringstream& o) {
  o << "<style>\n"
    << "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:16px;color:#111;background:#fff}\n"
    << ".hint{font-size:12px;color:#555;margin:0 0 4px}\n"
    << "h2{font-size:15px;margin:24px 0 8px}\n"
    << "table{border-collapse:collapse;font-size:12px}\n"
    << "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\n"
    << "th{background:#f2f2f2}\n"
    << "td.num,td.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}\n"
    << "td.num{text-align:right}\n"
    << "tr:hover td{background:#ffffd8}\n"
    << ".state-sealed{color:" << kSealedText << ";font-weight:bold}\n"
    << ".state-unsealed{color:" << kUnsealedText << ";font-weight:bold}\n"
    << ".state-na{color:" << kNotApplicableText << "}\n"
    << "</style>\n";
}

void write_table(std::ostringstream& o, const Picture& p) {
  struct Row {
    const Band* band;
    const Vma* vma;
  };
  std::vector<Row> rows;
  for (const Band& b : p.bands) {
    for (const Vma& v : b.vmas) rows.push_back({&b, &v});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.vma->range.begin < b.vma->range.begin; });
  o << "<h2>Every VMA (" << rows.size() << ")</h2>\n";
  o << "<table id=\"vmas\">\n<thead><tr><th>start</th><th>end</th><th>size</th><th>perms</th><th>band</th>"
       "<th>part</th><th>state</th><th>path</th></tr></thead>\n<tbody>\n";
  for (const Row& r : rows) {
    const Vma& v = *r.vma;
    std::string title = r.band->title.empty() ? r.band->name : r.band->title;
    o << "<tr data-state=\"" << state_key(v.state) << "\" title=\"" << markup_escape(title) << "\">"
      << "<td class=\"mono\">" << hex(v.range.begin) << "</td><td class=\"mono\">" << hex(v.range.end) << "</td>"
      << "<td class=\"num\">" << human_bytes(v.range.size()) << "</td><td class=\"mono\">" << markup_escape(v.perms)
      << "</td><td>" << markup_escape(r.band->name) << "</td><td>" << markup_escape(v.part) << "</td>"
      << "<td class=\"state-" << state_key(v.state) << "\">" << to_string(v.state) << "</td><td>"
      << markup_escape(v.path) << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n";
}

}  // namespace

std::string render_html(const Picture& p) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
    << "<meta charset=\"utf-8\"/>\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n"
    << "<title>sealkit map of pid " << p.pid << "</title>\n";
  write_style(o);
  o << "</head>\n<body>\n";
  // The picture carries the pid, command, coverage and legend; the page adds only how to use it.
  o << "<p class=\"hint\">Hover over a band, its name or a table row for the full path and range.</p>\n";
  o << render_svg_element(p);
  write_table(o, p);
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace sealkit::cli::map
