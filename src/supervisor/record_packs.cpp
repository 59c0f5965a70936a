#include "supervisor/record_packs.hpp"

#include <utility>

#include "core/bpf_eval.hpp"

namespace sealkit::backend::seccomp {

BuildStatus ProgramBuilder::build(const SealedRange* ranges, std::size_t count) noexcept {
  Input in;
  in.ranges = ranges;
  in.count = count;
  in.task_size = task_size();
  ranges_built_ += count;
  const BuildStatus st = seccomp::build(in, program_, work_);
  if (st != BuildStatus::kOk) return st;
  try {
    if (!core::bpf::check_seccomp_program(program_.insns, program_.length).empty()) return BuildStatus::kInternal;
  } catch (...) {  // the reason's string could not be made: no memory
    return BuildStatus::kNoMemory;
  }
  return BuildStatus::kOk;
}

void RecordPacks::add(const RecordRef& record, ProgramBuilder& builder) {
  Pack p;
  p.records = 1;
  p.program = *record.program;
  p.closed = !record.exact || record.ranges->size() >= kMaxPackRanges;
  if (!p.closed) p.ranges = *record.ranges;
  packs_.push_back(std::move(p));
  while (merge_last_two(builder)) {
  }
}

bool RecordPacks::build_merged(const std::vector<SealedRange>& ranges, ProgramBuilder& builder) {
  return ranges.size() <= kMaxPackRanges && builder.build(ranges.data(), ranges.size()) == BuildStatus::kOk &&
         builder.program().exact_mremap_destination;
}

void RecordPacks::add_all(const std::vector<RecordRef>& records, ProgramBuilder& builder) {
  for (std::size_t begin = 0; begin < records.size();) {
    std::size_t end = begin, ranges = 0;
    while (end < records.size() && (end == begin || ranges + records[end].ranges->size() <= kMaxPackRanges))
      ranges += records[end++].ranges->size();
    add_group(records, begin, end, builder);
    begin = end;
  }
}

void RecordPacks::add_group(const std::vector<RecordRef>& records, std::size_t begin, std::size_t end,
                            ProgramBuilder& builder) {
  if (end - begin == 1) {
    add(records[begin], builder);
    return;
  }
  std::vector<SealedRange> ranges;
  bool exact = true;
  for (std::size_t i = begin; i < end; ++i) {
    ranges.insert(ranges.end(), records[i].ranges->begin(), records[i].ranges->end());
    exact = exact && records[i].exact;
  }
  if (exact && build_merged(ranges, builder)) {
    Pack p;
    p.records = end - begin;
    p.program.assign(builder.program().insns, builder.program().insns + builder.program().length);
    p.closed = true;  // full enough: later records pack among themselves
    packs_.push_back(std::move(p));
    return;
  }
  const std::size_t mid = begin + (end - begin) / 2;
  add_group(records, begin, mid, builder);
  add_group(records, mid, end, builder);
}

bool RecordPacks::merge_last_two(ProgramBuilder& builder) {
  if (packs_.size() < 2) return false;
  Pack& a = packs_[packs_.size() - 2];
  Pack& b = packs_.back();
  if (a.closed || b.closed || a.records != b.records) return false;
  std::vector<SealedRange> ranges;
  ranges.reserve(a.ranges.size() + b.ranges.size());
  ranges.insert(ranges.end(), a.ranges.begin(), a.ranges.end());
  ranges.insert(ranges.end(), b.ranges.begin(), b.ranges.end());
  if (!build_merged(ranges, builder)) {
    a.closed = true;  // b may still pair with the next record
    std::vector<SealedRange>().swap(a.ranges);
    return false;
  }
  // The program first: if it cannot be copied, `a` is left as it was.
  a.program.assign(builder.program().insns, builder.program().insns + builder.program().length);
  a.records += b.records;
  a.ranges = std::move(ranges);
  a.closed = a.ranges.size() >= kMaxPackRanges;
  if (a.closed) std::vector<SealedRange>().swap(a.ranges);
  packs_.pop_back();
  return true;
}

bool RecordPacks::refuses(const seccomp_data& data, std::uint64_t& instructions) const noexcept {
  // Newest first: a call on what was sealed last (the registration's own
  // check of its token, a program attacking its latest seal) ends at once;
  // a call nothing refuses runs them all either way.
  for (auto p = packs_.rbegin(); p != packs_.rend(); ++p) {
    const core::bpf::RunOutcome run = core::bpf::run(p->program.data(), p->program.size(), data);
    instructions += run.executed;
    if ((run.ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW) return true;
  }
  return false;
}

}  // namespace sealkit::backend::seccomp
