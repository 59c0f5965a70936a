// The ELF object the selftest attacks: a tiny shared object built with the
// project (selftest/target/target.c), carried inside the sealkit binary, and
// loaded by the dynamic loader in a selftest child.
#pragma once

#include "cli/selftest/child.hpp"
#include "core/range.hpp"

namespace sealkit::cli::selftest {

struct ElfParts {
  core::Range text;    // the executable PT_LOAD
  core::Range rodata;  // the read-only PT_LOAD holding the constant table
  core::Range relro;   // PT_GNU_RELRO, rounded the way ld.so protects it
  core::Range data;    // the file-backed pages of the writable PT_LOAD after RELRO
  core::Range bss;     // the anonymous pages ld.so maps past the file's end
};

// Writes the embedded object to a memfd, dlopen()s it through
// /proc/self/fd/N, and finds each part from its program headers
// (dl_iterate_phdr). Returns 0, or an errno with `why` saying what failed.
// The object stays loaded for the life of the (child) process.
int load_target_object(ElfParts& parts, Note& why);

}  // namespace sealkit::cli::selftest
