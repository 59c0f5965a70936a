// core/bpf_eval (the audit's BPF interpreter) and core/filter_seals (which
// VMAs a set of filters seals), without any process: programs written here,
// random programs, and filters from the seccomp backend's generator. The
// oracle is the test suite's own model (tests/backend/bpf_model.*).
#include <linux/audit.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "backend/bpf_model.hpp"
#include "backend/seccomp/filter.hpp"
#include "core/bpf_eval.hpp"
#include "audit/bpf_span.hpp"
#include "audit/filter_seals.hpp"
#include "audit/seccomp_filters.hpp"

namespace {

namespace bpf = sealkit::core::bpf;
namespace gen = sealkit::backend::seccomp;
using sealkit::audit::check_range;
using sealkit::audit::FilterAction;
using sealkit::audit::FilterCheck;
using sealkit::audit::kAbiX86_64;
using Prog = std::vector<sock_filter>;

constexpr std::uint64_t kPage = 4096;

sock_filter stmt(std::uint16_t code, std::uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}
std::string problem(const Prog& p) { return bpf::check_seccomp_program(p.data(), p.size()); }

const sock_filter kRetAllow = stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

TEST(BpfEval, RefusesWhatTheKernelRefuses) {
  EXPECT_NE(bpf::check_seccomp_program(nullptr, 0), "");
  EXPECT_NE(problem(Prog(BPF_MAXINSNS + 1, kRetAllow)), "");
  EXPECT_EQ(problem(Prog(BPF_MAXINSNS, kRetAllow)), "");
  EXPECT_EQ(problem({kRetAllow}), "");
  EXPECT_NE(problem({stmt(BPF_LD | BPF_W | BPF_ABS, 0)}), "") << "no final RET";
  EXPECT_NE(problem({stmt(BPF_LD | BPF_W | BPF_ABS, 64), kRetAllow}), "") << "beyond seccomp_data";
  EXPECT_NE(problem({stmt(BPF_LD | BPF_W | BPF_ABS, 2), kRetAllow}), "") << "unaligned";
  EXPECT_NE(problem({stmt(BPF_LD | BPF_B | BPF_ABS, 0), kRetAllow}), "") << "byte loads: not for seccomp";
  EXPECT_NE(problem({stmt(BPF_LD | BPF_W | BPF_IND, 0), kRetAllow}), "") << "indirect loads: not for seccomp";
  EXPECT_NE(problem({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), kRetAllow}), "") << "jump past the end";
  EXPECT_NE(problem({stmt(BPF_JMP | BPF_JA, 1), kRetAllow}), "") << "JA past the end";
  EXPECT_NE(problem({stmt(BPF_ST, 16), kRetAllow}), "") << "scratch word 16";
  EXPECT_NE(problem({stmt(BPF_LD | BPF_MEM, 0), kRetAllow}), "") << "load before store";
  EXPECT_EQ(problem({stmt(BPF_ST, 0), stmt(BPF_LD | BPF_MEM, 0), kRetAllow}), "");
  EXPECT_NE(problem({stmt(BPF_ALU | BPF_DIV | BPF_K, 0), kRetAllow}), "") << "division by constant 0";
  EXPECT_NE(problem({stmt(BPF_ALU | BPF_LSH | BPF_K, 32), kRetAllow}), "") << "shift by 32";
  EXPECT_NE(problem({stmt(0xffff, 0), kRetAllow}), "") << "no such opcode";
  // A store on one branch only: the load after the join is refused, as check_load_and_stores does.
  EXPECT_NE(problem({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), stmt(BPF_ST, 3), stmt(BPF_LD | BPF_MEM, 3), kRetAllow}),
            "");
}

