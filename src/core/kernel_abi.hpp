// PROCMAP_QUERY (Linux 6.11), newer than the headers Debian 12 ships
// (linux-libc-dev 6.1): core/vma_query.hpp asks the kernel for one VMA with
// it. Values are the kernel's UAPI (include/uapi/linux/fs.h).
#pragma once

#include <sys/ioctl.h>

#include <cstdint>

namespace sealkit::kabi {

// An ioctl on an open /proc/PID/maps that looks up one VMA by address without formatting text.
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
