// What `sealkit map` draws: one process's address space as bands. This is the
// renderer's whole input, so that the drawing does not depend on how memory
// was read and classified (src/cli/map/from_audit.cpp fills it from a pid).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/range.hpp"

namespace sealkit::cli::map {

// The three colours of the picture.
enum class SealState {
  kSealed,         // `sl` in the VMA's VmFlags
  kUnsealed,       // should be sealed (the audit's rule) and is not
  kNotApplicable,  // not sealed, and nothing says it should be
};

const char* to_string(SealState s);  // "sealed", "not sealed", "n/a"

// One VMA. Strings are raw bytes from /proc: the renderers escape them.
struct Vma {
  core::Range range;
  std::string perms;  // "r-xp" as in maps
  std::string part;   // what it is within its band: "text", "rodata", "relro", "bss", "[heap]", "anon", ...
  std::string path;   // the file, or "[stack]"-like name, or "" for anonymous memory
  SealState state = SealState::kNotApplicable;
};

// One band: an ELF object (its VMAs are its parts) or a single other mapping.
struct Band {
  std::string name;   // object basename, "[stack]", "[heap]", "anon", ...
  std::string title;  // longer description for hover text: full path, class
  std::vector<Vma> vmas;  // address order
};

struct Picture {
  int pid = 0;
  std::string command;  // the process's command line (raw bytes)
  std::uint64_t should_seal_bytes = 0;
  std::uint64_t sealed_of_should_bytes = 0;  // the part of should_seal_bytes that is sealed
  std::uint64_t sealed_bytes = 0;            // every sealed byte, whether it should be or not
  std::string coverage_rule;                 // one sentence: what counts as "should be sealed"
  std::string state;                         // the process's state in words (`sealkit audit`'s STATE):
                                             // for one not wholly sealed, why and what to do
  std::vector<Band> bands;                   // address order of their first VMA
};

// "coverage 97.3%: 12.1 MiB of the 12.4 MiB that should be sealed is sealed", and for a process not wholly
// sealed, its state: why, and what to do.
std::string coverage_line(const Picture& p);

}  // namespace sealkit::cli::map