TEST(BpfEval, ActionsOrderAsInTheKernel) {
  const std::uint32_t order[] = {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
                                 SECCOMP_RET_ERRNO | EPERM, SECCOMP_RET_USER_NOTIF,  SECCOMP_RET_TRACE,
                                 SECCOMP_RET_LOG,           SECCOMP_RET_ALLOW};
  for (std::size_t i = 0; i < std::size(order); ++i)
    for (std::size_t k = 0; k < std::size(order); ++k)
      EXPECT_EQ(bpf::more_restrictive(order[i], order[k]), i < k) << i << " vs " << k;
  // The data part does not count: ERRNO EPERM and ERRNO EACCES are equal.
  EXPECT_FALSE(bpf::more_restrictive(SECCOMP_RET_ERRNO | EACCES, SECCOMP_RET_ERRNO | EPERM));
}

// Random programs over the opcodes both interpreters know, accepted by both
// checkers, give the same action on random data.
TEST(BpfEval, RandomProgramsAgreeWithTheTestModel) {
  std::mt19937_64 rng(20261127);
  const std::uint16_t codes[] = {
      BPF_LD | BPF_W | BPF_ABS,     BPF_LD | BPF_IMM,          BPF_LDX | BPF_IMM,         BPF_LD | BPF_MEM,
      BPF_LDX | BPF_MEM,            BPF_ST,                    BPF_STX,                   BPF_MISC | BPF_TAX,
      BPF_MISC | BPF_TXA,           BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_K,
      BPF_ALU | BPF_SUB | BPF_X,    BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_AND | BPF_X, BPF_ALU | BPF_OR | BPF_K,
      BPF_ALU | BPF_RSH | BPF_K,    BPF_ALU | BPF_LSH | BPF_K, BPF_JMP | BPF_JA,          BPF_JMP | BPF_JEQ | BPF_K,
      BPF_JMP | BPF_JEQ | BPF_X,    BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X,
      BPF_JMP | BPF_JSET | BPF_K,   BPF_RET | BPF_K,           BPF_RET | BPF_A};
  std::size_t programs = 0, runs = 0;
  for (int attempt = 0; attempt < 20000; ++attempt) {
    const std::size_t n = 2 + rng() % 24;
    Prog p(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint16_t code = codes[rng() % std::size(codes)];
      std::uint32_t k = static_cast<std::uint32_t>(rng());
      if (code == (BPF_LD | BPF_W | BPF_ABS)) k = 4 * static_cast<std::uint32_t>(rng() % 16);
      if (BPF_CLASS(code) == BPF_ST || BPF_CLASS(code) == BPF_STX || BPF_MODE(code) == BPF_MEM) k %= 4;
      if (code == (BPF_ALU | BPF_RSH | BPF_K) || code == (BPF_ALU | BPF_LSH | BPF_K)) k %= 32;
      if (code == (BPF_JMP | BPF_JA)) k %= 4;
      if (code == (BPF_LD | BPF_IMM) && rng() % 2) k %= 64;  // small values meet the comparisons
      p[i] = {code, static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint8_t>(rng() % 4), k};
    }
    p[n - 1] = stmt(BPF_RET | BPF_A, 0);
    const bool ours = problem(p).empty();
    const bool model = sealkit::test::backend::seccomp_filter_problem(p.data(), p.size()).empty();
    ASSERT_EQ(ours, model) << "the checkers disagree; ours: " << problem(p);
    if (!ours) continue;
    ++programs;
    for (int r = 0; r < 8; ++r) {
      seccomp_data d{};
      d.nr = static_cast<int>(rng() % 64);
      d.arch = rng() % 2 ? AUDIT_ARCH_X86_64 : static_cast<std::uint32_t>(rng());
      d.instruction_pointer = rng() % 64;
      for (auto& a : d.args) a = rng() % 4 ? rng() % 64 : rng();
      const auto mine = bpf::run(p.data(), p.size(), d);
      const auto theirs = sealkit::test::backend::run_filter(p.data(), p.size(), d);
      ASSERT_EQ(mine.ret, theirs.action);
      ASSERT_EQ(mine.executed, theirs.executed);
      ++runs;
    }
  }
  std::printf("%zu random programs accepted, %zu runs compared\n", programs, runs);
  EXPECT_GT(programs, 1000u);
}

// The seccomp backend's own filters.
struct Built {
  std::unique_ptr<gen::Program> program = std::make_unique<gen::Program>();
  Prog insns() const { return Prog(program->insns, program->insns + program->length); }
};

