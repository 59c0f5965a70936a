// One VMA of a process looked up by address with the PROCMAP_QUERY ioctl
// (Linux 6.11) on its open /proc/PID/maps: the kernel finds it in its tree and
// formats no text, where reading the text costs about 0.7 us per VMA. The one
// wrapper of the ioctl: the injected runtime (rt::VmaQuery), the library's
// seccomp seal and the supervisor's registration check use it. Freestanding
// (raw system calls, no errno), so the runtime can.
#pragma once

#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/kernel_abi.hpp"
#include "core/maps_line.hpp"
#include "core/raw_syscall.hpp"

namespace sealkit::core {

// The VMA holding `addr` or, with `or_next`, the first one at or above it, of
// the process whose /proc/PID/maps is open on `maps_fd`. 0 and `out`, or the
// kernel's -errno: -ENOENT (no such VMA), -ENOTTY or -EINVAL (no PROCMAP_QUERY:
// before 6.11), -ENAMETOOLONG (the name does not fit `name`), -ESRCH (the
// process's memory is gone), -EIO (an answer that makes no sense). With a
// `name` buffer (name_size > 0) out.path is the VMA's name as maps shows it
// ("[heap]", "/memfd:x (deleted)", empty for anonymous memory), pointing into
// `name`; without one it is empty.
inline long query_vma(int maps_fd, std::uint64_t addr, bool or_next, char* name, std::uint32_t name_size,
                      MapsEntry& out) noexcept {
  kabi::ProcmapQuery q{};
  q.size = sizeof q;
  q.query_flags = or_next ? kabi::kProcmapQueryCoveringOrNextVma : 0;
  q.query_addr = addr;
  if (name != nullptr && name_size > 0) {
    q.vma_name_addr = reinterpret_cast<std::uintptr_t>(name);
    q.vma_name_size = name_size;
    name[0] = '\0';
  }
  const long rc = raw::call(__NR_ioctl, maps_fd, static_cast<long>(kabi::kProcmapQueryIoctl), reinterpret_cast<long>(&q));
  if (rc != 0) return raw::failed(rc) ? rc : -5;
  // (vma_end beyond UINTPTR_MAX cannot be a 32-bit caller's own VMA.)
  if (q.vma_end <= q.vma_start || q.vma_end > UINTPTR_MAX || (!or_next && (addr < q.vma_start || addr >= q.vma_end)) ||
      q.vma_end <= addr)
    return -5;  // EIO
  out = MapsEntry{};
  out.range = {static_cast<std::uintptr_t>(q.vma_start), static_cast<std::uintptr_t>(q.vma_end)};
  out.read = (q.vma_flags & kabi::kProcmapVmaReadable) != 0;
  out.write = (q.vma_flags & kabi::kProcmapVmaWritable) != 0;
  out.exec = (q.vma_flags & kabi::kProcmapVmaExecutable) != 0;
  out.shared = (q.vma_flags & kabi::kProcmapVmaShared) != 0;
  out.offset = q.vma_offset;
  out.dev_major = q.dev_major;
  out.dev_minor = q.dev_minor;
  out.inode = q.inode;
  if (q.vma_name_addr != 0) {
    // The kernel writes a NUL-terminated name or fails with ENAMETOOLONG;
    // the last byte is forced anyway, so a name never runs past the buffer.
    name[name_size - 1] = '\0';
    std::size_t n = 0;
    while (name[n] != '\0') ++n;
    out.path = std::string_view(name, n);
  }
  return 0;
}

// Whether PROCMAP_QUERY answers on `maps_fd` (a lookup of the first VMA).
inline bool procmap_query_works(int maps_fd) noexcept {
  MapsEntry e;
  const long r = query_vma(maps_fd, 0, true, nullptr, 0, e);
  return r == 0 || r == -2 /* ENOENT: an empty address space */;
}

}  // namespace sealkit::core
