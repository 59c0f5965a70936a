// A classic-BPF interpreter for seccomp filters read out of another process
// (`sealkit audit`, audit/filter_seals.hpp). The programs come from the
// kernel, which accepted them once, but sealkit treats them as hostile
// input: check_seccomp_program() applies the kernel's static rules
// (bpf_check_classic, seccomp_check_filter: opcodes, jump targets, loads
// inside seccomp_data, scratch words, the final RET) and run() executes only
// checked programs, counting instructions so that callers can bound work.
//
// The test suite keeps its own independent model (tests/backend/bpf_model.*).
// Two users: the audit, for foreign filters (every classic opcode seccomp
// accepts, the kernel's action precedence across stacked filters, the
// counting), and the exec supervisor (supervisor/supervisor.hpp), which
// asks each registered image's own generated program about a notified call.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sealkit::core::bpf {

// Empty when the kernel would accept the program as a seccomp filter, else why not.
std::string check_seccomp_program(const sock_filter* insns, std::size_t length);

struct RunOutcome {
  std::uint32_t ret = SECCOMP_RET_KILL_THREAD;
  std::uint32_t executed = 0;  // instructions executed, RET included
  bool read_arg0 = false;      // loaded a word of args[0]: without it, the result does not depend on args[0]
};

// Runs a program that check_seccomp_program() accepted. Division by X == 0
// returns 0 (SECCOMP_RET_KILL_THREAD), as the kernel's translation does.
RunOutcome run(const sock_filter* insns, std::size_t length, const seccomp_data& data) noexcept;

// The kernel's order of actions (kernel/seccomp.c, ACTION_ONLY compared as
// signed): true when `a` takes precedence over `b` (is more restrictive).
bool more_restrictive(std::uint32_t a, std::uint32_t b) noexcept;

}  // namespace sealkit::core::bpf