Built build(const std::vector<gen::SealedRange>& ranges, std::uint32_t action = SECCOMP_RET_ERRNO | EPERM) {
  Built b;
  gen::Input in{ranges.data(), ranges.size(), gen::task_size()};
  in.refusal_action = action;
  EXPECT_EQ(gen::build(in, *b.program), gen::BuildStatus::kOk);
  return b;
}

TEST(BpfEval, GeneratedFiltersRunAsInTheTestModel) {
  std::mt19937_64 rng(7);
  for (int layout = 0; layout < 20; ++layout) {
    std::vector<gen::SealedRange> ranges;
    std::uint64_t at = 0x7f0000000000 + (rng() % 1024) * kPage;
    for (int i = 0; i < 1 + layout * 5; ++i) {
      at += (1 + rng() % 64) * kPage;
      const std::uint64_t len = (1 + rng() % 16) * kPage;
      ranges.push_back({at, at + len, rng() % 2 == 0});
      at += len;
    }
    Built b = build(ranges);
    const Prog p = b.insns();
    ASSERT_EQ(problem(p), "");
    for (int r = 0; r < 2000; ++r) {
      seccomp_data d{};
      d.arch = AUDIT_ARCH_X86_64;
      const int nrs[] = {9, 10, 11, 25, 28, 39, 329};
      d.nr = nrs[rng() % std::size(nrs)];
      d.args[0] = (ranges.front().start - 64 * kPage + (rng() % (at - ranges.front().start + 128 * kPage))) & ~(kPage - 1);
      d.args[1] = (1 + rng() % 8) * kPage;
      d.args[2] = rng() % 8;
      d.args[3] = rng() % 2 ? MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS : rng() % 4;
      const auto mine = bpf::run(p.data(), p.size(), d);
      const auto theirs = sealkit::test::backend::run_filter(p.data(), p.size(), d);
      ASSERT_EQ(mine.ret, theirs.action);
      ASSERT_EQ(mine.executed, theirs.executed);
    }
  }
}

TEST(FilterSeals, AVmaIsSealedWhenEveryPageIsRefusedForEveryCall) {
  const std::uint64_t a = 0x7f1200000000, b = a + 16 * kPage;
  Built f = build({{a, a + 4 * kPage, true}, {b, b + 2 * kPage, false}});
  const std::vector<Prog> programs{f.insns()};
  std::uint64_t budget = 1 << 20, executed = 0;
  auto check = [&](std::uint64_t begin, std::uint64_t end) {
    return check_range(kAbiX86_64, programs, begin, end, budget, executed);
  };

  auto whole = check(a, a + 4 * kPage);
  EXPECT_EQ(whole.check, FilterCheck::kSealed);
  EXPECT_EQ(whole.action, FilterAction::kErrno);
  EXPECT_TRUE(whole.discard_refused);
  EXPECT_EQ(check(a + kPage, a + 3 * kPage).check, FilterCheck::kSealed) << "part of a sealed range";
  EXPECT_EQ(check(a, a + 5 * kPage).check, FilterCheck::kPartial) << "one page past the end";
  EXPECT_EQ(check(a - kPage, a + 4 * kPage).check, FilterCheck::kPartial) << "one page before";
  EXPECT_EQ(check(a + 4 * kPage, b).check, FilterCheck::kNotSealed) << "the gap";
  auto file = check(b, b + 2 * kPage);
  EXPECT_EQ(file.check, FilterCheck::kSealed);
  EXPECT_FALSE(file.discard_refused) << "not discard-protected: madvise passes";
  EXPECT_GT(executed, 0u);

  // Other refusal actions, and ones that are not seals.
  const std::vector<Prog> notif{build({{a, a + 4 * kPage, true}}, SECCOMP_RET_USER_NOTIF).insns()};
  // Handed to a supervisor: what it answers is not in the filter, so not sealed (sealkit run's root filter).
  EXPECT_EQ(check_range(kAbiX86_64, notif, a, a + kPage, budget, executed).check, FilterCheck::kSupervised);
  const std::vector<Prog> trap{build({{a, a + 4 * kPage, true}}, SECCOMP_RET_TRAP).insns()};
  EXPECT_EQ(check_range(kAbiX86_64, trap, a, a + kPage, budget, executed).action, FilterAction::kTrap);
  const std::vector<Prog> eacces{build({{a, a + 4 * kPage, true}}, SECCOMP_RET_ERRNO | EACCES).insns()};
  EXPECT_EQ(check_range(kAbiX86_64, eacces, a, a + kPage, budget, executed).check, FilterCheck::kNotSealed);
  const std::vector<Prog> kill{build({{a, a + 4 * kPage, true}}, SECCOMP_RET_KILL_PROCESS).insns()};
  EXPECT_EQ(check_range(kAbiX86_64, kill, a, a + kPage, budget, executed).check, FilterCheck::kNotSealed);

  // Several filters: the most restrictive action wins, whichever filter gives it.
  const std::vector<Prog> stacked{Prog{kRetAllow}, f.insns(), Prog{stmt(BPF_RET | BPF_K, SECCOMP_RET_LOG)}};
  EXPECT_EQ(check_range(kAbiX86_64, stacked, a, a + kPage, budget, executed).check, FilterCheck::kSealed);
  const std::vector<Prog> with_trap{trap[0], f.insns()};
  EXPECT_EQ(check_range(kAbiX86_64, with_trap, a, a + kPage, budget, executed).action, FilterAction::kTrap);
}

