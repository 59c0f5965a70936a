// `sealkit map PID (--svg FILE | --html FILE)`: a picture of one process's
// address space, each object and mapping a band coloured by its sealing
// state. The drawing is in src/cli/map/; docs/map.md explains how to read it.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/escape.hpp"
#include "cli/map/from_audit.hpp"
#include "cli/map/html_render.hpp"
#include "cli/map/svg_render.hpp"
#include "cli/output.hpp"
#include "cli/safe_write.hpp"
#include "cli/validators.hpp"

namespace sealkit::cli {

namespace {

struct MapOptions {
  int pid = 0;
  std::string svg;
  std::string html;
};

// Writes `text` to `path` ("-": stdout), a file replaced whole
// (cli/safe_write.hpp). False with `error` set on failure.
bool write_output(const char* option, const std::string& path, const std::string& text, std::string& error) {
  if (path == "-") {
    std::cout << text << std::flush;
    if (!std::cout) error = std::string(option) + ": cannot write to standard output";
    return static_cast<bool>(std::cout);
  }
  if (write_file_safely(path, text, error)) return true;
  error = std::string(option) + ": " + error;
  return false;
}

int run_map(const MapOptions& o) {
  std::string error;
  auto picture = map::picture_of_process(o.pid, error);
  if (!picture) {
    print_error(error);
    return kExitError;
  }
  bool to_stdout = o.svg == "-" || o.html == "-";
  if (!o.svg.empty() && !write_output("--svg", o.svg, map::render_svg_document(*picture), error)) {
    print_error(error);
    return kExitError;
  }
  if (!o.html.empty() && !write_output("--html", o.html, map::render_html(*picture), error)) {
    print_error(error);
    return kExitError;
  }
  // What was drawn on stdout; which files were written is a notice, on stderr.
  if (!to_stdout) std::cout << "pid " << o.pid << ": " << visible_text(map::coverage_line(*picture)) << "\n";
  if (!o.svg.empty() && o.svg != "-") std::cerr << "sealkit: wrote " << visible_text(o.svg) << "\n";
  if (!o.html.empty() && o.html != "-") std::cerr << "sealkit: wrote " << visible_text(o.html) << "\n";
  return kExitOk;
}

}  // namespace

Runner add_map(CLI::App& app) {
  auto opts = std::make_shared<MapOptions>();
  CLI::App* sub = app.add_subcommand(
      "map", "Draw one process's address space: each object and mapping a band, sealed or not (docs/map.md)");
  sub->add_option("PID", opts->pid, "The process to draw")->required()->check(process_id());
  auto* svg = sub->add_option("--svg", opts->svg, "Write the picture as SVG to FILE ('-': stdout)")
                  ->type_name("FILE")
                  ->check(file_name(true));
  auto* html = sub->add_option("--html", opts->html, "Write a self-contained HTML page (picture, table) to FILE")
                   ->type_name("FILE")
                   ->check(file_name(true));
  sub->footer("Exit status: 0 the picture was written, 2 the process cannot be read, a file cannot be written, or bad "
              "usage. How to read it: docs/map.md.");
  // At least one output; both at once is fine, but not both on stdout.
  sub->callback([svg, html, opts] {
    if (svg->count() == 0 && html->count() == 0) throw CLI::RequiredError("--svg FILE or --html FILE");
    if (opts->svg == "-" && opts->html == "-")
      throw CLI::ValidationError("--svg - and --html -", "only one of them can go to stdout");
  });
  return [opts] { return run_map(*opts); };
}

}  // namespace sealkit::cli
