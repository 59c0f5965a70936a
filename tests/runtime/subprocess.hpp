// Runs a program the way the runtime tests need: argv, extra environment,
// stdout and stderr captured, exit status (or 128 + signal).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sealkit::test {

struct Captured {
  int status = -1;
  std::string out;
  std::string err;
};

// stderr goes to a temporary file, so that a full pipe never blocks the child.
// `env` holds NAME=VALUE strings added to (or replacing in) the environment.
Captured run_captured(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// The same, with `in_child` run in the child just before the exec (a filter
// to install, credentials to drop): when it returns false the child exits
// with status 125 without exec'ing.
Captured run_captured_after(const std::function<bool()>& in_child, const std::vector<std::string>& argv,
                            const std::vector<std::string>& env = {});

// "ASAN_OPTIONS=" with `option` after whatever this process's ASAN_OPTIONS
// holds: for a child that the sanitizer build must run differently.
std::string asan_options_with(const std::string& option);

// Whether the kernel executes `program` at all: execve of a 32-bit program
// fails with ENOEXEC where IA32 emulation is compiled out or switched off
// (ia32_emulation=0). The child is killed as soon as execve has succeeded.
// False with `why` saying what failed.
bool kernel_executes(const std::string& program, std::string& why);

// Whether a 64-bit process can make i386 system calls through int $0x80 (the
// same kernel switch): tried in a forked child. False with `why`.
bool int80_works(std::string& why);

}  // namespace sealkit::test