TEST(FilterSeals, TheBudgetEndsInUnknown) {
  const std::uint64_t a = 0x7f1200000000;
  const std::vector<Prog> programs{build({{a, a + 64 * kPage, true}}).insns()};
  std::uint64_t executed = 0, budget = 1 << 30;
  ASSERT_EQ(check_range(kAbiX86_64, programs, a, a + 64 * kPage, budget, executed).check, FilterCheck::kSealed);
  const std::uint64_t needed = executed;
  std::uint64_t small = needed / 2;
  executed = 0;
  EXPECT_EQ(check_range(kAbiX86_64, programs, a, a + 64 * kPage, small, executed).check, FilterCheck::kUnknown);
  EXPECT_LE(executed, needed / 2);
  // An unsealed VMA is decided by its first page: one run per call at most.
  std::uint64_t tiny = programs[0].size();
  EXPECT_EQ(check_range(kAbiX86_64, programs, a + 64 * kPage, a + 1064 * kPage, tiny, executed).check,
            FilterCheck::kNotSealed);
  std::printf("64 sealed pages: %llu instructions (%.1f per page and call)\n", static_cast<unsigned long long>(needed),
              static_cast<double>(needed) / (64 * 5));
}

// A filter that decides by number alone never loads the address: one run per
// call decides a VMA of any size (a 1 TiB one here), within a tiny budget.
TEST(FilterSeals, AFilterBlindToTheAddressIsDecidedOnce) {
  const Prog by_number{stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
                       jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(kAbiX86_64.nr_madvise), 1, 0),
                       stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM), kRetAllow};
  const std::vector<Prog> programs{by_number};
  std::uint64_t budget = 100, executed = 0;
  const std::uint64_t a = 0x100000000000;
  auto c = check_range(kAbiX86_64, programs, a, a + (std::uint64_t{1} << 40), budget, executed);
  EXPECT_EQ(c.check, FilterCheck::kSealed);
  EXPECT_FALSE(c.discard_refused);
  EXPECT_EQ(executed, 4u * 3 + 3) << "four calls and one madvise, each run once";
}

