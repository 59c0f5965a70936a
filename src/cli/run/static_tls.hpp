// Room in the static TLS block for the libraries of programs run with
// LD_AUDIT. glibc's ld.so (2.36 here; sourceware bug 31991) sets up the
// initial thread's static TLS as soon as an audit module is named, before it
// loads the program's libraries; their initial-exec TLS then comes out of the
// surplus meant for objects dlopen'ed later (glibc.rtld.optional_static_tls,
// 512 bytes by default), and a program whose libraries need more dies before
// main: "cannot allocate memory in static TLS block" (redis-cli's jemalloc:
// 2632 bytes; ThreadSanitizer's runtime: 786 KB). Any LD_AUDIT module does
// this, an empty one too. `sealkit run` therefore raises that tunable: to what
// PROGRAM's libraries need, and never below a floor that covers the common
// ones for the programs the tree starts later.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace sealkit::cli::run_tls {

// Bytes of the floor: jemalloc's 2632 and room to spare. Each thread's stack
// mapping holds its static TLS, so a larger floor would cost every thread of
// every program in the tree (and fail pthread_create with tiny stacks).
inline constexpr std::size_t kFloor = 4096;

// The initial-exec TLS of the libraries `program` loads at start, as its own
// ld.so lists them (`ld.so --list`, which loads without running anything),
// each rounded up to 64 bytes. 0 when they cannot be listed.
std::size_t libraries_tls_bytes(const std::filesystem::path& program);

// GLIBC_TUNABLES for the run: `current` (the caller's, may be null) with
// glibc.rtld.optional_static_tls set to the largest of the caller's value,
// kFloor and `needed` plus glibc's default 512 for later dlopens.
std::string tunables_with_room(const char* current, std::size_t needed);

}  // namespace sealkit::cli::run_tls
