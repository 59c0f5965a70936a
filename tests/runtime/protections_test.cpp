// Sealing freezes whatever protection a VMA has. These programs change an
// object's protections before its seal, in every window that exists: a
// library's constructor before the machine-wide start-up pass (which runs
// after its dependencies' constructors), a dlopen'd library's constructor
// before the pass of its dlopen, the program itself before glibc's own load
// (a gconv module) is sealed at the next dlopen. Each object must end up
// sealed with what its ELF file asks for (text r-x, RELRO r--), lower
// protections the program chose kept, and no sealed VMA writable and
// executable: a segment the file asks RWX for, and data the kernel keeps
// executable under READ_IMPLIES_EXEC, are left unsealed and logged. Checked
// from outside, in /proc/PID/smaps, while the program runs, and in the
// SEALKIT_LOG lines.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/live_process.hpp"
#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Live;
using sealkit::test::smaps_of;
using sealkit::test::TempLog;
using sealkit::test::Vma;

// The "NAME VALUE" lines prot_target writes before it says "ready".
struct Report {
  std::string path;
  Report() {
    char tmpl[] = "/tmp/sealkit-test-prot-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    path = tmpl;
  }
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;
  ~Report() { unlink(path.c_str()); }
  std::map<std::string, std::string> read() const {
    std::map<std::string, std::string> m;
    std::ifstream in(path);
    std::string name, value;
    while (in >> name && std::getline(in >> std::ws, value)) m[name] = value;
    return m;
  }
};

// A running prot_target, what it reported, its VMAs and its log lines.
struct Running {
  Live live;
  Report report;
  TempLog log;
  std::map<std::string, std::string> lines;
  std::vector<Vma> vmas;
};

// `injection`: "run" (sealkit run), "machine-wide" (the preload object
// alone, as /etc/ld.so.preload loads it) or "" (what `env` says). `env`: more
// NAME=VALUE strings.
void start(Running& r, const std::string& injection, const std::string& program, std::vector<std::string> args,
           std::vector<std::string> env = {}) {
  std::vector<std::string> argv;
  if (injection == "run") argv = {SEALKIT_BIN, "run", "--"};
  else if (injection == "machine-wide") env.push_back(std::string("LD_PRELOAD=") + SEALKIT_PRELOAD);
  env.push_back("SEALKIT_LOG=" + r.log.path);
  argv.push_back(program);
  if (!args.empty() && args[0] == "--read-implies-exec") {
    argv.push_back(args[0]);
    args.erase(args.begin());
  }
  argv.push_back(r.report.path);
  argv.insert(argv.end(), args.begin(), args.end());
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(r.live, argv, env, why)) << why;
  r.lines = r.report.read();
  r.vmas = smaps_of(r.live.pid);
  ASSERT_FALSE(r.vmas.empty());
}

const Vma* vma_at(const std::vector<Vma>& vmas, const std::string& hex) {
  const std::uint64_t a = std::stoull(hex, nullptr, 16);
  for (const Vma& v : vmas)
    if (a >= v.begin && a < v.end) return &v;
  return nullptr;
}

// The VMA holding the address the program reported as `name`: its
// permissions and whether it is sealed, as "r-xp sealed".
std::string state_of(const Running& r, const std::string& name) {
  const auto it = r.lines.find(name);
  if (it == r.lines.end()) return "not reported";
  const Vma* v = vma_at(r.vmas, it->second);
  if (v == nullptr) return "unmapped";
  return v->perms + (v->sealed ? " sealed" : " open");
}

// Every sealed VMA that is writable and executable, but [stack] when
// `but_stack` (under READ_IMPLIES_EXEC the kernel makes the stack so, and a
// sealed stack is no worse than an open one: nothing would make it
// non-executable again).
std::string sealed_wx(const Running& r, bool but_stack = false) {
  std::string found;
  for (const Vma& v : r.vmas)
    if (v.sealed && v.perms[1] == 'w' && v.perms[2] == 'x' && !(but_stack && v.path == "[stack]"))
      found += v.range() + " " + v.perms + " " + v.path + "\n";
  return found;
}

// The last log line of `program` for `phase` ("startup", "later"), or null
// (the last: a program that execs itself logs for each image).
nlohmann::json line_of(const Running& r, const std::string& program, const std::string& phase) {
  const std::string exe = fs::canonical(program).string();
  nlohmann::json found;
  for (const nlohmann::json& l : r.log.lines())
    if (l.value("exe", "") == exe && l.value("phase", "") == phase) found = l;
  return found;
}

const std::string kAll = "text-rwx,relro-rw,data-ro";

}  // namespace