// The status lines the audit reads, and the comm from "Name:" (escaped by the
// kernel: \n and \\ on 6.x, octal on older kernels), compared with this
// process's real comm.
TEST(SeccompStatus, ParsedFromStatusText) {
  auto s = sealkit::core::parse_seccomp_status(
      "Name:\ta\\b\\nc\nUmask:\t0022\nState:\tS (sleeping)\nTracerPid:\t42\nSeccomp:\t2\nSeccomp_filters:\t3\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->tracer, 42);
  EXPECT_EQ(s->mode, 2);
  EXPECT_EQ(s->filters, 3);
  auto old = sealkit::core::parse_seccomp_status("State:\tR (running)\nSeccomp:\t0\n");  // before Seccomp_filters
  ASSERT_TRUE(old);
  EXPECT_EQ(old->filters, -1);
  EXPECT_FALSE(sealkit::core::parse_seccomp_status("Name:\tx\n"));
  EXPECT_EQ(sealkit::core::status_name("Name:\ta\\\\b\\nc\nState:\tS\n"), std::string("a\\b\nc"));
  EXPECT_EQ(sealkit::core::status_name("Name:\ta\\134b\\012c\n"), std::string("a\\b\nc"));
  EXPECT_EQ(sealkit::core::status_name("Name:\t\t x\n"), std::string("\t x")) << "leading blanks are the comm's";
  EXPECT_FALSE(sealkit::core::status_name("State:\tS\n"));
}

TEST(SeccompStatus, NameMatchesCommForAHostileName) {
  const char name[] = "\xff\"a\\b\n\x1b[2J\t";
  std::string old_comm(16, '\0');
  ASSERT_EQ(::prctl(PR_GET_NAME, old_comm.data(), 0, 0, 0), 0);
  ASSERT_EQ(::prctl(PR_SET_NAME, name, 0, 0, 0), 0);
  std::string status;
  const bool read = sealkit::core::read_status_text(::getpid(), status);
  ::prctl(PR_SET_NAME, old_comm.c_str(), 0, 0, 0);
  ASSERT_TRUE(read);
  EXPECT_EQ(sealkit::core::status_name(status), std::string(name));
}

}  // namespace

