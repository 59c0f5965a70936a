// `sealkit selftest`, run as the real binary: every cell of the matrix must
// behave as the kernel's sealing rules say, with every unsealed control
// succeeding, and the matrix must cover every primitive and mapping class
// listed below (kPrimitives, kClasses).
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout, plus stderr when asked
};

CliRun run_sealkit(const std::string& args, bool with_stderr = false) {
  std::string cmd = std::string("'") + SEALKIT_CLI + "' " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  CliRun r;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  std::array<char, 65536> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) r.output.append(buf.data(), n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The primitives and mapping classes the matrix must cover, by their CLI names.
const std::set<std::string> kPrimitives = {
    "mprotect",      "pkey_mprotect",        "munmap",        "mremap_shrink",   "mremap_expand",
    "mremap_move",   "mremap_dontunmap",     "mremap_onto",   "mmap_fixed",      "madv_free",
    "madv_dontneed", "madv_dontneed_locked", "madv_remove",   "madv_dontfork",   "madv_wipeonfork",
    "madv_guard_install", "madv_random",     "process_madvise", "shmat_remap",   "brk_shrink"};
const std::set<std::string> kClasses = {
    "anon_private_ro", "anon_private_rw", "anon_shared", "file_private_ro", "file_private_rw",
    "file_shared_ro",  "file_shared_rw",  "elf_text",    "elf_rodata",      "elf_relro",
    "elf_data",        "elf_bss",         "heap"};
// Advice that discards (process_madvise is tried with MADV_DONTNEED).
const std::set<std::string> kDiscardAdvice = {
    "madv_free",       "madv_dontneed",      "madv_dontneed_locked", "madv_remove",
    "madv_dontfork",   "madv_wipeonfork",    "madv_guard_install",   "process_madvise"};

class SelftestJson : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    CliRun r = run_sealkit("selftest --json");
    exit_code_ = r.exit_code;
    report_ = nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
  }
  void SetUp() override {
    if (exit_code_ == 2) GTEST_SKIP() << "sealkit selftest says this kernel cannot seal memory (exit 2)";
    ASSERT_FALSE(report_.is_discarded()) << "selftest --json did not print JSON";
  }
  static int exit_code_;
  static nlohmann::json report_;
};
int SelftestJson::exit_code_ = -1;
nlohmann::json SelftestJson::report_;

std::string cell_name(const nlohmann::json& c) {
  return c["primitive"].get<std::string>() + " on " + c["class"].get<std::string>();
}

TEST_F(SelftestJson, EveryCellIsAsDocumentedAndExitIsZero) {
  for (const auto& c : report_["cells"]) {
    EXPECT_NE(c["verdict"], "mismatch") << cell_name(c) << ": " << c["reason"];
  }
  EXPECT_EQ(report_["summary"]["mismatches"], 0);
  EXPECT_EQ(report_["ok"], true);
  EXPECT_EQ(exit_code_, 0);
}

TEST_F(SelftestJson, CoversEveryPrimitiveOnEveryClassOnce) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& c : report_["cells"]) {
    auto key = std::make_pair(c["primitive"].get<std::string>(), c["class"].get<std::string>());
    EXPECT_TRUE(kPrimitives.count(key.first)) << "unexpected primitive " << key.first;
    EXPECT_TRUE(kClasses.count(key.second)) << "unexpected class " << key.second;
    EXPECT_TRUE(seen.insert(key).second) << "cell listed twice: " << cell_name(c);
  }
  EXPECT_EQ(seen.size(), kPrimitives.size() * kClasses.size());
  EXPECT_EQ(report_["summary"]["cells"], kPrimitives.size() * kClasses.size());
}

// Nothing passes by accident: every cell that applies ran on unsealed memory
// and the call succeeded there.
TEST_F(SelftestJson, EveryApplicableControlSucceeded) {
  for (const auto& c : report_["cells"]) {
    if (c["expected"] == "n/a") continue;
    const auto& ctl = c["control_result"];
    ASSERT_TRUE(ctl.is_object()) << cell_name(c);
    EXPECT_TRUE(ctl["ran"].get<bool>()) << cell_name(c) << ": " << ctl["detail"];
    EXPECT_TRUE(ctl["ok"].get<bool>()) << cell_name(c) << ": control failed with " << ctl["error"];
  }
}

// The sealed runs, read directly: refused cells failed with EPERM (brk has
// no errno) and left the memory intact; allowed cells succeeded.
TEST_F(SelftestJson, SealedResultsMatchTheExpectation) {
  std::size_t blocked = 0, allowed = 0;
  for (const auto& c : report_["cells"]) {
    const auto& s = c["sealed_result"];
    if (c["expected"] == "blocked") {
      ++blocked;
      ASSERT_TRUE(s.is_object()) << cell_name(c);
      EXPECT_TRUE(s["ran"].get<bool>()) << cell_name(c) << ": " << s["detail"];
      EXPECT_FALSE(s["ok"].get<bool>()) << cell_name(c) << " succeeded on sealed memory";
      if (c["primitive"] != "brk_shrink") {
        EXPECT_EQ(s["error"], "EPERM") << cell_name(c);
      }
      EXPECT_TRUE(s["intact"].get<bool>()) << cell_name(c) << ": " << s["change"];
    } else if (c["expected"] == "allowed") {
      ++allowed;
      ASSERT_TRUE(s.is_object()) << cell_name(c);
      EXPECT_TRUE(s["ok"].get<bool>()) << cell_name(c) << " failed with " << s["error"];
    }
  }
  EXPECT_GT(blocked, 0u);
  EXPECT_GT(allowed, 0u);
}