// Machine-wide, the preload object's constructor runs after the constructors
// of the libraries the program needs: one of them made its own text RWX, its
// RELRO writable, its data read-only. The pass lowers the first two to what
// the file asks, keeps the third, and seals all three.
TEST(Protections, MachineWideStartUpSealsWhatTheFileAsksNotWhatAConstructorLeft) {
  Running r;
  start(r, "machine-wide", PROT_TARGET, {}, {"SEALKIT_TEST_PROT_NEEDED=" + kAll});
  EXPECT_EQ(r.lines["needed_ctor"], "text-rwx=ok relro-rw=ok data-ro=ok") << "the window this test is about";
  EXPECT_EQ(state_of(r, "needed_text"), "r-xp sealed");
  EXPECT_EQ(state_of(r, "needed_relro"), "r--p sealed");
  EXPECT_EQ(state_of(r, "needed_data"), "r--p sealed") << "a lower protection the library chose is kept";
  EXPECT_EQ(sealed_wx(r), "");
  const nlohmann::json l = line_of(r, PROT_TARGET, "startup");
  ASSERT_FALSE(l.is_null()) << "no start-up log line";
  EXPECT_EQ(l["injected_as"], "preload");
  EXPECT_EQ(l["protections_checked"], true);
  EXPECT_EQ(l["protections_restored"], 2) << l.dump();
  EXPECT_EQ(l["wx_refused"], 0) << l.dump();
  EXPECT_EQ(l["mseal_failures"], 0) << l.dump();
}

// Under `sealkit run` the audit module seals before any constructor: the
// same constructor's changes fail, nothing needs restoring, and the pass
// looks at no protection (it costs nothing there).
TEST(Protections, SealkitRunSealsStartUpObjectsBeforeAnyConstructorCanChangeThem) {
  Running r;
  start(r, "run", PROT_TARGET, {}, {"SEALKIT_TEST_PROT_NEEDED=" + kAll});
  EXPECT_EQ(r.lines["needed_ctor"], "text-rwx=EPERM relro-rw=EPERM data-ro=EPERM");
  EXPECT_EQ(state_of(r, "needed_text"), "r-xp sealed");
  EXPECT_EQ(state_of(r, "needed_relro"), "r--p sealed");
  EXPECT_EQ(state_of(r, "needed_data"), "rw-p sealed");
  EXPECT_EQ(sealed_wx(r), "");
  const nlohmann::json l = line_of(r, PROT_TARGET, "startup");
  ASSERT_FALSE(l.is_null()) << "no start-up log line";
  EXPECT_EQ(l["injected_as"], "audit");
  EXPECT_EQ(l["protections_checked"], false);
  EXPECT_EQ(l["protections_restored"], 0) << l.dump();
}

// A dlopen'd library's constructor runs before the pass that seals it, in
// both deployments.
TEST(Protections, DlopenSealsWhatTheFileAsksNotWhatTheConstructorLeft) {
  for (const char* injection : {"run", "machine-wide"}) {
    SCOPED_TRACE(injection);
    Running r;
    start(r, injection, PROT_TARGET, {"dlopen", PROT_DL}, {"SEALKIT_TEST_PROT_DL=" + kAll});
    EXPECT_EQ(r.lines["dl_ctor"], "text-rwx=ok relro-rw=ok data-ro=ok");
    EXPECT_EQ(state_of(r, "dl_text"), "r-xp sealed");
    EXPECT_EQ(state_of(r, "dl_relro"), "r--p sealed");
    EXPECT_EQ(state_of(r, "dl_data"), "r--p sealed");
    EXPECT_EQ(sealed_wx(r), "");
    const nlohmann::json l = line_of(r, PROT_TARGET, "later");
    ASSERT_FALSE(l.is_null()) << "no log line for the pass";
    EXPECT_EQ(l["protections_restored"], 2) << l.dump();
    EXPECT_EQ(l["wx_refused"], 0) << l.dump();
  }
}

// glibc loads gconv modules itself; where no wrapper sees the call that made
// it (here the iconv_open of a second namespace's libc) they are sealed only
// at the program's next wrapped call, a dlopen: code running before that made
// the module's text RWX and its RELRO writable.
TEST(Protections, GlibcsOwnLoadChangedBeforeItsSealIsSealedAsItsFileAsks) {
  Running r;
  start(r, "run", PROT_TARGET, {"gconv", PROT_DL});
  ASSERT_EQ(r.lines["gconv_open"], "ok");
  EXPECT_EQ(r.lines["gconv_text_rwx"], "ok");
  EXPECT_EQ(r.lines["gconv_relro_rw"], "ok");
  EXPECT_EQ(r.lines["gconv_dlopen"], "ok");
  EXPECT_EQ(state_of(r, "gconv_text"), "r-xp sealed");
  EXPECT_EQ(state_of(r, "gconv_relro"), "r--p sealed");
  EXPECT_EQ(sealed_wx(r), "");
  const nlohmann::json l = line_of(r, PROT_TARGET, "later");
  ASSERT_FALSE(l.is_null()) << "no log line for the pass";
  EXPECT_EQ(l["protections_restored"], 2) << l.dump();
}

