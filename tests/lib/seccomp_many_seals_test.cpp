// Many registrations by one image under the supervisor (docs/seccomp-exec.md,
// "Costs"): registration 800 must cost no more work than registration 11,
// within a constant. The program (seccomp_many_seals.cpp) seals 800 separate
// pages one sealkit_mseal call at a time, supervised by a forked child of
// this test. Work is counted, not timed: the supervisor's own counts (maps
// text read, BPF instructions run, tokens read back, ranges built:
// SupervisorStats) and the bytes the program reads (the kernel's rchar,
// /proc/PID/io), each summed over registrations 11-110 and over 701-800. The
// first ten are left out: the first seal's one-time work (the socket's
// check, the first read of the maps) would make the early window look dearer
// than it is. Once as this kernel is, once as a kernel without PROCMAP_QUERY
// (before 6.11, the kernels this backend is for), made by a filter.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/fork_child.hpp"
#include "backend/seccomp/sealer.hpp"
#include "supervisor/supervisor_process.hpp"
#include "core/vma_query.hpp"
#include "lib/no_procmap_query.hpp"

namespace {

namespace sc = sealkit::backend::seccomp;

constexpr int kSeals = 800;
// Windows of registrations (1-based, inclusive): work is the difference of
// the counts seen when the registrations reached FROM - 1 and TO.
constexpr int kEarlyFrom = 11, kEarlyTo = 110, kLateFrom = 701, kLateTo = 800;

// What the supervising child sends back, in this order.
enum Value : std::size_t {
  kStatus,  // the program's wait status
  kOk,      // 1: its last line was "ok" (its seals hold)
  kRegistrations,
  kRejected,
  kUnreadable,
  kNotifications,
  kCacheHits,
  kQueryWorks,  // 1: PROCMAP_QUERY answered in the supervisor
  kMapsEarly,
  kMapsLate,
  kBpfEarly,
  kBpfLate,
  kTokensEarly,
  kTokensLate,
  kBuiltEarly,
  kBuiltLate,
  kReadEarly,  // the program's rchar
  kReadLate,
  kValues
};

// In the forked child: supervises the program until it exits and counts.
std::vector<long> supervise_many_seals(bool without_query, std::string& problem) {
  if (without_query) {
    if (int e = sealkit::test::refuse_procmap_query()) {
      problem = std::string("installing the filter that refuses PROCMAP_QUERY: ") + std::strerror(e);
      return {};
    }
  }
  char dir[] = "/tmp/sealkit-many-seals-XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    problem = "mkdtemp failed";
    return {};
  }
  const std::string out = std::string(dir) + "/seals";
  ::setenv("SEALKIT_BACKEND", "seccomp", 1);
  std::string prog = SEALKIT_MANY_SEALS, n = std::to_string(kSeals), out_arg = out;
  char* argv[] = {prog.data(), n.data(), out_arg.data(), nullptr};
  sc::SupervisedChild child = sc::spawn_supervised(argv[0], argv);
  if (child.pid <= 0) {
    problem = child.step + ": " + std::strerror(child.error);
    return {};
  }
  // The supervisor's counts when the registrations first reached each bound.
  std::map<int, sc::SupervisorStats> at;
  int status = 0;
  for (bool exited = false; !exited;) {
    bool ready = false;
    child.supervisor->step(100, child.pidfd, &ready);
    const sc::SupervisorStats& s = child.supervisor->stats();
    for (int bound : {kEarlyFrom - 1, kEarlyTo, kLateFrom - 1, kLateTo})
      if (s.registrations >= static_cast<std::uint64_t>(bound) && at.count(bound) == 0) at[bound] = s;
    exited = ::waitpid(child.pid, &status, WNOHANG) == child.pid;
  }
  while (child.supervisor->step(1000)) {
  }
  const sc::SupervisorStats stats = child.supervisor->stats();

  std::map<long, long> rchar;  // after seal I
  std::string line, last;
  std::ifstream in(out);
  while (std::getline(in, line)) {
    last = line;
    long i = 0, bytes = 0;
    if (std::sscanf(line.c_str(), "seal %ld %ld", &i, &bytes) == 2) rchar[i] = bytes;
  }
  std::remove(out.c_str());
  ::rmdir(dir);
  if (at.size() != 4 || rchar.size() != static_cast<std::size_t>(kSeals)) {
    problem = "the program stopped early (wait status " + std::to_string(status) + "): " + last;
    return {};
  }
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  const bool query = fd >= 0 && sealkit::core::procmap_query_works(fd);
  if (fd >= 0) ::close(fd);

