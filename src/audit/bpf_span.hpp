// Running a seccomp filter on one page address and learning for how many of
// the following pages the answer is the same, without running it on them
// (`sealkit audit`, audit/filter_seals.hpp).
//
// A filter sees the page only through args[0]: its low word (offset 16) and
// its high word (offset 20). run_span() runs the program concretely as
// core::bpf::run() does and, alongside, keeps for A, X and each scratch word
// whether the value is a constant, "low word + c" or "high word + c" (mod
// 2^32), or anything else derived from the address. Every conditional jump
// on such a value narrows the interval of low (or high) words that take the
// same branch: "w + c > K" holds on an interval of w between the points
// where w + c crosses K or wraps. Any other use of the address (multiplied,
// masked, shifted, compared with the other word, returned) pins its word to
// the concrete value. Every address whose words lie in both intervals takes
// the very same path through the program, so it gets the same return value.
//
// Pages only: args[0]'s low word is taken to be a multiple of 4096, so that
// "w + c" tested against bits below 12 (sealkit's alignment check) is the
// same on every page.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>

#include "core/bpf_eval.hpp"

namespace sealkit::audit::bpf {

inline constexpr std::uint64_t kSpanPage = 4096;

struct SpanOutcome {
  core::bpf::RunOutcome run;
  // Every page-aligned args[0] in [data.args[0], same_through] gets `run.ret`
  // (inclusive: the last address may be 2^64 - 1). At least the page itself.
  std::uint64_t same_through = 0;
};

// As run() (the same checked programs), for a page-aligned data.args[0].
SpanOutcome run_span(const sock_filter* insns, std::size_t length, const seccomp_data& data) noexcept;

}  // namespace sealkit::audit::bpf
