// What `sealkit run` needs to know about PROGRAM before it runs it: where it
// is, and whether ld.so will run for it (only then can the runtime get in).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sealkit::cli::run_program {

// PROGRAM as execvp would find it.
std::optional<std::filesystem::path> resolve(const std::string& name);

enum class Linking { kDynamic, kStatic, kScript, kUnknown };

struct Kind {
  Linking linking = Linking::kUnknown;
  bool is_32_bit = false;  // an ELFCLASS32 program (i386 on this machine)
};

// Read from the file's ELF header and program headers (PT_INTERP). A "#!"
// script runs its interpreter, which exec checks. Anything unreadable or
// malformed is kUnknown: exec then says what is wrong.
Kind kind_of(const std::filesystem::path& program);

// Why exec of `program` by this process will be secure execution (AT_SECURE),
// where ld.so ignores LD_AUDIT and LD_PRELOAD: "set-user-ID", "set-group-ID"
// or "file capabilities"; empty when it will not be. The kernel's rule: the
// effective ids change away from the real ones, or file capabilities are
// granted; never on a nosuid mount or under no_new_privs.
std::string secure_exec_reason(const std::filesystem::path& program);

}  // namespace sealkit::cli::run_program
