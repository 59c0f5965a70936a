#include "cli/selftest/snapshot.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string_view>

#include "core/proc_maps.hpp"

namespace sealkit::cli::selftest {

namespace {

bool same_backing(const MemorySnapshot::Segment& a, const MemorySnapshot::Segment& b) noexcept {
  return a.read == b.read && a.write == b.write && a.exec == b.exec && a.shared == b.shared && a.inode == b.inode &&
         a.dev_major == b.dev_major && a.dev_minor == b.dev_minor;
}

bool same_layout(const MemorySnapshot::Layout& a, const MemorySnapshot::Layout& b) noexcept {
  if (a.count != b.count) return false;
  for (int i = 0; i < a.count; ++i) {
    const auto& x = a.segments[i];
    const auto& y = b.segments[i];
    if (x.begin != y.begin || x.end != y.end || x.offset != y.offset || !same_backing(x, y)) return false;
  }
  return true;
}

}  // namespace

MemorySnapshot::MemorySnapshot(std::size_t max_len) noexcept : max_len_(max_len), maps_cap_(std::size_t{8} << 20) {
  void* m = mmap(nullptr, maps_cap_ + 2 * max_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return;
  maps_text_ = static_cast<char*>(m);
  before_ = reinterpret_cast<unsigned char*>(maps_text_ + maps_cap_);
  after_ = before_ + max_len_;
  ready_ = true;
}

MemorySnapshot::~MemorySnapshot() {
  if (maps_text_ != nullptr) munmap(maps_text_, maps_cap_ + 2 * max_len_);
}

// The mappings over [t.addr, t.addr + t.len), clipped to it. Neighbouring
// VMAs that continue each other (same backing, contiguous offsets) are
// joined, so that a VMA merely split or merged at the same place compares
// equal; what matters is what backs each page.
bool MemorySnapshot::read_layout(const Target& t, Layout& out) noexcept {
  out.count = 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t used = 0;
  for (;;) {
    if (used == maps_cap_) {
      close(fd);
      return false;
    }
    ssize_t n = read(fd, maps_text_ + used, maps_cap_ - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return false;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  close(fd);

  // The callback captures one pointer, so std::function stores it inline
  // instead of allocating.
  struct Walk {
    std::uintptr_t lo, hi;
    Layout* out;
    bool overflow;
  } walk{t.addr, t.addr + t.len, &out, false};
  core::for_each_maps_entry(std::string_view(maps_text_, used), [w = &walk](const core::MapsEntry& e) {
    const std::uintptr_t lo = w->lo, hi = w->hi;
    if (e.range.end <= lo) return true;
    if (e.range.begin >= hi) return false;
    Segment s{};
    s.begin = e.range.begin < lo ? lo : e.range.begin;
    s.end = e.range.end > hi ? hi : e.range.end;
    s.read = e.read;
    s.write = e.write;
    s.exec = e.exec;
    s.shared = e.shared;
    // The kernel prints an offset for file-backed VMAs only. For private
    // anonymous memory (no inode, no device) the begin - range.begin part
    // would be the target's place inside whatever VMA the kernel merged it
    // into, which a neighbour mapped or unmapped beside that VMA changes
    // without touching the target (the seccomp backend does not set
    // VM_SEALED, so its sealed VMAs merge like any other). The bytes are
    // compared too: what replaces anonymous memory shows there.
    const bool anonymous = e.inode == 0 && e.dev_major == 0 && e.dev_minor == 0;
    s.offset = anonymous ? 0 : e.offset + (s.begin - e.range.begin);
    s.inode = e.inode;
    s.dev_major = e.dev_major;
    s.dev_minor = e.dev_minor;
    Layout& l = *w->out;
    if (l.count > 0) {
      Segment& prev = l.segments[l.count - 1];
      // Same backing: prev is anonymous too when this is (offset 0, nothing to continue).
      const bool continues = anonymous || prev.offset + (prev.end - prev.begin) == s.offset;
      if (prev.end == s.begin && same_backing(prev, s) && continues) {
        prev.end = s.end;
        return true;
      }
    }
    if (l.count == kMaxSegments) {
      w->overflow = true;
      return false;
    }
    l.segments[l.count++] = s;
    return true;
  });
  return !walk.overflow;
}

bool MemorySnapshot::read_bytes(const Target& t, unsigned char* into) noexcept {
  iovec local{into, t.len};
  iovec remote{reinterpret_cast<void*>(t.addr), t.len};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return n == static_cast<ssize_t>(t.len);
}

bool MemorySnapshot::record(const Target& t, Note& why) noexcept {
  if (!ready_) {
    why.set("could not map the snapshot buffers");
    return false;
  }
  if (t.len > max_len_) {
    why.set("target of %zu bytes is larger than the snapshot buffer (%zu)", t.len, max_len_);
    return false;
  }
  if (!read_layout(t, layout_before_)) {
    why.set("could not read /proc/self/maps: %s", std::strerror(errno));
    return false;
  }
  if (layout_before_.count == 0 || layout_before_.segments[0].begin != t.addr ||
      layout_before_.segments[layout_before_.count - 1].end != t.addr + t.len) {
    why.set("the target is not fully mapped before the call");
    return false;
  }
  if (!read_bytes(t, before_)) {
    why.set("cannot read the target before the call: %s", std::strerror(errno));
    return false;
  }
  return true;
}

MemorySnapshot::Change MemorySnapshot::compare(const Target& t) noexcept {
  if (!read_layout(t, layout_after_) || !same_layout(layout_before_, layout_after_)) return Change::kLayout;
  if (!read_bytes(t, after_)) return Change::kUnreadable;
  return std::memcmp(before_, after_, t.len) == 0 ? Change::kNone : Change::kContent;
}

const char* MemorySnapshot::describe(Change c) noexcept {
  switch (c) {
    case Change::kNone:
      return "";
    case Change::kLayout:
      return "the mapping changed (unmapped, moved, or other protection or backing)";
    case Change::kUnreadable:
      return "the memory can no longer be read";
    case Change::kContent:
      return "the content changed";
  }
  return "?";
}

}  // namespace sealkit::cli::selftest
