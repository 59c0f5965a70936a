// `sealkit audit` on real processes started here: a sealed one (`sealkit run
// -- sleep`), an unsealed one (plain `sleep`) and one that seals an anonymous
// mapping itself. Its JSON is compared with /proc/PID/smaps read here with
// plain string code (not sealkit's parser); its Prometheus output is read
// with the Python prometheus_client parser; --require's exit status is
// checked around the measured coverage.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <elf.h>
#include <grp.h>
#include <pwd.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/subprocess.hpp"
#include "sealkit/sealkit.h"

namespace {

using nlohmann::json;
using sealkit::test::Captured;

Captured sealkit_cli(std::vector<std::string> args) {
  args.insert(args.begin(), SEALKIT_BIN);
  return sealkit::test::run_captured(args);
}

// ---- an independent reading of smaps ------------------------------------

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Begin, end, permissions, path and `sl`, read with plain string code.
using PlainVma = sealkit::test::Vma;

std::vector<PlainVma> plain_smaps(pid_t pid) { return sealkit::test::smaps_of(pid); }

bool starts_with_elf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char m[4] = {};
  in.read(m, 4);
  return in && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
}

std::vector<PlainVma> from_json(const json& proc) {
  std::vector<PlainVma> out;
  for (const json& v : proc.at("vma_list")) {
    PlainVma p;
    p.begin = std::stoull(v.at("start").get<std::string>(), nullptr, 16);
    p.end = std::stoull(v.at("end").get<std::string>(), nullptr, 16);
    p.perms = v.at("perms");
    p.path = v.at("path");
    // smaps shows only the kernel's seals; a seccomp filter's (sealed_by "filter") are audit_filters_test's.
    p.sealed = v.at("sealed_by") == "kernel";
    EXPECT_EQ(v.at("sealed").get<bool>(), !v.at("sealed_by").is_null()) << v;
    out.push_back(p);
  }
  return out;
}

struct PathCount {
  unsigned sealed = 0, unsealed = 0;
  unsigned long long bytes = 0;
  bool operator==(const PathCount&) const = default;
};

std::map<std::string, PathCount> per_path(const std::vector<PlainVma>& vmas) {
  std::map<std::string, PathCount> m;
  for (const PlainVma& v : vmas) {
    PathCount& c = m[v.path];
    (v.sealed ? c.sealed : c.unsealed) += 1;
    c.bytes += v.end - v.begin;
  }
  return m;
}

// ---- processes to audit -------------------------------------------------

