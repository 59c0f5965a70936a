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

}  // namespace sealkit::cli::run_program