// run_span's promise: every page from the address to same_through gets the
// same answer as the address itself. Random programs that work on the
// address (its words loaded, moved, added to, compared, masked, returned),
// checked against plain run() on each page of the span (up to 300 of them,
// the span's last page and random ones inside).
TEST(BpfSpan, EveryPageOfASpanGetsTheSameAnswer) {
  std::mt19937_64 rng(5);
  const std::uint16_t codes[] = {
      BPF_LD | BPF_W | BPF_ABS,  BPF_LD | BPF_IMM,          BPF_LDX | BPF_IMM,         BPF_LD | BPF_MEM,
      BPF_LDX | BPF_MEM,         BPF_ST,                    BPF_STX,                   BPF_MISC | BPF_TAX,
      BPF_MISC | BPF_TXA,        BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_K,
      BPF_ALU | BPF_SUB | BPF_X, BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_NEG,         BPF_ALU | BPF_RSH | BPF_K,
      BPF_ALU | BPF_MOD | BPF_X, BPF_JMP | BPF_JA,          BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JEQ | BPF_X,
      BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGE | BPF_X, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X,
      BPF_JMP | BPF_JSET | BPF_K, BPF_RET | BPF_K,          BPF_RET | BPF_A};
  const std::uint64_t base = 0x7f12345f0000;
  std::size_t programs = 0, spans = 0, pages = 0, longer = 0, bounded = 0;
  for (int attempt = 0; attempt < 4000; ++attempt) {
    const std::size_t n = 4 + rng() % 28;
    Prog p(n);
    const std::uint16_t compares[] = {BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGT | BPF_K,
                                      BPF_ALU | BPF_ADD | BPF_K, BPF_LD | BPF_W | BPF_ABS};
    for (std::size_t i = 0; i < n; ++i) {
      // Half of them compare with (or add) constants near the addresses: edges among the pages tried.
      const std::uint16_t code = rng() % 2 ? compares[rng() % std::size(compares)] : codes[rng() % std::size(codes)];
      // Constants near the addresses tried, page-sized steps, the page mask, and anything.
      const std::uint32_t near[] = {static_cast<std::uint32_t>(base + (rng() % 96) * kPage - 2048 + rng() % 4096),
                                    static_cast<std::uint32_t>(base >> 32) + static_cast<std::uint32_t>(rng() % 3) - 1,
                                    static_cast<std::uint32_t>((rng() % 8) * kPage), 0xfffu, 0xffffffffu,
                                    static_cast<std::uint32_t>(rng())};
      std::uint32_t k = near[rng() % std::size(near)];
      if (BPF_CLASS(code) == BPF_JMP && rng() % 4) k = near[0];
      if (BPF_CLASS(code) == BPF_ALU && rng() % 4) k = near[2];
      if (code == (BPF_LD | BPF_W | BPF_ABS)) {
        const std::uint32_t at[] = {16, 20, 16, 20, 0, 24};  // args[0] low and high mostly
        k = at[rng() % std::size(at)];
      }
      if (BPF_CLASS(code) == BPF_ST || BPF_CLASS(code) == BPF_STX || BPF_MODE(code) == BPF_MEM) k %= 4;
      if (code == (BPF_ALU | BPF_RSH | BPF_K)) k %= 32;
      if (code == (BPF_JMP | BPF_JA)) k %= 4;
      if (code == (BPF_RET | BPF_K)) k = static_cast<std::uint32_t>(rng() % 4);
      p[i] = {code, static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint8_t>(rng() % 4), k};
    }
    p[0] = stmt(BPF_LD | BPF_W | BPF_ABS, rng() % 4 ? 16 : 20);
    p[n - 1] = rng() % 2 ? stmt(BPF_RET | BPF_A, 0) : stmt(BPF_RET | BPF_K, 1);
    if (!problem(p).empty()) continue;
    ++programs;
    for (int r = 0; r < 6; ++r) {
      seccomp_data d{};
      d.nr = 10;
      d.arch = AUDIT_ARCH_X86_64;
      d.args[0] = base + (rng() % 128) * kPage;
      d.args[1] = kPage;
      const sealkit::audit::bpf::SpanOutcome s = sealkit::audit::bpf::run_span(p.data(), p.size(), d);
      const bpf::RunOutcome plain = bpf::run(p.data(), p.size(), d);
      ASSERT_EQ(s.run.ret, plain.ret);
      ASSERT_EQ(s.run.executed, plain.executed);
      ASSERT_GE(s.same_through, d.args[0] + kPage - 1);
      ++spans;
      const std::uint64_t span_pages = (s.same_through - d.args[0]) / kPage + 1;
      longer += span_pages > 1;
      bounded += s.run.read_arg0 && span_pages > 1 && span_pages < 256;  // ends at an edge among the pages tried
      std::vector<std::uint64_t> tried;
      for (std::uint64_t i = 1; i < span_pages && i <= 300; ++i) tried.push_back(i);
      tried.push_back(span_pages - 1);
      for (int k = 0; k < 20; ++k) tried.push_back(rng() % span_pages);
      for (std::uint64_t i : tried) {
        seccomp_data e = d;
        e.args[0] = d.args[0] + i * kPage;
        ASSERT_EQ(bpf::run(p.data(), p.size(), e).ret, s.run.ret)
            << "page " << i << " of a span of " << span_pages << " from " << std::hex << d.args[0];
        ++pages;
      }
    }
  }
  std::printf("%zu programs, %zu spans (%zu longer than a page, %zu of them ending within 256 pages), %zu pages checked\n",
              programs, spans, longer, bounded, pages);
  EXPECT_GT(programs, 500u);
  EXPECT_GT(bounded, spans / 20) << "the programs must put edges among the addresses tried";
  EXPECT_GT(longer, spans / 4) << "spans must be more than single pages for most programs";
}

