#include "runtime/maps_snapshot.hpp"

#include "core/vma_query.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt {

MapsSnapshot::~MapsSnapshot() {
  if (entries_) sys::munmap(entries_, cap_bytes_);
}

bool MapsSnapshot::load() {
  if (entries_) sys::munmap(entries_, cap_bytes_);
  entries_ = nullptr;
  cap_bytes_ = n_ = bad_ = 0;
  if (!text_.load("/proc/self/maps")) return false;
  std::string_view t = text_.text();
  std::size_t lines = 1;
  for (char c : t) lines += c == '\n';
  cap_bytes_ = lines * sizeof(core::MapsEntry);
  entries_ = static_cast<core::MapsEntry*>(sys::mmap_anon(cap_bytes_));
  if (!entries_) return false;
  std::uintptr_t last_end = 0;
  while (!t.empty()) {
    std::size_t nl = t.find('\n');
    std::string_view line = t.substr(0, nl);
    t.remove_prefix(nl == std::string_view::npos ? t.size() : nl + 1);
    if (line.empty()) continue;
    auto e = core::parse_maps_line(line);
    // Out-of-order or overlapping lines mean a torn read: drop them rather
    // than feed a planner that relies on address order.
    if (!e || e->range.begin < last_end) {
      ++bad_;
      continue;
    }
    last_end = e->range.end;
    entries_[n_++] = *e;
  }
  return true;
}

const core::MapsEntry* MapsSnapshot::find_from(std::uintptr_t addr) const {
  std::size_t lo = 0, hi = n_;
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    if (entries_[mid].range.end <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo < n_ ? &entries_[lo] : nullptr;
}

const core::MapsEntry* MapsSnapshot::find(std::uintptr_t addr) const {
  const core::MapsEntry* e = find_from(addr);
  return e != nullptr && e->range.contains(addr) ? e : nullptr;
}

VmaQuery::~VmaQuery() {
  if (fd_ >= 0) sys::close(fd_);
}

bool VmaQuery::open() {
  if (fd_ < 0) fd_ = sys::open_read("/proc/self/maps");
  return fd_ >= 0;
}

bool VmaQuery::find(std::uintptr_t addr, bool or_next, bool with_name, Vma& out) {
  if (fd_ < 0) return false;
  // ENOTTY before 6.11, ENOENT when no VMA matches: both mean "not found".
  // A name too long for out.name fails the lookup (ENAMETOOLONG); a name is
  // only compared, never printed.
  core::MapsEntry e;
  out.name[0] = '\0';
  const long rc = core::query_vma(fd_, addr, or_next, with_name ? out.name : nullptr,
                                  with_name ? sizeof out.name : 0, e);
  if (rc != 0) {
    last_error_ = rc;
    return false;
  }
  out.range = e.range;
  out.read = e.read;
  out.write = e.write;
  out.exec = e.exec;
  out.offset = e.offset;
  out.dev_major = e.dev_major;
  out.dev_minor = e.dev_minor;
  out.inode = e.inode;
  return true;
}

void QueriedSpan::Iterator::step(std::uintptr_t from) {
  Vma v;
  if (s_ == nullptr || from >= s_->span_.end) {
    s_ = nullptr;
    return;
  }
  if (!s_->q_.find(from, true, false, v)) {
    if (s_->q_.last_error() != -ENOENT /* nothing above */) s_->failed_ = true;
    s_ = nullptr;
    return;
  }
  if (v.range.begin >= s_->span_.end) {
    s_ = nullptr;
    return;
  }
  cur_ = core::MapsEntry{};
  cur_.range = v.range;
  cur_.read = v.read;
  cur_.write = v.write;
  cur_.exec = v.exec;
  cur_.offset = v.offset;
  cur_.dev_major = v.dev_major;
  cur_.dev_minor = v.dev_minor;
  cur_.inode = v.inode;
}

}  // namespace sealkit::rt
