// `sealkit map`: pictures of real processes (one sealed by `sealkit run`, one
// not, one mapping a file with a hostile name), parsed strictly as XML by
// Python's xml.etree and compared with /proc/PID/smaps read here, with this
// file's own reader. Also the error cases, and the renderer's rules on their own.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/map/escape.hpp"
#include "cli/map/layout.hpp"
#include "cli/map/svg_render.hpp"
#include "runtime/live_process.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;

// ---- reading smaps, independently of src/core -------------------------------------------------------------------

using SmapsVma = sealkit::test::Vma;

std::vector<SmapsVma> read_smaps(pid_t pid) { return sealkit::test::smaps_of(pid); }

std::string basename_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// ---- parsing the picture with a strict XML parser ----------------------------------------------------------------

// Prints the bands, VMAs, legend and coverage texts of an SVG or (XHTML) HTML file as JSON; fails on any XML error.
constexpr const char* kParser = R"PY(
import json, sys, xml.etree.ElementTree as ET
SVG = '{http://www.w3.org/2000/svg}'
XHTML = '{http://www.w3.org/1999/xhtml}'
root = ET.parse(sys.argv[1]).getroot()
svg = root if root.tag == SVG + 'svg' else root.find('.//' + SVG + 'svg')
def text_of(e):
    return None if e is None else ''.join(e.itertext())
bands = []
for g in svg.iter(SVG + 'g'):
    if g.get('class') != 'band':
        continue
    names = [t.text for t in g.iter(SVG + 'text') if t.get('class') == 'band-name']  # without the hover <title>
    vmas = [{'begin': r.get('data-begin'), 'end': r.get('data-end'), 'state': r.get('data-state'),
             'fill': r.get('fill'), 'title': text_of(r.find(SVG + 'title'))}
            for r in g.iter(SVG + 'rect') if r.get('class') == 'vma']
    bands.append({'name': g.get('data-name'), 'shown_names': names, 'vmas': vmas})
legend = svg.find(".//*[@id='legend']")
patterns = {p.get('id'): [r.get('fill') for r in p.iter(SVG + 'rect')] for p in svg.iter(SVG + 'pattern')}
rows = root.findall('.//' + XHTML + 'tbody/' + XHTML + 'tr')
print(json.dumps({'bands': bands, 'legend': text_of(legend), 'coverage': text_of(svg.find(".//*[@id='coverage']")),
                  'patterns': patterns, 'html_rows': len(rows), 'root': root.tag}))
)PY";

