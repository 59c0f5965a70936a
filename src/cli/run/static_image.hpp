// A statically linked program as the kernel loaded it, for `sealkit run` to
// seal from outside (run/static_seal.hpp): its PT_LOAD segments, RELRO and the
// ranges it keeps mutable, at the addresses this process has them.
//
// Everything comes from the target and is checked against what the kernel
// vouches for: the file is /proc/PID/exe (the very file the kernel executed,
// not a path that could be swapped), the addresses come from /proc/PID/auxv
// (AT_PHDR, AT_PHNUM, AT_ENTRY, written by the kernel), and the program
// headers the kernel loaded from (in the tracee's memory at AT_PHDR, before
// its first instruction) must be the file's byte for byte.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/range.hpp"

namespace sealkit::cli::run_static {

struct StaticImage {
  std::uintptr_t bias = 0;             // 0 for ET_EXEC; where the kernel put an ET_DYN (static-pie)
  std::vector<core::Range> segments;   // PT_LOAD, rounded out to pages, biased, in address order
  std::vector<unsigned> prot;          // each segment's p_flags as PROT_* bits
  core::Range relro;                   // PT_GNU_RELRO as glibc protects it (both ends rounded down); empty if none
  std::vector<core::Range> keep_mutable;  // PT_GNU_MUTABLE and mutable sections, rounded out, in address order
  // The file has glibc's ABI note (NT_GNU_ABI_TAG, from glibc's crt1.o): its
  // start-up makes RELRO read-only itself (_dl_protect_relro), as its last
  // step before constructors and main.
  bool glibc_start = false;
};

// Reads the image of `pid`, stopped at its exec (before its first
// instruction). False with `why` when anything does not check out.
bool read_static_image(pid_t pid, StaticImage& img, std::string& why);

}  // namespace sealkit::cli::run_static