// On the seccomp backend's own filters, check_range finds exactly the pages
// a page-by-page run refuses, in a handful of runs per range boundary.
TEST(FilterSeals, TheRefusedPiecesAreExactlyThePagesRefused) {
  std::mt19937_64 rng(11);
  for (int layout = 0; layout < 12; ++layout) {
    std::vector<gen::SealedRange> ranges;
    std::uint64_t at = 0x7f0000000000 + (rng() % 1024) * kPage;
    const std::uint64_t first = at;
    for (int i = 0; i < 1 + layout * 3; ++i) {
      at += (1 + rng() % 64) * kPage;
      const std::uint64_t len = (1 + rng() % 16) * kPage;
      ranges.push_back({at, at + len, rng() % 2 == 0});
      at += len;
    }
    const std::vector<Prog> programs{build(ranges).insns()};
    const std::uint64_t begin = first, end = at + 32 * kPage;
    std::uint64_t budget = 1 << 30, executed = 0;
    const sealkit::audit::RangeCheck c = check_range(kAbiX86_64, programs, begin, end, budget, executed);
    ASSERT_EQ(c.check, FilterCheck::kPartial);
    std::vector<sealkit::core::Range> expected;
    for (std::uint64_t page = begin; page < end; page += kPage) {
      std::uint64_t b = 1 << 30, e = 0;  // one page: the page-by-page answer
      if (check_range(kAbiX86_64, programs, page, page + kPage, b, e).check != FilterCheck::kSealed) continue;
      if (!expected.empty() && expected.back().end == page) expected.back().end = page + kPage;
      else expected.push_back({page, page + kPage});
    }
    ASSERT_EQ(c.refused.size(), expected.size());
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(c.refused[i].begin, expected[i].begin) << i;
      EXPECT_EQ(c.refused[i].end, expected[i].end) << i;
      bytes += expected[i].size();
    }
    EXPECT_EQ(c.refused_bytes, bytes);
    // Each range has two edges; a run per call between two edges.
    const std::uint64_t runs_bound = (2 * ranges.size() + 2) * 5 * programs[0].size();
    EXPECT_LE(executed, runs_bound) << (end - begin) / kPage << " pages";
  }
}

// The runtime's bss merged with the allocation after it: one VMA, the first
// part refused. Before sub-VMA pieces this VMA was "not sealed" as a whole.
TEST(FilterSeals, AVmaSealedInPartSaysWhichBytes) {
  const std::uint64_t a = 0x7f1200000000;
  const std::vector<Prog> programs{build({{a, a + 3 * kPage, true}}).insns()};
  std::uint64_t budget = 1 << 20, executed = 0;
  const auto c = check_range(kAbiX86_64, programs, a, a + 8 * kPage, budget, executed);
  EXPECT_EQ(c.check, FilterCheck::kPartial);
  EXPECT_EQ(c.refused_bytes, 3 * kPage);
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].begin, a);
  EXPECT_EQ(c.refused[0].end, a + 3 * kPage);
  EXPECT_EQ(c.action, FilterAction::kErrno);
  EXPECT_TRUE(c.discard_refused);
}

// An i386 process's filter checks AUDIT_ARCH_I386 and the i386 numbers; on
// x86_64's it says nothing.
TEST(FilterSeals, AnI386FilterIsEvaluatedWithTheI386Abi) {
  const std::uint32_t lo = 0x08100000, hi = 0x08104000;
  // i386: mprotect 125, munmap 91, mremap 163, mmap2 192 with MAP_FIXED: EPERM on [lo, hi).
  const Prog p{stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
               jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 9),
               stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
               jump(BPF_JMP | BPF_JEQ | BPF_K, 125, 3, 0),
               jump(BPF_JMP | BPF_JEQ | BPF_K, 91, 2, 0),
               jump(BPF_JMP | BPF_JEQ | BPF_K, 163, 1, 0),
               jump(BPF_JMP | BPF_JEQ | BPF_K, 192, 0, 4),
               stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
               jump(BPF_JMP | BPF_JGE | BPF_K, hi, 2, 0),
               jump(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 1),
               stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
               kRetAllow};
  ASSERT_EQ(problem(p), "");
  const std::vector<Prog> programs{p};
  std::uint64_t budget = 1 << 20, executed = 0;
  const auto c = check_range(sealkit::audit::kAbiI386, programs, lo - kPage, hi + kPage, budget, executed);
  EXPECT_EQ(c.check, FilterCheck::kPartial);
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].begin, lo);
  EXPECT_EQ(c.refused[0].end, hi);
  EXPECT_EQ(check_range(kAbiX86_64, programs, lo, hi, budget, executed).check, FilterCheck::kNotSealed) << "as x86_64";
}