nlohmann::json parse_picture(const std::string& file) {
  Captured c = run_captured({"python3", "-c", kParser, file});
  EXPECT_EQ(c.status, 0) << file << " is not well-formed XML: " << c.err;
  if (c.status != 0) return nullptr;
  return nlohmann::json::parse(c.out);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- processes to draw ---------------------------------------------------------------------------------------------

// A child that prints "ready" and then waits for its stdin to close (the attack target's --wait mode).
struct Waiting {
  pid_t pid = -1;
  int stdin_w = -1;
  int stdout_r = -1;
  ~Waiting() {
    if (stdin_w >= 0) close(stdin_w);
    if (pid > 0) waitpid(pid, nullptr, 0);
    if (stdout_r >= 0) close(stdout_r);
  }
};

void start_waiting(Waiting& w, const std::vector<std::string>& argv) {
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  w.pid = fork();
  ASSERT_GE(w.pid, 0);
  if (w.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  w.stdin_w = in[1];
  w.stdout_r = out[0];
  char buf[16] = {};
  ASSERT_GT(read(w.stdout_r, buf, sizeof buf - 1), 0);
  ASSERT_STREQ(buf, "ready\n");
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/sealkit-map-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

Captured sealkit_map(pid_t pid, const std::vector<std::string>& args) {
  std::vector<std::string> argv{SEALKIT_BIN, "map", std::to_string(pid)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_captured(argv);
}

// Draws `pid` and checks the picture against the process's smaps (which must not change meanwhile: the
// processes drawn here are idle). Returns the parsed SVG.
nlohmann::json draw_and_check(pid_t pid, const TempDir& dir) {
  std::string svg = (dir.path / "p.svg").string(), html = (dir.path / "p.html").string();
  std::vector<SmapsVma> before = read_smaps(pid);
  Captured c = sealkit_map(pid, {"--svg", svg, "--html", html});
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("coverage"), std::string::npos) << c.out;
  std::vector<SmapsVma> smaps = read_smaps(pid);
  EXPECT_EQ(smaps.size(), before.size()) << "the process changed while it was drawn";
  nlohmann::json pic = parse_picture(svg);
  nlohmann::json page = parse_picture(html);
  if (pic.is_null() || page.is_null()) return nullptr;

  // Every VMA smaps shows is drawn once, with the state smaps implies; none is invented.
  std::map<std::uint64_t, const nlohmann::json*> drawn;
  for (const auto& band : pic["bands"]) {
    for (const auto& v : band["vmas"]) {
      std::uint64_t begin = std::stoull(v["begin"].get<std::string>(), nullptr, 16);
      EXPECT_TRUE(drawn.emplace(begin, &v).second) << "VMA drawn twice: " << v["begin"];
    }
  }
  EXPECT_EQ(drawn.size(), smaps.size());
  const auto& patterns = pic["patterns"];
  for (const SmapsVma& s : smaps) {
    auto it = drawn.find(s.begin);
    if (it == drawn.end()) {
      ADD_FAILURE() << "smaps VMA not drawn: " << std::hex << s.begin << " " << s.path;
      continue;
    }
    const nlohmann::json& v = *it->second;
    EXPECT_EQ(std::stoull(v["end"].get<std::string>(), nullptr, 16), s.end) << s.path;
    std::string state = v["state"];
    if (s.sealed) {
      EXPECT_EQ(state, "sealed") << std::hex << s.begin << " " << s.path << " has sl in smaps";
    } else {
      EXPECT_NE(state, "sealed") << std::hex << s.begin << " " << s.path << " has no sl in smaps";
    }
    // The colour is the state's: fill="url(#sealkit-STATE)", and that pattern exists in the picture.
    std::string fill = v["fill"];
    EXPECT_EQ(fill, "url(#sealkit-" + state + ")");
    EXPECT_TRUE(patterns.contains("sealkit-" + state)) << "no pattern for " << state;
  }

  // One band per file-backed ELF object: all VMAs of one path that smaps shows executable or as the object's
  // other parts are in a single band named after the file's basename.
  std::map<std::string, std::set<std::string>> bands_of_path;
  for (const auto& band : pic["bands"]) {
    for (const auto& v : band["vmas"]) {
      std::uint64_t begin = std::stoull(v["begin"].get<std::string>(), nullptr, 16);
      for (const SmapsVma& s : smaps) {
        if (s.begin == begin && !s.path.empty() && s.path[0] == '/') bands_of_path[s.path].insert(band["name"]);
      }
    }
  }
  std::size_t objects = 0;
  for (const auto& [path, names] : bands_of_path) {
    if (path.find(".so") == std::string::npos && path != fs::canonical(ATTACK_TARGET).string()) continue;
    ++objects;
    EXPECT_EQ(names.size(), 1u) << path << " is split over bands";
    EXPECT_EQ(*names.begin(), basename_of(path));
  }
  EXPECT_GE(objects, 3u) << "the program, libc and ld.so at least";

  // The legend names the three states; the coverage line is there with a percentage.
  std::string legend = pic["legend"].is_string() ? pic["legend"].get<std::string>() : "";
  EXPECT_NE(legend.find("sealed"), std::string::npos) << legend;
  EXPECT_NE(legend.find("should be sealed"), std::string::npos) << legend;
  EXPECT_NE(legend.find("not applicable"), std::string::npos) << legend;
  std::string coverage = pic["coverage"].is_string() ? pic["coverage"].get<std::string>() : "";
  EXPECT_EQ(coverage.rfind("coverage ", 0), 0u) << coverage;
  EXPECT_NE(coverage.find('%'), std::string::npos) << coverage;

  // The HTML page holds the same picture and one table row per VMA, and nothing from elsewhere.
  EXPECT_EQ(page["root"], "{http://www.w3.org/1999/xhtml}html");
  EXPECT_EQ(page["bands"], pic["bands"]);
  EXPECT_EQ(page["html_rows"].get<std::size_t>(), smaps.size());
  std::string page_text = read_file(html);
  for (const char* outside : {"<script", "src=", "href=", "@import", "url(http", "<link"}) {
    EXPECT_EQ(page_text.find(outside), std::string::npos) << "the page refers outside itself: " << outside;
  }
  return pic;
}

std::size_t count_state(const nlohmann::json& pic, const std::string& state) {
  std::size_t n = 0;
  for (const auto& band : pic["bands"]) {
    for (const auto& v : band["vmas"]) n += v["state"] == state;
  }
  return n;
}

// The state drawn for the program's own text (its executable VMA).
std::string program_text_state(const nlohmann::json& pic) {
  for (const auto& band : pic["bands"]) {
    if (band["name"] != basename_of(fs::canonical(ATTACK_TARGET).string())) continue;
    for (const auto& v : band["vmas"]) {
      if (v["title"].get<std::string>().find(": text r-x") != std::string::npos) return v["state"];
    }
  }
  return "not found";
}

}  // namespace

TEST(SealkitMap, UnsealedProcessIsDrawnAsSmapsShowsIt) {
  Waiting w;
  start_waiting(w, {ATTACK_TARGET, "--wait"});
  TempDir dir;
  nlohmann::json pic = draw_and_check(w.pid, dir);
  ASSERT_FALSE(pic.is_null());
  // Nothing sealed it, so its own text is what should be sealed and is not.
  EXPECT_EQ(program_text_state(pic), "unsealed");
  EXPECT_GT(count_state(pic, "unsealed"), 0u);
}

// For a person: a process that is not wholly sealed says why and what to do
// (the audit's state), on stdout and in the picture; which files were
// written is a notice on stderr; a long path is shown whole; the gap up to
// [vsyscall] is named for what it is, not counted as exabytes unmapped.
TEST(SealkitMap, APictureSaysWhyAndShowsWholePaths) {
  TempDir dir;
  const fs::path deep = dir.path / "a-directory-with-a-long-name" / "and-another-one-below-it" / "where-the-program-is";
  fs::create_directories(deep);
  const fs::path program = deep / "sealkit-map-target-with-a-long-name";
  fs::copy_file(ATTACK_TARGET, program);
  fs::permissions(program, fs::perms::owner_all);
  Waiting w;
  start_waiting(w, {program.string(), "--wait"});
  const std::string svg = (dir.path / "p.svg").string();
  Captured c = sealkit_map(w.pid, {"--svg", svg});
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("; not sealed: nothing sealed it; start it under sealkit run"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("wrote"), std::string::npos) << "stdout is what was drawn: " << c.out;
  EXPECT_NE(c.err.find("sealkit: wrote " + svg), std::string::npos) << c.err;
  nlohmann::json pic = parse_picture(svg);
  ASSERT_FALSE(pic.is_null());
  EXPECT_NE(pic["coverage"].get<std::string>().find("not sealed: nothing sealed it"), std::string::npos)
      << pic["coverage"];
  const std::string text = read_file(svg);
  EXPECT_NE(text.find(program.string()), std::string::npos) << "the program's whole path (" << program.string().size()
                                                            << " characters) is shown";
  EXPECT_EQ(text.find("EiB unmapped"), std::string::npos) << "no mapping lives in the non-canonical hole";
  EXPECT_NE(text.find("the non-canonical hole and the kernel's half"), std::string::npos);
}

TEST(SealkitMap, SealedProcessIsDrawnAsSmapsShowsIt) {
  Waiting w;
  start_waiting(w, {SEALKIT_BIN, "run", "--", ATTACK_TARGET, "--wait"});
  TempDir dir;
  nlohmann::json pic = draw_and_check(w.pid, dir);
  ASSERT_FALSE(pic.is_null());
  EXPECT_EQ(program_text_state(pic), "sealed");
  std::size_t sealed_in_smaps = 0;
  for (const SmapsVma& s : read_smaps(w.pid)) sealed_in_smaps += s.sealed;
  EXPECT_EQ(count_state(pic, "sealed"), sealed_in_smaps);
  EXPECT_GT(sealed_in_smaps, 0u);
}

TEST(SealkitMap, HostilePathNamesAreEscaped) {
  TempDir dir;
  // Markup characters, a backslash, a control byte, a byte that is not UTF-8 and a right-to-left override.
  const std::string name = "map <&\"'> a\\b \x01 \xff \xe2\x80\xae.bin";
  const std::string shown = "map <&\"'> a\\\\b \\x01 \\xff \\xe2\\x80\\xae.bin";
  fs::path file = dir.path / name;
  {
    std::ofstream out(file, std::ios::binary);
    out << std::string(4096, 'x');
  }
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = open(file.c_str(), O_RDONLY);
    void* p = fd < 0 ? MAP_FAILED : mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    char c = p == MAP_FAILED ? 'n' : 'y';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  ASSERT_EQ(c, 'y') << "the child could not map the file";

  std::string svg = (dir.path / "hostile.svg").string(), html = (dir.path / "hostile.html").string();
  Captured r = sealkit_map(child, {"--svg", svg, "--html", html});
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_EQ(r.status, 0) << r.err;

  for (const std::string& out : {svg, html}) {
    nlohmann::json pic = parse_picture(out);
    ASSERT_FALSE(pic.is_null());
    bool found = false;
    for (const auto& band : pic["bands"]) {
      if (band["name"] != shown) continue;
      found = true;
      ASSERT_EQ(band["shown_names"].size(), 1u);
      EXPECT_EQ(band["shown_names"][0], shown);
    }
    EXPECT_TRUE(found) << out << " has no band named " << shown;
    std::string bytes = read_file(out);
    EXPECT_EQ(bytes.find('\x01'), std::string::npos) << out << " holds a raw control byte";
    EXPECT_EQ(bytes.find('\xff'), std::string::npos) << out << " holds a byte that is not UTF-8";
    EXPECT_EQ(bytes.find("\xe2\x80\xae"), std::string::npos) << out << " holds a raw bidi override";
  }
}

TEST(SealkitMap, ErrorsSayWhatAndExitTwo) {
  TempDir dir;
  std::string svg = (dir.path / "x.svg").string();

  // A pid that was just reaped is free.
  pid_t gone = fork();
  ASSERT_GE(gone, 0);
  if (gone == 0) _exit(0);
  ASSERT_EQ(waitpid(gone, nullptr, 0), gone);
  Captured r = sealkit_map(gone, {"--svg", svg});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no process"), std::string::npos) << r.err;

  // A zombie: exited, not reaped yet.
  pid_t zombie = fork();
  ASSERT_GE(zombie, 0);
  if (zombie == 0) _exit(0);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);
  r = sealkit_map(zombie, {"--svg", svg});
  waitpid(zombie, nullptr, 0);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("zombie"), std::string::npos) << r.err;

  // kthreadd is pid 2 in the initial pid namespace; elsewhere pid 2 may be anything.
  std::ifstream comm("/proc/2/comm");
  std::string name;
  if (std::getline(comm, name) && name == "kthreadd") {
    r = sealkit_map(2, {"--svg", svg});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("kernel thread"), std::string::npos) << r.err;
  }

  // No output named; an output that cannot be written.
  r = sealkit_map(getpid(), {});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--svg"), std::string::npos) << r.err;
  r = sealkit_map(getpid(), {"--svg", (dir.path / "no-such-dir" / "x.svg").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(svg)) << "no picture is written when drawing failed";
}

