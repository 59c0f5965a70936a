// The attacker of docs/example.md: code running inside sealed_service with an
// mprotect/munmap/mremap/mmap/madvise primitive (a ROP chain can call any of
// them) tries to make the frozen configuration and dispatch table writable or
// to replace them with a forged copy in which PING runs the attacker's handler
// and SHUTDOWN is allowed.
//
// Every attack runs twice, each time in its own forked child: against the
// tables as sealed_service builds them (frozen: read-only and sealed), and
// against the same tables made read-only with a plain mprotect (the control).
// The control must fall to the attack, or the sealed case would prove nothing.
#include <gtest/gtest.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sealkit/sealkit.hpp"
#include "service.hpp"

namespace sealkit::examples {
namespace {

constexpr std::string_view kConfig = "listen_port = 0\nallowed_commands = PING, GET, STATS\n";

// The attacker's code, which the forged table points PING at.
std::string attacker_handler(std::string_view, const Config&, ServiceState&) { return "PWNED"; }

// The requests whose answers the attacker wants to change.
std::vector<std::string> answers(const Tables& tables) {
  ServiceState state;
  std::vector<std::string> out;
  for (const char* request : {"PING", "GET missing", "SHUTDOWN", "NOSUCH"})
    out.push_back(dispatch(request, tables, state));
  return out;
}

// The whole pages that hold both tables.
struct Span {
  std::byte* start;
  std::size_t len;
};

Span pages_of(const Tables& tables) {
  const auto ps = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto lo = std::min(reinterpret_cast<std::uintptr_t>(tables.config), reinterpret_cast<std::uintptr_t>(tables.table));
  auto hi = std::max(reinterpret_cast<std::uintptr_t>(tables.config + 1),
                     reinterpret_cast<std::uintptr_t>(tables.table + 1));
  lo &= ~(ps - 1);
  hi = (hi + ps - 1) & ~(ps - 1);
  return {reinterpret_cast<std::byte*>(lo), hi - lo};
}

// A writable copy of the pages, forged: PING's handler points at the
// attacker's code and SHUTDOWN is in the allowed list. Same layout, so that it
// works once mapped at the original address.
std::byte* forge(const Tables& tables, Span span) {
  void* p = ::mmap(nullptr, span.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* copy = static_cast<std::byte*>(p);
  std::memcpy(copy, span.start, span.len);
  auto at = [&](const void* original) { return copy + (static_cast<const std::byte*>(original) - span.start); };
  auto* config = reinterpret_cast<Config*>(at(tables.config));
  to_name("SHUTDOWN", config->allowed[config->allowed_count++]);
  auto* table = reinterpret_cast<DispatchTable*>(at(tables.table));
  for (std::size_t i = 0; i < table->count; ++i)
    if (view(table->entries[i].name) == "PING") table->entries[i].handler = attacker_handler;
  return copy;
}

enum class Attack {
  kMprotectWritable,  // mprotect(RW), then write the forgery in place
  kMunmapAndRemap,    // munmap, then map the forgery where the tables were
  kMmapFixedOver,     // mmap(MAP_FIXED) a fresh mapping over them, write the forgery
  kMremapAway,        // move the tables elsewhere, map the forgery where they were
  kMremapForgeryOnto, // move the forged mapping onto the tables' address
  kMadviseDontneed,   // discard the pages: anonymous memory reads back as zeros
  kDirectWrite,       // just write the forged handler pointer
};

sigjmp_buf g_fault_jump;
void on_fault(int) { siglongjmp(g_fault_jump, 1); }

// Maps `forgery` at `at` without replacing anything (the address must be free).
int map_forgery_at(std::byte* at, const std::byte* forgery, std::size_t len) {
  void* p = ::mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return errno;
  std::memcpy(p, forgery, len);
  return 0;
}

// Runs one attack; 0 when its primitive succeeded, else the primitive's errno.
// A fault is reported through `faulted`.
int run(Attack attack, const Tables& tables, Span span, std::byte* forgery, bool& faulted) {
  switch (attack) {
    case Attack::kMprotectWritable:
      if (::mprotect(span.start, span.len, PROT_READ | PROT_WRITE) != 0) return errno;
      std::memcpy(span.start, forgery, span.len);
      return 0;
    case Attack::kMunmapAndRemap:
      if (::munmap(span.start, span.len) != 0) return errno;
      return map_forgery_at(span.start, forgery, span.len);
    case Attack::kMmapFixedOver: {
      void* p = ::mmap(span.start, span.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (p == MAP_FAILED) return errno;
      std::memcpy(p, forgery, span.len);
      return 0;
    }
    case Attack::kMremapAway: {
      void* elsewhere = ::mmap(nullptr, span.len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (elsewhere == MAP_FAILED) return errno;
      if (::mremap(span.start, span.len, span.len, MREMAP_MAYMOVE | MREMAP_FIXED, elsewhere) == MAP_FAILED) return errno;
      return map_forgery_at(span.start, forgery, span.len);
    }
    case Attack::kMremapForgeryOnto:
      if (::mremap(forgery, span.len, span.len, MREMAP_MAYMOVE | MREMAP_FIXED, span.start) == MAP_FAILED) return errno;
      return 0;
    case Attack::kMadviseDontneed:
      return ::madvise(span.start, span.len, MADV_DONTNEED) == 0 ? 0 : errno;
    case Attack::kDirectWrite: {
      struct sigaction sa {}, old {};
      sa.sa_handler = on_fault;
      sigemptyset(&sa.sa_mask);
      ::sigaction(SIGSEGV, &sa, &old);
      if (sigsetjmp(g_fault_jump, 1) == 0) {
        auto* slot = const_cast<volatile Handler*>(&tables.table->entries[0].handler);
        *slot = attacker_handler;
      } else {
        faulted = true;
      }
      ::sigaction(SIGSEGV, &old, nullptr);
      return 0;
    }
  }
  return EINVAL;
}

// What a child reports through its pipe.
struct Verdict {
  bool set_up = false;          // the tables were built (and frozen, or mprotect'ed for the control)
  bool sealed_before = false;   // the kernel said the pages were sealed before the attack
  int attack_errno = -1;        // 0: the primitive succeeded
  bool faulted = false;         // the direct write raised SIGSEGV
  bool answers_unchanged = false;
  bool hijacked = false;        // PING ran the attacker's handler
  char setup_error[128] = {};
};

enum class Protection { kSealed, kReadOnlyControl };

void child(Attack attack, Protection protection, int out_fd) {
  Verdict v;
  std::string error;
  std::optional<Tables> tables;
  std::optional<WriteOnceArena> control_arena;  // kept alive until _exit
  if (protection == Protection::kSealed) {
    tables = start_up(kConfig, error);  // exactly what sealed_service does
  } else if (auto arena = WriteOnceArena::create(kArenaBytes)) {
    control_arena.emplace(std::move(arena).value());
    tables = build_tables(*control_arena, kConfig, error);
    if (tables) {
      Span s = pages_of(*tables);
      if (::mprotect(s.start, s.len, PROT_READ) != 0) error = "mprotect(PROT_READ): " + std::string(strerror(errno));
    }
  }
  if (tables && error.empty()) {
    const Span span = pages_of(*tables);
    auto sealed = sealkit::is_sealed(span.start, span.len);
    v.sealed_before = sealed.has_value() && sealed.value();
    const auto before = answers(*tables);
    std::byte* forgery = forge(*tables, span);
    if (forgery) {
      v.set_up = true;
      v.attack_errno = run(attack, *tables, span, forgery, v.faulted);
      const auto after = answers(*tables);
      v.answers_unchanged = after == before;
      v.hijacked = after[0] == "PWNED";
    } else {
      error = "cannot map the forgery";
    }
  }
  std::strncpy(v.setup_error, error.c_str(), sizeof v.setup_error - 1);
  (void)!::write(out_fd, &v, sizeof v);
  ::_exit(0);
}

// Runs child() in a fresh process: the sealed pages, the crashes and the
// damage stay there.
Verdict attack_in_child(Attack attack, Protection protection) {
  int fds[2];
  if (::pipe(fds) != 0) ADD_FAILURE() << "pipe: " << strerror(errno);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    child(attack, protection, fds[1]);
  }
  ::close(fds[1]);
  Verdict v;
  ssize_t n = pid > 0 ? ::read(fds[0], &v, sizeof v) : -1;
  ::close(fds[0]);
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the child died (status " << status << "): the attack crashed the service instead of being stopped";
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof v)) << "no verdict from the child";
  EXPECT_TRUE(v.set_up) << "setting up failed: " << v.setup_error;
  return v;
}

bool primitive_attack(Attack a) { return a != Attack::kDirectWrite; }

class AttackTest : public ::testing::TestWithParam<Attack> {
 protected:
  void SetUp() override {
    if (std::string_view(sealkit_backend()) == "none") GTEST_SKIP() << "this kernel cannot seal (no mseal)";
  }
};

TEST_P(AttackTest, FailsAgainstTheSealedTables) {
  const Verdict v = attack_in_child(GetParam(), Protection::kSealed);
  EXPECT_TRUE(v.sealed_before) << "the frozen tables were not sealed";
  if (primitive_attack(GetParam())) {
    EXPECT_EQ(v.attack_errno, EPERM) << "the primitive should fail with EPERM, got: " << strerror(v.attack_errno);
  } else {
    EXPECT_TRUE(v.faulted) << "a write to the frozen tables should fault";
  }
  EXPECT_TRUE(v.answers_unchanged) << "the service answers differently after the attack";
  EXPECT_FALSE(v.hijacked);
}

TEST_P(AttackTest, SucceedsAgainstTablesThatAreOnlyReadOnly) {
  const Verdict v = attack_in_child(GetParam(), Protection::kReadOnlyControl);
  EXPECT_FALSE(v.sealed_before) << "the control must not be sealed";
  if (!primitive_attack(GetParam())) {
    // Read-only alone stops a plain write; that is why an attacker reaches
    // for mprotect or mmap first, and why the seal is needed at all.
    EXPECT_TRUE(v.faulted);
    EXPECT_TRUE(v.answers_unchanged);
    return;
  }
  EXPECT_EQ(v.attack_errno, 0) << "the primitive failed without a seal: " << strerror(v.attack_errno);
  EXPECT_FALSE(v.answers_unchanged) << "the attack should have changed the service's answers";
  if (GetParam() != Attack::kMadviseDontneed) {
    EXPECT_TRUE(v.hijacked) << "PING should run the attacker's handler";
  }
}

const char* attack_name(Attack a) {
  constexpr std::array<const char*, 7> kNames = {"MprotectWritable", "MunmapAndRemap", "MmapFixedOver", "MremapAway",
                                                 "MremapForgeryOnto", "MadviseDontneed", "DirectWrite"};
  return kNames[static_cast<std::size_t>(a)];
}
std::string name_of(const ::testing::TestParamInfo<Attack>& info) { return attack_name(info.param); }
// For readable test names in ctest and in failure messages.
[[maybe_unused]] void PrintTo(Attack a, std::ostream* os) { *os << attack_name(a); }

INSTANTIATE_TEST_SUITE_P(Examples, AttackTest,
                         ::testing::Values(Attack::kMprotectWritable, Attack::kMunmapAndRemap, Attack::kMmapFixedOver,
                                           Attack::kMremapAway, Attack::kMremapForgeryOnto, Attack::kMadviseDontneed,
                                           Attack::kDirectWrite),
                         name_of);

}  // namespace
}  // namespace sealkit::examples
