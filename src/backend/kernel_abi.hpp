// Linux ABI constants newer than the headers Debian 12 ships (linux-libc-dev
// 6.1). Values are the kernel's UAPI; each is guarded so newer headers win.
#pragma once

#include <cstdint>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef __NR_mseal
#define __NR_mseal 462  // same number on every architecture (Linux 6.10)
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24  // Linux 5.18
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux 6.13
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

namespace sealkit::kabi {

// PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h): an ioctl on an open
// /proc/PID/maps that looks up one VMA by address without formatting text.
struct ProcmapQuery {
  std::uint64_t size;
  std::uint64_t query_flags;
  std::uint64_t query_addr;
  std::uint64_t vma_start;
  std::uint64_t vma_end;
  std::uint64_t vma_flags;
  std::uint64_t vma_page_size;
  std::uint64_t vma_offset;
  std::uint64_t inode;
  std::uint32_t dev_major;
  std::uint32_t dev_minor;
  std::uint32_t vma_name_size;
  std::uint32_t build_id_size;
  std::uint64_t vma_name_addr;
  std::uint64_t build_id_addr;
};
static_assert(sizeof(ProcmapQuery) == 104, "struct procmap_query is 104 bytes");

inline constexpr std::uint64_t kProcmapQueryCoveringOrNextVma = 0x10;
inline constexpr std::uint64_t kProcmapQueryFileBackedVma = 0x20;
inline constexpr std::uint64_t kProcmapVmaReadable = 0x01;
inline constexpr std::uint64_t kProcmapVmaWritable = 0x02;
inline constexpr std::uint64_t kProcmapVmaExecutable = 0x04;
inline constexpr std::uint64_t kProcmapVmaShared = 0x08;
inline constexpr unsigned long kProcmapQueryIoctl = _IOWR('f', 17, ProcmapQuery);  // PROCFS_IOCTL_MAGIC

}  // namespace sealkit::kabi