// The expectations follow the documented rules (mseal-facts.md): every
// mapping change is refused; discarding advice only on anonymous read-only
// memory; advice that discards nothing always passes; brk only on the heap.
TEST_F(SelftestJson, ExpectationsFollowTheDocumentedRules) {
  for (const auto& c : report_["cells"]) {
    const std::string p = c["primitive"], k = c["class"], e = c["expected"];
    if (p == "madv_random") {
      EXPECT_EQ(e, "allowed") << cell_name(c);
    } else if (p == "brk_shrink") {
      EXPECT_EQ(e, k == "heap" ? "blocked" : "n/a") << cell_name(c);
    } else if (kDiscardAdvice.count(p)) {
      const bool anonymous_read_only = k == "anon_private_ro";
      if (e != "n/a") {
        EXPECT_EQ(e, anonymous_read_only ? "blocked" : "allowed") << cell_name(c);
      }
    } else {
      EXPECT_EQ(e, "blocked") << cell_name(c);
    }
  }
}

// Cells marked n/a were confirmed: where there is a call to make, the
// kernel refused it on unsealed memory too.
TEST_F(SelftestJson, NotApplicableCellsAreRefusedUnsealed) {
  std::size_t confirmed = 0;
  for (const auto& c : report_["cells"]) {
    if (c["expected"] != "n/a" || c["control_result"].is_null()) continue;
    ++confirmed;
    EXPECT_FALSE(c["control_result"]["ok"].get<bool>()) << cell_name(c);
    EXPECT_FALSE(c["control_result"]["error"].get<std::string>().empty()) << cell_name(c);
  }
  EXPECT_GT(confirmed, 0u);
}

TEST_F(SelftestJson, ReportsWhatMsealDoesNotCoverAndIoUring) {
  std::set<std::string> keys;
  for (const auto& f : report_["not_covered"]) {
    keys.insert(f["key"].get<std::string>());
    EXPECT_FALSE(f["detail"].get<std::string>().empty()) << f["key"];
    EXPECT_TRUE(f["status"] == "not covered" || f["status"] == "blocked" || f["status"] == "not testable here")
        << f["key"] << ": " << f["status"];
  }
  EXPECT_EQ(keys, (std::set<std::string>{"proc_self_mem", "ptrace", "userfaultfd"}));

  const auto& io = report_["io_uring"];
  const std::string status = io["status"];
  EXPECT_TRUE(status == "honours seals" || status == "bypasses seals" || status == "not testable here") << status;
  if (status != "not testable here") {
    EXPECT_TRUE(io["control_result"]["ok"].get<bool>()) << io["detail"];
    EXPECT_EQ(io["sealed_result"]["ok"].get<bool>(), status == "bypasses seals") << io["detail"];
  }
}

TEST(SelftestCli, FiltersSelectOneCell) {
  CliRun r = run_sealkit("selftest --json --only mprotect --class elf_relro");
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_code == 2) GTEST_SKIP() << "this kernel cannot seal memory";
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["cells"].size(), 1u);
  EXPECT_EQ(j["cells"][0]["primitive"], "mprotect");
  EXPECT_EQ(j["cells"][0]["class"], "elf_relro");
  EXPECT_EQ(j["cells"][0]["verdict"], "as_expected");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(SelftestCli, TableNamesTheSummaryAndTheFindings) {
  CliRun r = run_sealkit("selftest --only munmap");
  if (r.exit_code == 2) GTEST_SKIP() << "this kernel cannot seal memory";
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Summary: 13 cells"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/proc/self/mem"), std::string::npos);
  EXPECT_NE(r.output.find("io_uring IORING_OP_MADVISE"), std::string::npos);
}

TEST(SelftestCli, BadOptionsExitTwoWithAMessage) {
  for (const char* args : {"selftest --only no_such_primitive", "selftest --class no_such_class", "selftest --bogus",
                           "selftest extra"}) {
    CliRun r = run_sealkit(args, /*with_stderr=*/true);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_NE(r.output.find("sealkit: error:"), std::string::npos) << args << ": " << r.output;
  }
}

// A kernel without mseal, simulated: a seccomp filter makes syscall 462
// fail with ENOSYS, as it does on Linux before 6.10. With the library held to
// the kernel backend (SEALKIT_BACKEND=kernel; auto would seal with seccomp
// filters there) the selftest must say so in one line and exit 2 instead of
// reporting every cell as failed.
TEST(SelftestCli, KernelWithoutMsealExitsTwo) {
#if defined(__x86_64__)
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 462 /* mseal */, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(101);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    setenv("SEALKIT_BACKEND", "kernel", 1);
    execl(SEALKIT_CLI, "sealkit", "selftest", static_cast<char*>(nullptr));
    _exit(102);
  }
  close(out[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 100 || WEXITSTATUS(status) == 101) GTEST_SKIP() << "cannot install a seccomp filter here";
  EXPECT_EQ(WEXITSTATUS(status), 2) << output;
  EXPECT_NE(output.find("sealkit: error: this kernel cannot seal memory"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
#else
  GTEST_SKIP() << "the seccomp filter in this test is written for x86_64";
#endif
}

}  // namespace