TEST(SealkitMap, PermissionDeniedSaysSo) {
  // Another user's process: as root, draw our own process as "nobody"; otherwise draw init as ourselves.
  pid_t target = geteuid() == 0 ? getpid() : 1;
  int err_pipe[2];
  ASSERT_EQ(pipe(err_pipe), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) _exit(99);
    std::string pid = std::to_string(target);
    execl(SEALKIT_BIN, SEALKIT_BIN, "map", pid.c_str(), "--svg", "/dev/null", static_cast<char*>(nullptr));
    _exit(98);
  }
  close(err_pipe[1]);
  std::string err;
  char buf[512];
  ssize_t n;
  while ((n = read(err_pipe[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<std::size_t>(n));
  close(err_pipe[0]);
  int st = 0;
  waitpid(child, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  if (WEXITSTATUS(st) == 98) GTEST_SKIP() << "the user nobody cannot run " << SEALKIT_BIN << ": " << err;
  EXPECT_EQ(WEXITSTATUS(st), 2) << err;
  EXPECT_NE(err.find("permission denied"), std::string::npos) << err;
}

// ---- the renderer's rules, on pictures built here ----------------------------------------------------------------

TEST(MapEscape, MarkupAndUnprintableBytes) {
  using sealkit::cli::map::markup_escape;
  EXPECT_EQ(markup_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(markup_escape("tab\there"), "tab\\x09here");
  EXPECT_EQ(markup_escape("back\\slash"), "back\\\\slash");
  EXPECT_EQ(markup_escape("caf\xc3\xa9"), "caf\xc3\xa9") << "valid UTF-8 stays";
  EXPECT_EQ(markup_escape("\xc3"), "\\xc3") << "a cut sequence";
  EXPECT_EQ(markup_escape("\xc0\xaf"), "\\xc0\\xaf") << "an overlong '/'";
  EXPECT_EQ(markup_escape("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a surrogate";
  EXPECT_EQ(markup_escape("\xef\xbf\xbe"), "\\xef\\xbf\\xbe") << "U+FFFE is not an XML character";
  EXPECT_EQ(markup_escape("abcdef", 3), "abc\xe2\x80\xa6");
}

TEST(MapLayout, SmallMappingsStayVisibleNextToHugeHoles) {
  using namespace sealkit::cli::map;
  Picture p;
  const std::uint64_t kib = 1024;
  auto band = [](std::string name, std::uint64_t begin, std::uint64_t size) {
    Band b;
    b.name = std::move(name);
    b.vmas.push_back(Vma{{begin, begin + size}, "r--p", "anon", "", SealState::kNotApplicable});
    return b;
  };
  p.bands.push_back(band("small", 0x10000, 4 * kib));
  p.bands.push_back(band("after a 128 TiB hole", 0x10000 + (std::uint64_t{128} << 40), 4 * kib));
  p.bands.push_back(band("touching", 0x11000, 1024 * kib));
  p.bands.push_back(band("after a 4 KiB hole", 0x10000 + 4 * kib + 1024 * kib + 4 * kib, 4 * kib));
  Layout l = lay_out(p);
  ASSERT_EQ(l.vmas.size(), 4u);
  ASSERT_EQ(l.gaps.size(), 2u);
  // Address order, whatever the band order.
  EXPECT_EQ(l.vmas[0].band, 0u);
  EXPECT_EQ(l.vmas[1].band, 2u);
  EXPECT_EQ(l.vmas[2].band, 3u);
  EXPECT_EQ(l.vmas[3].band, 1u);
  // A hole is the same small break whatever its size.
  EXPECT_EQ(l.gaps[0].height, l.gaps[1].height);
  EXPECT_EQ(l.gaps[1].end - l.gaps[1].begin, (std::uint64_t{128} << 40) - 4 * kib - 1024 * kib - 4 * kib - 4 * kib);
  // A 4 KiB mapping keeps the minimum height; 1 MiB is taller but not 256 times taller.
  EXPECT_EQ(l.vmas[0].height, kVmaBaseHeight);
  EXPECT_GT(l.vmas[1].height, l.vmas[0].height);
  EXPECT_LT(l.vmas[1].height, 4 * l.vmas[0].height);
  // Rows never overlap.
  for (std::size_t i = 1; i < l.vmas.size(); ++i) EXPECT_GE(l.vmas[i].y, l.vmas[i - 1].y + l.vmas[i - 1].height);
}

TEST(MapLayout, InterruptedBandGetsOneBoxPerRun) {
  using namespace sealkit::cli::map;
  Picture p;
  Band object;
  object.name = "libx.so";
  object.vmas.push_back(Vma{{0x1000, 0x2000}, "r-xp", "text", "/lib/libx.so", SealState::kSealed});
  object.vmas.push_back(Vma{{0x3000, 0x4000}, "rw-p", "data", "/lib/libx.so", SealState::kSealed});
  Band foreign;
  foreign.name = "anon";
  foreign.vmas.push_back(Vma{{0x2000, 0x3000}, "rw-p", "anon", "", SealState::kNotApplicable});
  p.bands = {object, foreign};
  Layout l = lay_out(p);
  ASSERT_EQ(l.boxes.size(), 3u);
  EXPECT_FALSE(l.boxes[0].continued);
  EXPECT_EQ(l.boxes[1].band, 1u);
  EXPECT_EQ(l.boxes[2].band, 0u);
  EXPECT_TRUE(l.boxes[2].continued);
  std::string svg = render_svg_document(p);
  EXPECT_NE(svg.find("libx.so (continued)"), std::string::npos);
}