std::string readlink_str(const std::string& p) {
  char buf[4096];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A child process, killed and reaped when the test ends.
struct Child {
  pid_t pid = -1;
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Starts argv and waits until it is `sleep` blocked in clock_nanosleep (230
// on x86-64 in /proc/PID/syscall): loaded, sealed if it is to be, and idle.
void start_sleeper(Child& c, const std::vector<std::string>& argv) {
  c.pid = ::fork();
  ASSERT_GE(c.pid, 0);
  if (c.pid == 0) {
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    _exit(127);
  }
  const std::string base = "/proc/" + std::to_string(c.pid);
  for (int i = 0; i < 1000; ++i) {
    if (readlink_str(base + "/exe") == "/usr/bin/sleep" && read_text(base + "/syscall").rfind("230 ", 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "pid " << c.pid << " did not reach its sleep";
}

// A forked copy of this test that seals an anonymous mapping itself, says
// where through a pipe, and waits.
void start_self_sealer(Child& c, unsigned long long& addr) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  c.pid = ::fork();
  ASSERT_GE(c.pid, 0);
  if (c.pid == 0) {
    void* m = ::mmap(nullptr, 2 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long long a = m == MAP_FAILED || sealkit_mseal(m, 2 * 4096, 0) != 0 ? 0 : reinterpret_cast<std::uintptr_t>(m);
    if (::write(p[1], &a, sizeof a) != sizeof a) _exit(1);
    for (;;) ::pause();
  }
  ::close(p[1]);
  ASSERT_EQ(::read(p[0], &addr, sizeof addr), static_cast<ssize_t>(sizeof addr));
  ::close(p[0]);
  ASSERT_NE(addr, 0u) << "the child could not seal its mapping";
}

const json* find_process(const json& report, pid_t pid) {
  for (const json& p : report.at("processes"))
    if (p.at("pid") == pid) return &p;
  return nullptr;
}

json audit_json(const std::vector<std::string>& args) {
  Captured r = sealkit_cli(args);
  EXPECT_EQ(r.status, 0) << r.err;
  return json::parse(r.out);
}

bool have_mseal() { return std::string(sealkit_backend()) == "kernel"; }

// The checks every audited process must pass against its own smaps.
void expect_matches_smaps(const json& proc, const std::vector<PlainVma>& plain) {
  SCOPED_TRACE("pid " + std::to_string(proc.at("pid").get<int>()) + " " + proc.at("comm").get<std::string>());
  std::vector<PlainVma> got = from_json(proc);
  EXPECT_EQ(got, plain);
  EXPECT_EQ(per_path(got), per_path(plain));
  unsigned long long sealed_vmas = 0, sealed_bytes = 0, bytes = 0;
  for (const PlainVma& v : plain) {
    bytes += v.end - v.begin;
    if (v.sealed) {
      ++sealed_vmas;
      sealed_bytes += v.end - v.begin;
    }
  }
  EXPECT_EQ(proc.at("vmas"), plain.size());
  EXPECT_EQ(proc.at("bytes"), bytes);
  EXPECT_EQ(proc.at("sealed_vmas").get<unsigned long long>() - proc.at("filter_sealed_vmas").get<unsigned long long>(),
            sealed_vmas);
  EXPECT_EQ(proc.at("sealed_bytes").get<unsigned long long>() - proc.at("filter_sealed_bytes").get<unsigned long long>(),
            sealed_bytes);
  // Kernel mappings and the main stack are always asked for; the heap never.
  for (const json& v : proc.at("vma_list")) {
    const std::string path = v.at("path");
    if (path == "[stack]" || path == "[vdso]" || path == "[vvar]" || path == "[vvar_vclock]") {
      EXPECT_EQ(v.at("should_seal_bytes"), std::stoull(v.at("end").get<std::string>(), nullptr, 16) -
                                               std::stoull(v.at("start").get<std::string>(), nullptr, 16))
          << path;
    }
    if (path == "[heap]") {
      EXPECT_EQ(v.at("class"), "heap");
      EXPECT_EQ(v.at("should_seal_bytes"), 0);
    }
  }
}

}  // namespace

TEST(SealkitAudit, PidsMatchAnIndependentReadingOfSmaps) {
  if (!have_mseal()) GTEST_SKIP() << "this kernel has no mseal(2): nothing would be sealed";
  Child sealed, plain, self;
  start_sleeper(sealed, {SEALKIT_BIN, "run", "--", "sleep", "300"});
  start_sleeper(plain, {"sleep", "300"});
  unsigned long long self_addr = 0;
  start_self_sealer(self, self_addr);
  if (HasFatalFailure()) return;

  json j = audit_json({"audit", std::to_string(sealed.pid), std::to_string(plain.pid), std::to_string(self.pid),
                       "--json", "--vmas"});
  for (pid_t pid : {sealed.pid, plain.pid, self.pid}) {
    const json* p = find_process(j, pid);
    ASSERT_NE(p, nullptr) << pid;
    ASSERT_EQ(p->at("status"), "ok") << *p;
    expect_matches_smaps(*p, plain_smaps(pid));
  }

  // The sealed sleep: every VMA of an ELF file is asked for and sealed, so coverage is complete.
  const json& s = *find_process(j, sealed.pid);
  EXPECT_EQ(s.at("coverage_bytes_percent"), 100.0);
  EXPECT_EQ(s.at("sealed_should_vmas"), s.at("should_vmas"));
  EXPECT_TRUE(s.at("unsealed_classes").empty());
  EXPECT_GE(s.at("objects_fully_sealed").get<int>(), 4);  // sleep, libc, ld.so, the runtime

  // The plain sleep: nothing sealed; the VMAs asked for include every VMA of every ELF file it maps.
  const json& u = *find_process(j, plain.pid);
  EXPECT_EQ(u.at("sealed_vmas"), 0);
  EXPECT_EQ(u.at("coverage_bytes_percent"), 0.0);
  unsigned elf_file_vmas = 0, asked_file_vmas = 0;
  for (const json& v : u.at("vma_list")) {
    const std::string path = v.at("path");
    const bool elf = !path.empty() && path[0] == '/' && starts_with_elf_magic(path);
    elf_file_vmas += elf;
    if (!path.empty() && path[0] == '/') {
      asked_file_vmas += v.at("should_seal_bytes").get<unsigned long long>() != 0;
      EXPECT_EQ(v.at("class").get<std::string>().rfind("elf_", 0) == 0, elf) << path;
    }
  }
  EXPECT_EQ(asked_file_vmas, elf_file_vmas);
  EXPECT_GE(elf_file_vmas, 10u);

  // The self-sealer: its mapping is sealed, counted as sealed, and not something the rule asks for.
  const json& me = *find_process(j, self.pid);
  bool seen = false;
  for (const json& v : me.at("vma_list")) {
    if (std::stoull(v.at("start").get<std::string>(), nullptr, 16) != self_addr) continue;
    seen = true;
    EXPECT_EQ(v.at("class"), "anon");
    EXPECT_EQ(v.at("sealed"), true);
    EXPECT_EQ(v.at("should_seal_bytes"), 0);
    EXPECT_EQ(v.at("verdict"), "sealed");
  }
  EXPECT_TRUE(seen);
  EXPECT_GE(me.at("sealed_vmas").get<int>(), 1);
  EXPECT_EQ(me.at("sealed_should_vmas"), 0);

  // Machine totals are the sums over the processes.
  unsigned long long should = 0, sealed_should = 0;
  for (const json& p : j.at("processes")) {
    should += p.at("should_bytes").get<unsigned long long>();
    sealed_should += p.at("sealed_should_bytes").get<unsigned long long>();
  }
  EXPECT_EQ(j.at("totals").at("should_bytes"), should);
  EXPECT_EQ(j.at("totals").at("sealed_should_bytes"), sealed_should);
  EXPECT_EQ(j.at("totals").at("processes"), 3);
}

// --all: every process whose smaps did not change while the audit ran (read
// before and after here) matches the independent reading exactly.
TEST(SealkitAudit, AllMatchesAnIndependentReadingOfEveryStableProcess) {
  if (!have_mseal()) GTEST_SKIP() << "this kernel has no mseal(2): nothing would be sealed";
  Child sealed, plain;
  start_sleeper(sealed, {SEALKIT_BIN, "run", "--", "sleep", "300"});
  start_sleeper(plain, {"sleep", "300"});
  if (HasFatalFailure()) return;

  std::map<pid_t, std::vector<PlainVma>> before;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") == std::string::npos) {
      const pid_t pid = std::stoi(name);
      before[pid] = plain_smaps(pid);
    }
  }
  json j = audit_json({"audit", "--all", "--json", "--vmas"});
  std::size_t compared = 0, ok = 0, changed = 0;
  std::set<pid_t> compared_pids;
  std::size_t by_status_total = 0;
  for (const auto& [name, n] : j.at("skipped").items()) by_status_total += n.get<std::size_t>();
  for (const json& p : j.at("processes")) {
    if (p.at("status") != "ok") continue;
    ++ok;
    const pid_t pid = p.at("pid");
    auto it = before.find(pid);
    if (it == before.end()) continue;  // started after the first reading (e.g. the audit itself)
    std::vector<PlainVma> after = plain_smaps(pid);
    if (after != it->second) {
      ++changed;
      continue;
    }
    expect_matches_smaps(p, after);
    ++compared;
    compared_pids.insert(pid);
  }
  EXPECT_EQ(by_status_total + ok, j.at("processes").size());
  EXPECT_EQ(j.at("totals").at("processes"), ok);
  EXPECT_TRUE(compared_pids.count(sealed.pid));
  EXPECT_TRUE(compared_pids.count(plain.pid));
  std::printf("compared %zu of %zu audited processes with their smaps; %zu changed meanwhile\n", compared, ok, changed);
  EXPECT_GE(compared * 2, ok);  // a busy machine changes some, not most
}

TEST(SealkitAudit, PrometheusOutputParsesAndEqualsTheJson) {
  if (!have_mseal()) GTEST_SKIP() << "this kernel has no mseal(2): nothing would be sealed";
  if (std::system("/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/bootstrap installs it)";
  Child sealed, plain;
  start_sleeper(sealed, {SEALKIT_BIN, "run", "--", "sleep", "300"});
  start_sleeper(plain, {"sleep", "300"});
  if (HasFatalFailure()) return;
  const std::string s = std::to_string(sealed.pid), u = std::to_string(plain.pid);

  char dir_template[] = "/tmp/sealkit-audit-prom-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template, prom = dir + "/sealkit.prom";
  Captured w = sealkit_cli({"audit", s, u, "--format", "prometheus", "--per-process", "--output", prom});
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_EQ(w.out, "");
  struct stat st;
  EXPECT_NE(::stat((prom + ".tmp").c_str(), &st), 0) << "the temporary file must be renamed away";
  json j = audit_json({"audit", s, u, "--json"});

  // The real parser: every sample as {"name{label=value,...}": value}.
  const std::string py =
      "import json, sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "out = {}\n"
      "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
      "    for smp in fam.samples:\n"
      "        labels = ','.join(f'{k}={v}' for k, v in sorted(smp.labels.items()))\n"
      "        out[smp.name + '{' + labels + '}'] = smp.value\n"
      "print(json.dumps(out))\n";
  Captured parsed = sealkit::test::run_captured({"/usr/bin/python3", "-c", py, prom});
  ASSERT_EQ(parsed.status, 0) << parsed.err;
  json m = json::parse(parsed.out);
  ::unlink(prom.c_str());
  ::rmdir(dir.c_str());

  const json& t = j.at("totals");
  EXPECT_DOUBLE_EQ(m.at("sealkit_audit_coverage_bytes_ratio{}").get<double>(),
                   t.at("coverage_bytes_percent").get<double>() / 100);
  EXPECT_DOUBLE_EQ(m.at("sealkit_audit_coverage_vmas_ratio{}").get<double>(),
                   t.at("coverage_vmas_percent").get<double>() / 100);
  EXPECT_EQ(m.at("sealkit_audit_processes{status=ok}"), 2);
  EXPECT_EQ(m.at("sealkit_audit_objects{}"), t.at("objects"));
  for (const char* cls : {"elf_text", "elf_rodata", "elf_relro", "elf_data", "elf_bss", "elf_gap", "vdso", "vvar",
                          "vvar_vclock", "stack", "heap", "thread_stack", "anon", "shm", "file", "special"}) {
    SCOPED_TRACE(cls);
    const json c = t.at("classes").contains(cls) ? t.at("classes").at(cls) : json{};
    auto val = [&](const char* key) { return c.is_null() ? 0.0 : c.at(key).get<double>(); };
    const std::string l = std::string("{class=") + cls + "}";
    EXPECT_EQ(m.at("sealkit_audit_vmas" + l).get<double>(), val("vmas"));
    EXPECT_EQ(m.at("sealkit_audit_bytes" + l).get<double>(), val("bytes"));
    EXPECT_EQ(m.at("sealkit_audit_should_seal_bytes" + l).get<double>(), val("should_bytes"));
    EXPECT_EQ(m.at("sealkit_audit_should_seal_sealed_bytes" + l).get<double>(), val("sealed_should_bytes"));
    EXPECT_EQ(m.at("sealkit_audit_should_seal_vmas" + l).get<double>(), val("should_vmas"));
    EXPECT_EQ(m.at("sealkit_audit_sealed_vmas" + l).get<double>(), val("sealed_vmas"));
    EXPECT_EQ(m.at("sealkit_audit_partial_vmas" + l).get<double>(), val("partial_vmas"));
    EXPECT_EQ(m.at("sealkit_audit_partial_bytes" + l).get<double>(), val("partial_bytes"));
    EXPECT_EQ(m.at("sealkit_audit_supervised_vmas" + l).get<double>(), val("supervised_vmas"));
    EXPECT_EQ(m.at("sealkit_audit_supervised_bytes" + l).get<double>(), val("supervised_bytes"));
  }
  for (const json& p : j.at("processes")) {
    const std::string l = "{comm=" + p.at("comm").get<std::string>() + ",pid=" + std::to_string(p.at("pid").get<int>()) + "}";
    EXPECT_EQ(m.at("sealkit_audit_process_should_seal_bytes" + l).get<double>(), p.at("should_bytes").get<double>());
    EXPECT_DOUBLE_EQ(m.at("sealkit_audit_process_coverage_bytes_ratio" + l).get<double>(),
                     p.at("coverage_bytes_percent").get<double>() / 100);
  }
}

TEST(SealkitAudit, RequireExitsOneBelowTheMeasuredCoverageOnly) {
  if (!have_mseal()) GTEST_SKIP() << "this kernel has no mseal(2): nothing would be sealed";
  Child sealed, plain;
  start_sleeper(sealed, {SEALKIT_BIN, "run", "--", "sleep", "300"});
  start_sleeper(plain, {"sleep", "300"});
  if (HasFatalFailure()) return;
  const std::string s = std::to_string(sealed.pid), u = std::to_string(plain.pid);

  json j = audit_json({"audit", s, u, "--json"});
  const double coverage = j.at("totals").at("coverage_bytes_percent");
  ASSERT_GT(coverage, 1.0);
  ASSERT_LT(coverage, 99.0);
  char below[32], above[32];
  std::snprintf(below, sizeof below, "%.4f", coverage - 0.5);
  std::snprintf(above, sizeof above, "%.4f", coverage + 0.5);
  EXPECT_EQ(sealkit_cli({"audit", s, u, "--require", below}).status, 0);
  Captured fail = sealkit_cli({"audit", s, u, "--require", above});
  EXPECT_EQ(fail.status, 1);
  EXPECT_NE(fail.err.find("below the required"), std::string::npos) << fail.err;
  EXPECT_EQ(sealkit_cli({"audit", s, "--require", "100"}).status, 0);
  EXPECT_EQ(sealkit_cli({"audit", u, "--require", "0.01"}).status, 1);
  EXPECT_EQ(sealkit_cli({"audit", u, "--require", "0"}).status, 0);
}

TEST(SealkitAudit, VanishedAndZombieProcessesAreCountedNotErrors) {
  pid_t gone = ::fork();
  ASSERT_GE(gone, 0);
  if (gone == 0) _exit(0);
  ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
  pid_t zombie = ::fork();
  ASSERT_GE(zombie, 0);
  if (zombie == 0) _exit(0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);

  Captured r = sealkit_cli({"audit", std::to_string(gone), std::to_string(zombie), "--json"});
  ::waitpid(zombie, nullptr, 0);
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(find_process(j, gone)->at("status"), "gone");
  EXPECT_EQ(find_process(j, zombie)->at("status"), "zombie");
  EXPECT_EQ(j.at("skipped").at("gone"), 1);
  EXPECT_EQ(j.at("skipped").at("zombie"), 1);
  EXPECT_EQ(j.at("totals").at("processes"), 0);
  EXPECT_TRUE(j.at("totals").at("coverage_bytes_percent").is_null());
  // Nothing measured cannot meet a requirement.
  EXPECT_EQ(sealkit_cli({"audit", std::to_string(gone), "--require", "0"}).status, 1);

  Captured table = sealkit_cli({"audit", std::to_string(gone)});
  EXPECT_EQ(table.status, 0);
  EXPECT_NE(table.out.find("skipped: 1 (1 gone"), std::string::npos) << table.out;
}

TEST(SealkitAudit, BadUsageExitsTwoAndSaysWhatToDo) {
  Captured none = sealkit_cli({"audit"});
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("--all"), std::string::npos) << none.err;
  EXPECT_EQ(sealkit_cli({"audit", "--all", "1"}).status, 2);
  EXPECT_EQ(sealkit_cli({"audit", "--all", "--require", "101"}).status, 2);
  EXPECT_EQ(sealkit_cli({"audit", "--all", "--format", "xml"}).status, 2);
  EXPECT_EQ(sealkit_cli({"audit", "--all", "--json", "--format", "prometheus"}).status, 2);
  EXPECT_EQ(sealkit_cli({"audit", "0"}).status, 2);
  EXPECT_EQ(sealkit_cli({"audit", "12abc"}).status, 2);
  Captured unwritable = sealkit_cli({"audit", "1", "--output", "/nonexistent-dir/x.prom"});
  EXPECT_EQ(unwritable.status, 2);
  EXPECT_NE(unwritable.err.find("--output"), std::string::npos) << unwritable.err;
}

// A process names itself with bytes that are not UTF-8, quotes, a backslash,
// a newline and a terminal escape: the JSON and the Prometheus text still
// parse and carry the name as Python decodes the kernel's bytes (invalid
// ones replaced); the table carries no control character.
TEST(SealkitAudit, HostileCommDoesNotBreakAnyFormat) {
  if (std::system("/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/bootstrap installs it)";
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  Child c;
  c.pid = ::fork();
  ASSERT_GE(c.pid, 0);
  if (c.pid == 0) {
    ::prctl(PR_SET_NAME, "\xff\"a\\b\n\x1b[2J\xc3", 0, 0, 0);
    if (::write(p[1], "x", 1) != 1) _exit(1);
    for (;;) ::pause();
  }
  ::close(p[1]);
  char x;
  ASSERT_EQ(::read(p[0], &x, 1), 1);
  ::close(p[0]);
  const std::string pid = std::to_string(c.pid);

  Captured table = sealkit_cli({"audit", pid});
  ASSERT_EQ(table.status, 0) << table.err;
  for (char ch : table.out) EXPECT_TRUE(ch == '\n' || static_cast<unsigned char>(ch) >= 0x20) << table.out;

  char dir_template[] = "/tmp/sealkit-audit-comm-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  Captured js = sealkit_cli({"audit", pid, "--json", "--output", dir + "/a.json"});
  ASSERT_EQ(js.status, 0) << js.err;
  Captured prom = sealkit_cli({"audit", pid, "--format", "prometheus", "--per-process", "--output", dir + "/a.prom"});
  ASSERT_EQ(prom.status, 0) << prom.err;
  const std::string py =
      "import json, sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "pid, jpath, ppath = sys.argv[1:]\n"
      "want = open(f'/proc/{pid}/comm', 'rb').read()[:-1].decode('utf-8', 'replace')\n"
      "got = [p['comm'] for p in json.load(open(jpath))['processes']]\n"
      "labels = [s.labels['comm'] for f in text_string_to_metric_families(open(ppath).read())\n"
      "          for s in f.samples if 'comm' in s.labels]\n"
      "print(ascii(want), ascii(got), ascii(labels))\n"
      "sys.exit(0 if got == [want] and labels == [want] * 5 else 1)\n";  // five per-process families
  Captured check = sealkit::test::run_captured({"/usr/bin/python3", "-c", py, pid, dir + "/a.json", dir + "/a.prom"});
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  std::printf("%s", check.out.c_str());
  ::unlink((dir + "/a.json").c_str());
  ::unlink((dir + "/a.prom").c_str());
  ::rmdir(dir.c_str());
}

// What `sealkit audit` said of a process that keeps exec'ing, audited over
// and over until `seconds` have passed: of the reports given of it ("ok"),
// those `judge` finds whole (it returns "") and the others (it says what is
// missing; the first is kept).
struct ExecAudits {
  int audits = 0, whole = 0, partial = 0;
  std::string first_partial;
};

ExecAudits audit_while_it_execs(const std::string& program, const std::string& arg, int seconds,
                                const std::function<std::string(const json& vma_list)>& judge) {
  ExecAudits r;
  const pid_t child = ::fork();
  if (child < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return r;
  }
  if (child == 0) {
    ::execl(program.c_str(), program.c_str(), arg.empty() ? nullptr : arg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    Captured o = sealkit_cli({"audit", "--json", "--vmas", "--no-filters", std::to_string(child)});
    if (o.status != 0) {
      ADD_FAILURE() << o.err;
      break;
    }
    ++r.audits;
    const json j = json::parse(o.out);
    const json* p = find_process(j, child);
    if (p == nullptr || p->at("status") != "ok") continue;
    const std::string why = judge(p->at("vma_list"));
    if (why.empty()) {
      ++r.whole;
    } else if (++r.partial == 1) {
      r.first_partial = why;
    }
  }
  int status = 0;
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << program << " ended by itself (status " << status << "): it stopped exec'ing";
  return r;
}

// The kernel ends /proc/PID/smaps early, with no error, when the address
// space it was opened on goes away between two reads (the process exec'd or
// exited): what was read is then true but partial, and a report made of it
// could leave out exactly the unsealed mappings. A process that execs itself
// many times a second, each image making 6000 VMAs: every report the audit
// gives of it ("ok") holds the whole list, up to [stack], which lies above
// every mapping the image makes; the others are skipped (torn, gone).
TEST(SealkitAudit, AProcessThatExecsWhileReadIsNeverReportedFromPartOfItsMappings) {
  const ExecAudits r = audit_while_it_execs(AUDIT_EXEC_LOOP_TARGET, "3000", 4, [](const json& vmas) {
    for (const json& v : vmas)
      if (v.at("path") == "[stack]") return std::string();
    return std::to_string(vmas.size()) + " VMAs, the last at " + vmas.back().at("start").get<std::string>();
  });
  EXPECT_EQ(r.partial, 0) << r.partial << " of " << r.audits
                          << " reports were made from part of the mappings (first: " << r.first_partial << ")";
  EXPECT_GT(r.whole, 0) << "no whole report in " << r.audits << " audits: nothing was checked";
}

#if defined(__x86_64__)
// Writes a static x86-64 program, no libc, that sleeps 1 ms and execs itself
// (/proc/self/exe) over and over. Beside the page holding its headers and
// code it has `extra` one-page PT_LOAD segments with gaps between them: the
// kernel maps them one by one after it has installed the new address space,
// so a reader often finds that space without them, still being built. A
// finished image holds exactly extra + 1 mappings of the file.
void write_slow_exec_image(const std::string& path, int extra) {
  constexpr std::uint64_t kBase = 0x400000, kPage = 4096;
  const std::uint64_t code_offset = 16 * kPage;  // past the program headers (at most 64 KiB)
  const std::uint16_t phnum = static_cast<std::uint16_t>(extra + 2);  // + the code's segment + PT_GNU_STACK
  EXPECT_LE(phnum * sizeof(Elf64_Phdr) + sizeof(Elf64_Ehdr), code_offset);
  std::vector<unsigned char> file(code_offset + kPage, 0);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = kBase + code_offset;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = phnum;
  std::memcpy(file.data(), &eh, sizeof eh);

  std::vector<Elf64_Phdr> ph(phnum);
  ph[0] = {PT_LOAD, PF_R | PF_X, 0, kBase, kBase, code_offset + kPage, code_offset + kPage, kPage};
  for (int i = 1; i <= extra; ++i) {
    const std::uint64_t at = kBase + code_offset + kPage + static_cast<std::uint64_t>(i) * 2 * kPage;
    ph[static_cast<std::size_t>(i)] = {PT_LOAD, PF_R, 0, at, at, kPage, kPage, kPage};
  }
  ph.back() = {PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16};
  std::memcpy(file.data() + sizeof eh, ph.data(), ph.size() * sizeof(Elf64_Phdr));

  // nanosleep(&{0, 1 ms}, 0); execve("/proc/self/exe", argv, envp); exit(1)
  const unsigned char code[] = {
      0x48, 0x8d, 0x3d, 0x39, 0x00, 0x00, 0x00,  // lea rdi, [rip + 0x39]   (the timespec, at 0x40)
      0x31, 0xf6,                                // xor esi, esi
      0xb8, 0x23, 0x00, 0x00, 0x00,              // mov eax, SYS_nanosleep
      0x0f, 0x05,                                // syscall
      0x48, 0x8d, 0x3d, 0x39, 0x00, 0x00, 0x00,  // lea rdi, [rip + 0x39]   (the path, at 0x50)
      0x48, 0x8d, 0x74, 0x24, 0x08,              // lea rsi, [rsp + 8]      (argv)
      0x48, 0x8b, 0x04, 0x24,                    // mov rax, [rsp]          (argc)
      0x48, 0x8d, 0x54, 0xc4, 0x10,              // lea rdx, [rsp + rax*8 + 16] (envp)
      0xb8, 0x3b, 0x00, 0x00, 0x00,              // mov eax, SYS_execve
      0x0f, 0x05,                                // syscall
      0xbf, 0x01, 0x00, 0x00, 0x00,              // mov edi, 1
      0xb8, 0x3c, 0x00, 0x00, 0x00,              // mov eax, SYS_exit
      0x0f, 0x05,                                // syscall
  };
  static_assert(sizeof code == 0x38);  // the data starts at 0x40
  unsigned char* at = file.data() + code_offset;
  std::memcpy(at, code, sizeof code);
  const std::uint64_t timespec[2] = {0, 1000000};
  std::memcpy(at + 0x40, timespec, sizeof timespec);  // 0x07 (rip after the first lea) + 0x39
  std::memcpy(at + 0x50, "/proc/self/exe", 15);       // 0x17 (rip after the second lea) + 0x39

  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  out.close();
  ASSERT_TRUE(out) << path;
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0) << path;
}
#endif

// exec installs the new address space first and maps the program into it
// after: smaps read in between is whole and its address space lives, yet it
// is not the program's memory (the new stack alone). A program whose exec
// maps 1000 segments, exec'ing itself all the time: every report the audit
// gives of it ("ok") lists all of them; the others are skipped.
TEST(SealkitAudit, AProcessCaughtInTheMiddleOfAnExecIsNeverReportedFromItsUnfinishedImage) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the program exec'ing itself is written as x86-64 machine code";
#else
  char dir_template[] = "/tmp/sealkit-audit-midexec-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string image = std::string(dir_template) + "/slow-exec";
  constexpr int kExtra = 1000;
  write_slow_exec_image(image, kExtra);
  if (::testing::Test::HasFatalFailure()) return;
  const ExecAudits r = audit_while_it_execs(image, "", 3, [&](const json& vmas) {
    int of_image = 0;
    for (const json& v : vmas) of_image += v.at("path") == image;
    if (of_image == kExtra + 1) return std::string();
    return std::to_string(vmas.size()) + " VMAs, " + std::to_string(of_image) + " of them of the program";
  });
  EXPECT_EQ(r.partial, 0) << r.partial << " of " << r.audits
                          << " reports were made from an image exec had not finished (first: " << r.first_partial
                          << ")";
  EXPECT_GT(r.whole, 0) << "no whole report in " << r.audits << " audits: nothing was checked";
  ::unlink(image.c_str());
  ::rmdir(dir_template);
#endif
}

// Without privilege another user's process cannot be read: denied, counted,
// and not an error. The audit runs as nobody against this (root) test.
TEST(SealkitAudit, AnotherUsersProcessIsDeniedNotAnError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the audit as another user";
  const std::string me = std::to_string(::getpid());
  const Captured c = sealkit::test::run_captured_after(
      [] { return ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0; },
      {SEALKIT_BIN, "audit", me, "--json"});
  const std::string& text = c.out;
  ASSERT_LT(c.status, 128) << "signal " << c.status - 128;
  if (c.status == 127) GTEST_SKIP() << "nobody cannot execute " << SEALKIT_BIN << " (directory permissions)";
  ASSERT_EQ(c.status, 0) << text;
  json j = json::parse(text);
  EXPECT_EQ(find_process(j, ::getpid())->at("status"), "denied");
  EXPECT_EQ(j.at("skipped").at("denied"), 1);
  EXPECT_EQ(j.at("totals").at("processes"), 0);
}

// The table a person reads: each process's user and executable, and for one
// that is not wholly sealed, why and what to do; process counts before the
// byte figure (one big sealed process must not hide unsealed ones).
TEST(SealkitAudit, TheTableSaysWhoEachProcessIsAndWhyItIsNotSealed) {
  if (!have_mseal()) GTEST_SKIP() << "this kernel has no mseal(2): nothing would be sealed";
  Child sealed, plain;
  start_sleeper(sealed, {SEALKIT_BIN, "run", "--", "/usr/bin/sleep", "300"});
  start_sleeper(plain, {"/usr/bin/sleep", "301"});
  const Captured c = sealkit_cli({"audit", std::to_string(plain.pid), std::to_string(sealed.pid), "--sort", "coverage"});
  ASSERT_EQ(c.status, 0) << c.err;
  std::istringstream lines(c.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header.rfind("PID", 0), 0u) << header;
  for (const char* column : {"USER", "EXE", "COVERAGE", "STATE"}) EXPECT_NE(header.find(column), std::string::npos) << header;
  const std::string me = ::getpwuid(::geteuid())->pw_name;
  // --sort coverage: the least sealed first.
  EXPECT_EQ(first.rfind(std::to_string(plain.pid) + " ", 0), 0u) << c.out;
  EXPECT_NE(first.find(" " + me + " "), std::string::npos) << first;
  EXPECT_NE(first.find("/usr/bin/sleep"), std::string::npos) << first;
  EXPECT_NE(first.find("0.0%"), std::string::npos) << first;
  EXPECT_NE(first.find("not sealed: nothing sealed it; start it under sealkit run"), std::string::npos) << first;
  EXPECT_EQ(second.rfind(std::to_string(sealed.pid) + " ", 0), 0u) << c.out;
  EXPECT_NE(second.find("100.0%"), std::string::npos) << second;
  EXPECT_NE(second.find(" sealed "), std::string::npos) << second;
  const std::size_t counts = c.out.find("\nprocesses: 2 processes audited: 1 sealed, 0 partly sealed, 1 not sealed (1 "
                                        "reached by nothing)\n");
  EXPECT_NE(counts, std::string::npos) << c.out;
  EXPECT_LT(counts, c.out.find("\nbytes: ")) << "process counts come before the byte figure: " << c.out;
  const Captured by_pid = sealkit_cli({"audit", std::to_string(sealed.pid), std::to_string(plain.pid)});
  EXPECT_LT(by_pid.out.find("\n" + std::to_string(std::min(sealed.pid, plain.pid)) + " "),
            by_pid.out.find("\n" + std::to_string(std::max(sealed.pid, plain.pid)) + " "))
      << "by pid unless told: " << by_pid.out;
  // The same in JSON: the state, the user, and the machine's counts by state.
  const json j = audit_json({"audit", "--json", std::to_string(sealed.pid), std::to_string(plain.pid)});
  EXPECT_EQ(find_process(j, sealed.pid)->at("state"), "sealed");
  EXPECT_EQ(find_process(j, plain.pid)->at("state"), "unsealed");
  EXPECT_EQ(find_process(j, plain.pid)->at("uid"), ::geteuid());
  EXPECT_EQ(find_process(j, plain.pid)->at("secure_exec"), false);
  EXPECT_EQ(j.at("totals").at("states").at("sealed"), 1);
  EXPECT_EQ(j.at("totals").at("states").at("unsealed"), 1);
}

// A copy of sleep made privileged by `make_privileged` (set-user-ID root, or
// file capabilities), started under `sealkit run` by nobody: the kernel runs
// it in secure execution, ld.so drops LD_AUDIT and LD_PRELOAD, and the audit
// says that is why it is not sealed, with or without reading filters.
void expect_secure_exec_state(const std::function<bool(const std::string&)>& make_privileged) {
  char dir[] = "/tmp/sealkit-audit-secure-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  ASSERT_EQ(::chmod(dir, 0755), 0);
  struct statvfs fs;
  if (::statvfs(dir, &fs) == 0 && (fs.f_flag & ST_NOSUID) != 0) {
    ::rmdir(dir);
    GTEST_SKIP() << "/tmp is mounted nosuid: no privileged program runs from it";
  }
  const std::string copy = std::string(dir) + "/sleep";
  {
    std::ifstream in("/usr/bin/sleep", std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
  ASSERT_TRUE(make_privileged(copy)) << std::strerror(errno);
  Child c;
  c.pid = ::fork();
  ASSERT_GE(c.pid, 0);
  if (c.pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(126);
    ::execl(SEALKIT_BIN, SEALKIT_BIN, "run", copy.c_str(), "300", static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_t sleeping = 0;
  for (int i = 0; i < 1000 && sleeping == 0; ++i) {
    if (readlink_str("/proc/" + std::to_string(c.pid) + "/exe") == copy &&
        read_text("/proc/" + std::to_string(c.pid) + "/syscall").rfind("230 ", 0) == 0)
      sleeping = c.pid;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const json j = sleeping ? audit_json({"audit", "--json", std::to_string(sleeping)}) : json();
  const json plain = sleeping ? audit_json({"audit", "--json", "--no-filters", std::to_string(sleeping)}) : json();
  const Captured table = sealkit_cli({"audit", std::to_string(sleeping)});
  ::unlink(copy.c_str());
  ::rmdir(dir);
  ASSERT_NE(sleeping, 0) << "the privileged copy of sleep did not reach its sleep";
  const json* p = find_process(j, sleeping);
  ASSERT_NE(p, nullptr) << j;
  EXPECT_EQ(p->at("secure_exec"), true) << *p;
  EXPECT_EQ(p->at("state"), "secure_exec") << *p;
  EXPECT_NE(table.out.find("secure execution (set-user-ID, set-group-ID or file capabilities): ld.so drops sealkit "
                           "run's LD_AUDIT and LD_PRELOAD"),
            std::string::npos)
      << table.out;
  // AT_SECURE is read with the memory: the same state without reading filters.
  EXPECT_EQ(find_process(plain, sleeping)->at("state"), "secure_exec") << plain;
}

TEST(SealkitAudit, ASetUserIdProgramUnderSealkitRunIsSaidToBeOutOfItsReach) {
  if (::geteuid() != 0) GTEST_SKIP() << "making a set-user-ID copy of sleep and running it as nobody needs root";
  expect_secure_exec_state([](const std::string& copy) { return ::chmod(copy.c_str(), 04755) == 0; });
  const json j = audit_json({"audit", "--json", std::to_string(::getpid())});
  EXPECT_EQ(find_process(j, ::getpid())->at("uid"), 0) << "the effective user";
}

// The same for file capabilities (security.capability, as setcap writes it):
// no set-user-ID bit, real and effective users equal, and still secure execution.
TEST(SealkitAudit, AProgramWithFileCapabilitiesUnderSealkitRunIsSaidToBeOutOfItsReach) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving a copy of sleep file capabilities needs root";
  expect_secure_exec_state([](const std::string& copy) {
    struct {
      std::uint32_t magic_etc;
      struct {
        std::uint32_t permitted, inheritable;
      } data[2];
    } cap{0x02000000u | 0x000001u /* VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE */,
          {{1u << 10 /* CAP_NET_BIND_SERVICE */, 0}, {0, 0}}};
    return ::setxattr(copy.c_str(), "security.capability", &cap, sizeof cap, 0) == 0;
  });
}

// Run by a user, the audit says that other users' processes need root rather
// than leaving them out in silence.
TEST(SealkitAudit, AsAUserTheTableSaysOtherUsersProcessesNeedRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the audit as another user";
  const std::string me = std::to_string(::getpid());
  const Captured c = sealkit::test::run_captured_after(
      [] { return ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0; },
      {SEALKIT_BIN, "audit", me});
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("not read: 1 process of other users; their memory is root's to read: sudo sealkit audit"),
            std::string::npos)
      << c.out;
}
