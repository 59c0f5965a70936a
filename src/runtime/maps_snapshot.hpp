// The process's mappings, two ways: /proc/self/maps parsed into an array in
// address order (MapsSnapshot), and single VMAs looked up by address with the
// PROCMAP_QUERY ioctl (VmaQuery), which formats no text.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/maps_line.hpp"
#include "runtime/proc_text.hpp"

namespace sealkit::rt {

class MapsSnapshot {
 public:
  MapsSnapshot() = default;
  MapsSnapshot(const MapsSnapshot&) = delete;
  MapsSnapshot& operator=(const MapsSnapshot&) = delete;
  ~MapsSnapshot();

  // Reads the maps (again: a second call replaces the first reading).
  bool load();
  const core::MapsEntry* begin() const { return entries_; }
  const core::MapsEntry* end() const { return entries_ + n_; }
  std::size_t size() const { return n_; }
  std::size_t bad_lines() const { return bad_; }
  // The entry holding addr, or nullptr.
  const core::MapsEntry* find(std::uintptr_t addr) const;
  // The first entry that ends above addr (holding it, or the next one), or nullptr.
  const core::MapsEntry* find_from(std::uintptr_t addr) const;

 private:
  ProcText text_;
  core::MapsEntry* entries_ = nullptr;
  std::size_t cap_bytes_ = 0;
  std::size_t n_ = 0;
  std::size_t bad_ = 0;
};

// One VMA as PROCMAP_QUERY (Linux 6.11) reports it.
struct Vma {
  core::Range range;
  bool read = false;
  bool write = false;
  bool exec = false;
  std::uint64_t offset = 0;
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::uint64_t inode = 0;
  char name[32] = {};  // only when asked for; "[stack]", "[vdso]", a path (cut), or empty
};

// Looks VMAs up one at a time on an open /proc/self/maps. Reading the maps
// text costs the kernel about 0.7 us per line (26 us for /bin/true's 37 on
// the benchmark machine); the open costs ~3 us and a lookup ~0.5 us.
class VmaQuery {
 public:
  VmaQuery() = default;
  VmaQuery(const VmaQuery&) = delete;
  VmaQuery& operator=(const VmaQuery&) = delete;
  ~VmaQuery();

  // false when /proc/self/maps cannot be opened.
  bool open();
  // The VMA holding addr, or with or_next the first one at or above it.
  // false when there is none, or the kernel has no PROCMAP_QUERY.
  bool find(std::uintptr_t addr, bool or_next, bool with_name, Vma& out);
  // The last failed lookup's -errno: -ENOENT means "no such VMA".
  long last_error() const { return last_error_; }

 private:
  int fd_ = -1;
  long last_error_ = 0;
};

// The VMAs overlapping one span, as the MapsEntry sequence that
// core::plan_object_seal iterates (it never looks outside the span). Each
// step is one lookup; a lookup that fails for another reason than "no VMA
// there" ends the sequence early, and `failed()` then says the plan is
// incomplete.
class QueriedSpan {
 public:
  QueriedSpan(VmaQuery& q, core::Range span) : q_(q), span_(span) {}
  class Iterator {
   public:
    Iterator(QueriedSpan* s, std::uintptr_t from) : s_(s) { step(from); }
    Iterator() = default;
    const core::MapsEntry& operator*() const { return cur_; }
    Iterator& operator++() {
      step(cur_.range.end);
      return *this;
    }
    bool operator!=(const Iterator& o) const { return s_ != o.s_; }

   private:
    void step(std::uintptr_t from);
    QueriedSpan* s_ = nullptr;
    core::MapsEntry cur_;
  };
  Iterator begin() { return Iterator(this, span_.begin); }
  Iterator end() { return Iterator(); }
  Iterator begin() const { return const_cast<QueriedSpan*>(this)->begin(); }
  Iterator end() const { return Iterator(); }
  bool failed() const { return failed_; }

 private:
  VmaQuery& q_;
  core::Range span_;
  bool failed_ = false;
};

}  // namespace sealkit::rt