// A segment the file itself asks to be writable and executable: never
// sealed (sealed, it could never be made safe again), logged; the rest of
// the object is sealed. At start-up under `sealkit run` this is known from
// the program headers alone.
TEST(Protections, ASegmentTheFileAsksWritableAndExecutableIsLeftUnsealed) {
  for (const char* injection : {"run", "machine-wide"}) {
    SCOPED_TRACE(injection);
    Running r;
    start(r, injection, PROT_TARGET_WX, {});
    EXPECT_EQ(state_of(r, "wx_data"), "rwxp open");
    EXPECT_EQ(state_of(r, "needed_text"), "r-xp sealed");
    EXPECT_EQ(sealed_wx(r), "");
    const nlohmann::json l = line_of(r, PROT_TARGET_WX, "startup");
    ASSERT_FALSE(l.is_null()) << "no start-up log line";
    EXPECT_EQ(l["protections_checked"], std::string(injection) == "machine-wide") << l.dump();
    EXPECT_EQ(l["wx_refused"], 1) << l.dump();
    EXPECT_EQ(l["protections_restored"], 0) << l.dump();
  }
  Running r;
  start(r, "run", PROT_TARGET, {"dlopen", PROT_WX});
  EXPECT_EQ(state_of(r, "dl_wx_data"), "rwxp open");
  EXPECT_EQ(sealed_wx(r), "");
  std::size_t sealed_text = 0;
  for (const Vma& v : r.vmas) sealed_text += v.path == PROT_WX && v.perms == "r-xp" && v.sealed;
  EXPECT_EQ(sealed_text, 1u) << "the rest of the object is sealed";
  const nlohmann::json l = line_of(r, PROT_TARGET, "later");
  ASSERT_FALSE(l.is_null()) << "no log line for the pass";
  EXPECT_EQ(l["wx_refused"], 1) << l.dump();
}

// READ_IMPLIES_EXEC: the kernel maps every readable mapping executable too,
// and mprotect cannot take that away. x86_64's execve of a 64-bit program
// clears it, so here the program sets it and then dlopens a library. Text,
// rodata and RELRO are sealed (their execute permission is the process's,
// not a change to undo); writable data is writable and executable, and left
// unsealed.
TEST(Protections, UnderReadImpliesExecWritableDataIsLeftUnsealed) {
  Running r;
  start(r, "run", PROT_TARGET, {"read-implies-exec", "dlopen", PROT_DL});
  ASSERT_EQ(r.lines["personality"], "ok");
  EXPECT_EQ(state_of(r, "dl_data"), "rwxp open");
  EXPECT_EQ(state_of(r, "dl_text"), "r-xp sealed");
  EXPECT_EQ(state_of(r, "dl_relro"), "r-xp sealed");
  EXPECT_EQ(sealed_wx(r), "");
  const nlohmann::json l = line_of(r, PROT_TARGET, "later");
  ASSERT_FALSE(l.is_null()) << "no log line for the pass";
  EXPECT_GE(l["wx_refused"], 1) << l.dump();
}

#ifdef PROT_TARGET_I386
// A 32-bit program keeps READ_IMPLIES_EXEC across execve (setarch -X, or no
// PT_GNU_STACK): at start-up the pass looks, in both deployments. The stack
// is writable and executable then too, and sealed as it is (nothing would
// make it non-executable again).
TEST(ProtectionsI386, UnderReadImpliesExecWritableDataIsLeftUnsealedAtStartUp) {
  std::string why;
  if (!sealkit::test::kernel_executes(PROT_TARGET_I386, why)) GTEST_SKIP() << why;
  for (const char* injection : {"run", "machine-wide"}) {
    SCOPED_TRACE(injection);
    Running r;
    std::vector<std::string> env;
    if (std::string(injection) == "machine-wide") env.push_back(std::string("LD_PRELOAD=") + SEALKIT_PRELOAD_I386);
    start(r, std::string(injection) == "run" ? "run" : "", PROT_TARGET_I386, {"--read-implies-exec"}, env);
    EXPECT_EQ(state_of(r, "needed_data"), "rwxp open");
    EXPECT_EQ(state_of(r, "needed_text"), "r-xp sealed");
    EXPECT_EQ(state_of(r, "needed_relro"), "r-xp sealed");
    EXPECT_EQ(sealed_wx(r, true), "");
    const nlohmann::json l = line_of(r, PROT_TARGET_I386, "startup");
    ASSERT_FALSE(l.is_null()) << "no start-up log line";
    EXPECT_EQ(l["protections_checked"], true) << l.dump();
    EXPECT_GE(l["wx_refused"], 2) << "the data of the program and of the library at least: " << l.dump();
  }
}
#endif