  std::vector<long> v(kValues);
  v[kStatus] = status;
  v[kOk] = last == "ok";
  v[kRegistrations] = static_cast<long>(stats.registrations);
  v[kRejected] = static_cast<long>(stats.rejected);
  v[kUnreadable] = static_cast<long>(stats.unreadable);
  v[kNotifications] = static_cast<long>(stats.notifications);
  v[kCacheHits] = static_cast<long>(stats.cache_hits);
  v[kQueryWorks] = query;
  auto window = [&](std::uint64_t sc::SupervisorStats::*field, Value early) {
    v[early] = static_cast<long>(at[kEarlyTo].*field - at[kEarlyFrom - 1].*field);
    v[early + 1] = static_cast<long>(at[kLateTo].*field - at[kLateFrom - 1].*field);
  };
  window(&sc::SupervisorStats::maps_bytes, kMapsEarly);
  window(&sc::SupervisorStats::bpf_instructions, kBpfEarly);
  window(&sc::SupervisorStats::tokens_read, kTokensEarly);
  window(&sc::SupervisorStats::ranges_built, kBuiltEarly);
  v[kReadEarly] = rchar[kEarlyTo] - rchar[kEarlyFrom - 1];
  v[kReadLate] = rchar[kLateTo] - rchar[kLateFrom - 1];
  return v;
}

// Late work may be at most `factor` times the early work plus `slack` (per
// window of 100 registrations). Constant units get factor 1: maps text (the
// first page of the registering process's maps per registration, up to its
// newest token, where the kernel has no PROCMAP_QUERY; nothing where it has),
// tokens read back (one per notification and one per registration), the
// program's reads where the kernel has PROCMAP_QUERY (its /proc/self/io, read
// after every seal). Ranges built grow with the packs' levels, at most
// log2(128) merges per record: factor 2. BPF instructions grow by one program
// (about 80 instructions) per notification per 128 one-page records, the
// full packs: about 6 of them at registration 800, hence factor 3. A cost
// linear in the registrations before it is 12 times dearer late than early
// here (their mean counts).
struct Unit {
  const char* what;
  Value early;
  double factor;
  long slack;
  bool bounded;
};

void check_many_seals(bool without_query) {
  if (const char* r = sc::unusable_reason()) GTEST_SKIP() << r;
  const auto child = sealkit::test::backend::run_child(
      [&](std::string& problem) { return supervise_many_seals(without_query, problem); });
  ASSERT_TRUE(child.exited_cleanly) << child.problem;
  ASSERT_EQ(child.values.size(), static_cast<std::size_t>(kValues));
  const std::vector<long>& v = child.values;
  const long status = v[kStatus];
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_EQ(v[kOk], 1) << "the program's check that its seals hold";
  EXPECT_EQ(v[kRegistrations], kSeals);
  EXPECT_EQ(v[kRejected], 0);
  EXPECT_EQ(v[kUnreadable], 0);
  const bool query = v[kQueryWorks] != 0;
  EXPECT_NE(query, without_query) << "PROCMAP_QUERY answers as the test set it up";

  // Without PROCMAP_QUERY the program reads its maps text up to the span it
  // seals, which lies above every token (tokens are mapped top-down, after
  // it): a line more per seal before it, the one cost left that grows
  // (docs/seccomp-exec.md, "Costs"). Printed, not bounded.
  const Unit units[] = {
      {"supervisor: maps text bytes", kMapsEarly, 1, 8192, true},
      {"supervisor: BPF instructions run", kBpfEarly, 3, 1000, true},
      {"supervisor: tokens read back", kTokensEarly, 1, 20, true},
      {"supervisor: ranges built", kBuiltEarly, 2, 1024, true},
      {"program: bytes read (rchar)", kReadEarly, 1, 4096, query},
  };
  const double regs = kEarlyTo - kEarlyFrom + 1;
  std::printf("%d seals, one registration each%s; work per registration over registrations %d-%d and %d-%d:\n",
              kSeals, query ? "" : ", no PROCMAP_QUERY", kEarlyFrom, kEarlyTo, kLateFrom, kLateTo);
  for (const Unit& u : units) {
    const long early = v[u.early], late = v[u.early + 1];
    std::printf("  %-34s %12.1f %12.1f  x%.2f%s\n", u.what, static_cast<double>(early) / regs,
                static_cast<double>(late) / regs, early > 0 ? static_cast<double>(late) / static_cast<double>(early) : 0.0,
                u.bounded ? "" : "  (grows without PROCMAP_QUERY)");
  }
  std::printf("  notifications %ld, cache hits %ld\n", v[kNotifications], v[kCacheHits]);
  for (const Unit& u : units) {
    if (!u.bounded) continue;
    const long early = v[u.early], late = v[u.early + 1];
    EXPECT_LE(static_cast<double>(late), u.factor * static_cast<double>(early) + static_cast<double>(u.slack))
        << u.what << ": registrations " << kLateFrom << "-" << kLateTo << " cost " << late << ", registrations "
        << kEarlyFrom << "-" << kEarlyTo << " " << early;
  }
}

}  // namespace

TEST(SeccompExec, ARegistrationCostsNoMoreWorkHoweverManyCameBefore) { check_many_seals(false); }

// Where the kernel has no PROCMAP_QUERY, the library and the supervisor read
// the maps as text instead (a filter answers the ioctl with ENOTTY, as those
// kernels do, in the supervisor and the program it starts); the seals hold
// and the supervisor's work stays as bounded.
TEST(SeccompExec, WithoutProcmapQueryTheMapsTextDecidesAndTheSealsHold) { check_many_seals(true); }
