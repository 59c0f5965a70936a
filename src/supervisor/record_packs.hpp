// The supervisor's answer for one task from a few merged programs instead of
// one program per record (docs/seccomp-exec.md, "Costs"). A task that sealed
// N times maps N tokens; running each record's program on every notification
// would make each guarded call, and so each further seal, cost more than the
// one before. A "pack" is the generator's program for the ranges of several
// records together: the generator decides by whether the request overlaps
// the union of its ranges (every call's rule in docs/seccomp.md is an overlap
// with some of the ranges: all, the discard-protected ones, or from an address
// up), so a pack refuses exactly what one of its records would. A merge is
// kept only when the merged program checks mremap's destination exactly, as
// each part did; the hull it would otherwise search refuses more. Checked
// against the records one by one on random ranges and requests
// (tests/backend/record_packs_test.cpp).
//
// Records registered one by one are added like a binary counter: a record
// comes as a pack of one, and two packs of as many records each are merged
// into one, until a pack would hold more than kMaxPackRanges ranges or lose
// the exact check; so a record is built into a merged program about
// log2(kMaxPackRanges / its ranges) times in all. The records of a task seen
// for the first time (a forked child, or after the cache was emptied) are
// packed at once, each range built once. A task with N records runs about
// N * ranges / kMaxPackRanges + log2(N) programs per call.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/seccomp/filter.hpp"

namespace sealkit::backend::seccomp {

// The generator's scratch space for the supervisor's programs (about 300 KiB:
// kept on the heap, made once), and the count of ranges it was given, the
// work of building (SupervisorStats::ranges_built).
class ProgramBuilder {
 public:
  explicit ProgramBuilder(std::uint64_t& ranges_built) noexcept : ranges_built_(ranges_built) {}
  // The ERRNO program for `ranges` into program(): kOk only when it builds
  // and the supervisor's interpreter may run it (core::bpf::run runs only
  // programs the kernel's static rules accept; the generator's always are).
  BuildStatus build(const SealedRange* ranges, std::size_t count) noexcept;
  const Program& program() const noexcept { return program_; }

 private:
  std::uint64_t& ranges_built_;
  BuildWorkspace work_;
  Program program_;
};

class RecordPacks {
 public:
  // Larger packs fail the exact check first: about 400 ranges in one 4 GiB
  // window (docs/seccomp.md, "Budget"); a merge that fails keeps the parts.
  static constexpr std::size_t kMaxPackRanges = 512;

  struct RecordRef {
    const std::vector<SealedRange>* ranges;
    const std::vector<sock_filter>* program;
    bool exact;  // that program checks mremap's destination exactly
  };

  // Adds a record: its ranges and the program built from them (exact: that
  // program checks mremap's destination exactly). A merge that fails leaves
  // the packs as they were. Throws std::bad_alloc, with the record not added.
  void add(const RecordRef& record, ProgramBuilder& builder);
  // Adds many records at once: consecutive ones packed up to kMaxPackRanges
  // ranges, each pack built once (halved until it keeps the exact check).
  void add_all(const std::vector<RecordRef>& records, ProgramBuilder& builder);
  // Whether some record refuses the call (any action other than ALLOW); the
  // interpreter's instructions are added to `instructions`.
  bool refuses(const seccomp_data& data, std::uint64_t& instructions) const noexcept;
  std::size_t programs() const noexcept { return packs_.size(); }

 private:
  struct Pack {
    std::size_t records = 0;
    std::vector<SealedRange> ranges;  // kept while the pack can still be merged
    std::vector<sock_filter> program;
    bool closed = false;  // full, or a merge would lose exactness: never merged again
  };
  bool merge_last_two(ProgramBuilder& builder);
  // The merged program of `ranges` into the builder; false when it does not
  // build or loses the exact check.
  static bool build_merged(const std::vector<SealedRange>& ranges, ProgramBuilder& builder);
  void add_group(const std::vector<RecordRef>& records, std::size_t begin, std::size_t end, ProgramBuilder& builder);
  std::vector<Pack> packs_;
};

}  // namespace sealkit::backend::seccomp
