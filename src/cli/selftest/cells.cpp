#include "cli/selftest/cells.hpp"

#include <cerrno>
#include <cstring>

#include "cli/selftest/primitives.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli::selftest {

namespace {

std::string describe_failure(const ChildResult& r) {
  if (!r.ran) return "could not run (" + r.detail + ")";
  if (r.ok) return "succeeded";
  if (r.err == 0) return "failed" + (r.detail.empty() ? "" : " (" + r.detail + ")");
  return "failed with " + errno_name(r.err);
}

// The unsealed control must have succeeded, or the cell proves nothing: a
// sealed call that fails for a reason unrelated to the seal looks the same
// as a seal doing its job.
bool control_succeeded(CellResult& cell) {
  const ChildResult& c = *cell.control;
  if (c.ran && c.ok) return true;
  cell.verdict = Verdict::kMismatch;
  cell.reason = "the unsealed control " + describe_failure(c) + ", so the sealed result proves nothing";
  return false;
}

void judge_blocked(CellResult& cell) {
  if (!control_succeeded(cell)) return;
  const ChildResult& s = *cell.sealed;
  cell.verdict = Verdict::kMismatch;
  if (!s.ran) {
    cell.reason = "the sealed run " + describe_failure(s);
  } else if (s.ok) {
    cell.reason = "the call succeeded on sealed memory; the seal should have refused it with EPERM";
  } else if (reports_errno(cell.primitive) && s.err != EPERM) {
    cell.reason = "the call failed on sealed memory with " + errno_name(s.err) + ", not EPERM";
  } else if (!s.intact) {
    cell.reason = "the call was refused, but the sealed memory changed anyway";
  } else {
    cell.verdict = Verdict::kAsExpected;
    cell.reason = reports_errno(cell.primitive) ? "refused with EPERM, memory unchanged; the control succeeded"
                                                : "refused, memory unchanged; the control succeeded";
  }
}

void judge_allowed(CellResult& cell) {
  if (!control_succeeded(cell)) return;
  const ChildResult& s = *cell.sealed;
  if (s.ran && s.ok) {
    cell.verdict = Verdict::kAsExpected;
    cell.reason = "allowed on sealed memory as documented; the control succeeded too";
  } else {
    cell.verdict = Verdict::kMismatch;
    cell.reason = "the sealed run " + describe_failure(s) + ", but the rule allows it";
  }
}

// A primitive that does not apply must be rejected by the kernel with the
// documented errno even without a seal; otherwise the "n/a" is wrong.
void judge_not_applicable(CellResult& cell) {
  if (!cell.control) {
    cell.verdict = Verdict::kNotApplicable;
    cell.reason = cell.expectation.why;
    return;
  }
  const ChildResult& c = *cell.control;
  const int want = cell.expectation.control_errno;
  if (c.ran && !c.ok && c.err == want) {
    cell.verdict = Verdict::kNotApplicable;
    cell.reason = cell.expectation.why + "; the unsealed call indeed failed with " + errno_name(want);
  } else {
    cell.verdict = Verdict::kMismatch;
    cell.reason = "marked n/a (the unsealed call should fail with " + errno_name(want) + "), but the unsealed call " +
                  describe_failure(c);
  }
}

}  // namespace

namespace {

// The filter's listed differences from mseal (docs/seccomp.md, "Every
// difference from the kernel's mseal") that this matrix can show; nullptr for
// any other mismatch, which stays a mismatch.
const char* seccomp_difference(const CellResult& cell) {
  if (!cell.sealed) return nullptr;
  const ChildResult& s = *cell.sealed;
  if (cell.primitive == Primitive::kProcessMadvise && cell.expectation.outcome == Outcome::kAllowed && !s.ok &&
      s.err == EPERM) {
    return "seccomp backend, known difference 4 (docs/seccomp.md): the filter cannot read process_madvise's iovec, "
           "so discard advice is refused while any discard-protected range is sealed";
  }
  if (cell.primitive == Primitive::kBrkShrink && cell.expectation.outcome == Outcome::kBlocked && s.ok) {
    return "seccomp backend, known difference 8 (docs/seccomp.md): brk is not guarded by the filter, so a sealed "
           "heap can be shrunk";
  }
  return nullptr;
}

// The verdict by the kernel's documented rule alone.
void judge_by_rule(CellResult& cell);

// Advice this kernel does not have (the rule table is 6.18's): the unsealed
// control fails with EINVAL, so the cell cannot be tested here.
const char* missing_on_this_kernel(const CellResult& cell) {
  if (!cell.control || cell.control->ok || cell.control->err != EINVAL) return nullptr;
  if (cell.primitive == Primitive::kMadvGuardInstall) return "this kernel has no MADV_GUARD_INSTALL (Linux 6.13+)";
  if (cell.primitive == Primitive::kProcessMadvise) {
    return "this kernel's process_madvise does not take discard advice on the caller (Linux 6.13+)";
  }
  return nullptr;
}

}  // namespace

void judge(CellResult& cell) {
  judge_by_rule(cell);
  if (cell.verdict != Verdict::kMismatch) return;
  if (const char* why = missing_on_this_kernel(cell)) {
    cell.verdict = Verdict::kNotApplicable;
    cell.expectation.why = why;
    cell.reason = std::string(why) + "; the unsealed control failed with EINVAL";
    return;
  }
  if (cell.verdict != Verdict::kMismatch || std::strcmp(sealkit_backend(), "seccomp") != 0) return;
  if (const char* why = seccomp_difference(cell)) {
    cell.verdict = Verdict::kKnownDifference;
    cell.reason = why + std::string("; ") + cell.reason;
  }
}

namespace {

void judge_by_rule(CellResult& cell) {
  switch (cell.expectation.outcome) {
    case Outcome::kBlocked:
      judge_blocked(cell);
      return;
    case Outcome::kAllowed:
      judge_allowed(cell);
      return;
    case Outcome::kNotApplicable:
      judge_not_applicable(cell);
      return;
  }
}

}  // namespace

CellResult run_cell(Primitive p, MappingClass c) {
  CellResult cell{p, c, expected(p, c)};
  const bool runnable = cell.expectation.outcome != Outcome::kNotApplicable || cell.expectation.control_errno != 0;
  if (runnable) {
    PrimitiveFn fn = primitive_fn(p);
    cell.sealed = run_in_child(c, true, fn);
    cell.control = run_in_child(c, false, fn);
  }
  judge(cell);
  return cell;
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kAsExpected:
      return "as_expected";
    case Verdict::kMismatch:
      return "mismatch";
    case Verdict::kNotApplicable:
      return "n/a";
    case Verdict::kKnownDifference:
      return "known_difference";
  }
  return "?";
}

}  // namespace sealkit::cli::selftest
