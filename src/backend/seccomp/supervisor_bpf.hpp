// A classic-BPF interpreter for seccomp programs, so that the supervisor can
// ask a registered image's own filter program (built by filter.hpp with the
// ERRNO action) what the kernel would have answered for a notified call:
// the rules stay in one place, the generator.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>

namespace sealkit::backend::seccomp {

// The program's return value for `data`, or SECCOMP_RET_KILL_PROCESS for a
// program that is malformed (an unknown instruction, a load out of bounds, a
// jump past the end, falling off the end): the caller treats it as a refusal.
std::uint32_t run_filter(const sock_filter* insns, std::size_t length, const seccomp_data& data) noexcept;

}  // namespace sealkit::backend::seccomp
