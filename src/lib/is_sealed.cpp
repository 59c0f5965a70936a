// sealkit_is_sealed: which pages of a range are sealed, without reading all of
// /proc/self/smaps for a small query.
//
// Strategy, cheapest first:
// 1. one page: one probe system call (backend/kernel.hpp, probe_vma);
// 2. more pages: walk the VMAs of the range with the PROCMAP_QUERY ioctl
//    (Linux 6.11+) and probe each VMA once;
// 3. no PROCMAP_QUERY: walk /proc/self/maps instead, still probing;
// 4. probe not verified on this kernel: /proc/self/smaps, whose VmFlags "sl"
//    is the kernel's own word on sealing.
// On the seccomp backend none of these sees a filter's seal: a page-by-page
// probe the filters refuse answers instead (backend/seccomp/sealer.cpp).
#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <optional>

#include "backend/kernel.hpp"
#include "backend/seccomp/sealer.hpp"
#include "core/kernel_abi.hpp"
#include "core/page.hpp"
#include "core/proc_maps.hpp"
#include "lib/backend_choice.hpp"
#include "sealkit/sealkit.h"

namespace {

using sealkit::backend::kernel::VmaState;
using sealkit::core::PageSpan;

// Folds per-VMA answers into the function's result.
struct Verdict {
  bool all_sealed = true;
  int error = 0;  // ENOMEM once a hole is found

  // Returns false once the answer is final.
  bool add(VmaState s) noexcept {
    if (s == VmaState::kUnmapped) error = ENOMEM;
    else if (s != VmaState::kSealed) all_sealed = false;
    return error == 0;
  }
  int result() const noexcept {
    if (error) {
      errno = error;
      return -1;
    }
    return all_sealed ? 1 : 0;
  }
};

// Walks the VMAs covering span with PROCMAP_QUERY. nullopt when the ioctl is
// not supported (older kernel), so the caller tries another way.
std::optional<int> by_procmap_query(PageSpan span) {
  int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  Verdict v;
  std::optional<int> out;
  for (std::uintptr_t cur = span.start; cur < span.end;) {
    sealkit::kabi::ProcmapQuery q{};
    q.size = sizeof q;
    q.query_flags = sealkit::kabi::kProcmapQueryCoveringOrNextVma;
    q.query_addr = cur;
    if (::ioctl(fd, sealkit::kabi::kProcmapQueryIoctl, &q) != 0) {
      if (errno != ENOENT) break;  // ENOTTY/EINVAL: no PROCMAP_QUERY here
      v.add(VmaState::kUnmapped);  // nothing at or above cur
      out = v.result();
      break;
    }
    if (q.vma_start > cur || q.vma_end <= cur) {
      v.add(VmaState::kUnmapped);
      out = v.result();
      break;
    }
    if (!v.add(sealkit::backend::kernel::probe_vma(cur))) {
      out = v.result();
      break;
    }
    cur = static_cast<std::uintptr_t>(q.vma_end);
    if (cur >= span.end) out = v.result();
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return out;
}

// The same walk over the text of /proc/self/maps or /proc/self/smaps. With
// smaps, the state comes from VmFlags; with maps, from the probe.
std::optional<int> by_proc_text(PageSpan span, bool use_smaps) {
  auto text = sealkit::core::read_proc_file(use_smaps ? "/proc/self/smaps" : "/proc/self/maps");
  if (!text) return std::nullopt;
  Verdict v;
  std::uintptr_t cur = span.start;
  bool done = false;
  auto visit = [&](const sealkit::core::MapsEntry& m, std::optional<bool> sealed) {
    if (m.range.end <= cur) return true;
    if (m.range.begin > cur) {  // a hole before this VMA
      v.add(VmaState::kUnmapped);
      done = true;
      return false;
    }
    VmaState s = sealed ? (*sealed ? VmaState::kSealed : VmaState::kUnsealed)
                        : sealkit::backend::kernel::probe_vma(cur);
    if (!v.add(s)) {
      done = true;
      return false;
    }
    cur = m.range.end;
    done = cur >= span.end;
    return !done;
  };
  if (use_smaps) {
    sealkit::core::for_each_smaps_entry(*text, [&](const sealkit::core::SmapsEntry& e) {
      return visit(e.map, e.has_vmflags ? std::optional<bool>(e.sealed) : std::optional<bool>(false));
    });
  } else {
    sealkit::core::for_each_maps_entry(*text, [&](const sealkit::core::MapsEntry& m) { return visit(m, std::nullopt); });
  }
  if (!done) v.add(VmaState::kUnmapped);  // the range runs past the last VMA
  return v.result();
}

int is_sealed(const void* addr, std::size_t len) {
  const std::size_t ps = sealkit::core::page_size();
  auto span = sealkit::core::page_span(reinterpret_cast<std::uintptr_t>(addr), len, ps);
  if (len == 0 || !span) {
    errno = EINVAL;
    return -1;
  }
  // Filter seals leave no trace in smaps: the seccomp backend asks the filters.
  if (sealkit::lib::chosen_backend() == sealkit::lib::Backend::kSeccomp) {
    return sealkit::backend::seccomp::is_sealed(span->start, span->end);
  }
  if (sealkit::backend::kernel::probe_reliable()) {
    if (span->end - span->start == ps) {
      Verdict v;
      v.add(sealkit::backend::kernel::probe_vma(span->start));
      return v.result();
    }
    if (auto r = by_procmap_query(*span)) return *r;
    if (auto r = by_proc_text(*span, /*use_smaps=*/false)) return *r;
  }
  if (auto r = by_proc_text(*span, /*use_smaps=*/true)) return *r;
  return -1;  // errno from reading /proc
}

}  // namespace

extern "C" int sealkit_is_sealed(const void* addr, size_t len) {
  try {
    return is_sealed(addr, len);
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
}
