// The test suite's own view of classic BPF, independent of the generator:
// the static checks the kernel applies to a seccomp filter (bpf_check_classic,
// seccomp_check_filter, check_load_and_stores), and an interpreter, so that a
// generated program can be run on millions of requests without a kernel.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sealkit::test::backend {

// Empty when the kernel would accept the program, else the first reason it would not.
std::string seccomp_filter_problem(const sock_filter* insns, std::size_t length);

struct RunResult {
  std::uint32_t action = 0;   // the RET value
  std::size_t executed = 0;   // instructions executed
  bool read_arguments = false;  // whether anything beyond nr and arch was loaded
  // Whether the kernel's action-cache emulator (kernel/seccomp.c
  // seccomp_is_const_allow) can follow the path taken: only loads of nr and
  // arch, JA, JEQ/JGE/JGT/JSET against constants, AND with a constant, RET K.
  bool cache_emulable = true;
};

// Runs a program that seccomp_filter_problem() accepted.
RunResult run_filter(const sock_filter* insns, std::size_t length, const seccomp_data& data);

}  // namespace sealkit::test::backend
