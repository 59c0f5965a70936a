#include "audit/bpf_span.hpp"

#include <algorithm>

#include "core/bpf_interpret.hpp"

namespace sealkit::audit::bpf {

using namespace core::bpf;

namespace {

constexpr std::uint32_t kMax = 0xffffffffu;
constexpr std::size_t kLoWord = 0, kHiWord = 1;
constexpr std::uint32_t kArg0Lo = offsetof(seccomp_data, args);  // little endian: the low word first
constexpr std::uint32_t kArg0Hi = kArg0Lo + 4;

// What a value is in terms of the address: a constant, word + c, or something else of these words.
struct Sym {
  enum class Kind : std::uint8_t { kConst, kLo, kHi, kOther } kind = Kind::kConst;
  std::uint32_t c = 0;     // for kLo, kHi
  std::uint8_t words = 0;  // bit 0 low word, bit 1 high word: what the value depends on
};

Sym constant() { return {}; }
Sym affine(std::size_t word, std::uint32_t c) {
  return {word == kLoWord ? Sym::Kind::kLo : Sym::Kind::kHi, c, static_cast<std::uint8_t>(1u << word)};
}
Sym other(const Sym& a, const Sym& b) {
  const auto words = static_cast<std::uint8_t>(a.words | b.words);
  return words == 0 ? constant() : Sym{Sym::Kind::kOther, 0, words};
}
bool is_affine(const Sym& s) { return s.kind == Sym::Kind::kLo || s.kind == Sym::Kind::kHi; }
std::size_t word_of(const Sym& s) { return s.kind == Sym::Kind::kLo ? kLoWord : kHiWord; }

struct Interval {
  std::uint32_t first = 0, last = kMax;
};

class Paths {
 public:
  explicit Paths(std::uint64_t address) : value_{static_cast<std::uint32_t>(address), static_cast<std::uint32_t>(address >> 32)} {}

  // The path now depends on these words in a way not tracked: only their own value takes it.
  void pin(std::uint8_t words) {
    for (std::size_t w = 0; w < 2; ++w)
      if (words & (1u << w)) at_[w] = {value_[w], value_[w]};
  }
  // The word keeps the path while it stays in [first, last] (which holds its value).
  void narrow(std::size_t word, Interval i) {
    at_[word].first = std::max(at_[word].first, i.first);
    at_[word].last = std::min(at_[word].last, i.last);
  }
  std::uint32_t value(std::size_t word) const { return value_[word]; }
  const Interval& interval(std::size_t word) const { return at_[word]; }

 private:
  std::uint32_t value_[2];
  Interval at_[2];
};

// The largest interval of v holding v0 on which the jump goes the same way,
// for v compared with the constant k (v on the left: "v OP k"; else "k OP v").
Interval same_branch(std::uint16_t op, bool v_left, std::uint32_t v0, std::uint32_t k) {
  auto split_at = [&](std::uint32_t first_of_upper) -> Interval {  // [0, b-1] | [b, max]
    if (first_of_upper == 0) return {};
    return v0 >= first_of_upper ? Interval{first_of_upper, kMax} : Interval{0, first_of_upper - 1};
  };
  switch (op) {
    case BPF_JEQ:
      if (v0 == k) return {k, k};
      return v0 < k ? Interval{0, k - 1} : Interval{k + 1, kMax};
    case BPF_JGT:  // v > k flips at k + 1; k > v (v < k) flips at k
      if (v_left) return k == kMax ? Interval{} : split_at(k + 1);
      return split_at(k);
    case BPF_JGE:  // v >= k flips at k; k >= v (v <= k) flips at k + 1
      if (v_left) return split_at(k);
      return k == kMax ? Interval{} : split_at(k + 1);
    default: return {v0, v0};
  }
}

// v = w + c: the interval of w (holding w0) whose v lies in `v` (which holds w0 + c).
Interval to_word(Interval v, std::uint32_t c, std::uint32_t w0) {
  const std::uint32_t a = v.first - c, b = v.last - c;
  if (a <= b) return {a, b};
  return w0 >= a ? Interval{a, kMax} : Interval{0, b};  // the image wraps: the part holding w0
}

// w + c1 against w + c2: the same outcome while neither sum wraps anew, i.e.
// between consecutive points where w + c reaches 2^32 (w = -c).
Interval between_wraps(std::uint32_t c1, std::uint32_t c2, std::uint32_t w0) {
  Interval i;
  for (std::uint32_t c : {c1, c2}) {
    if (c == 0) continue;
    const std::uint32_t wrap = 0u - c;  // the first w whose sum wraps
    if (wrap <= w0) i.first = std::max(i.first, wrap);
    else i.last = std::min(i.last, wrap - 1);
  }
  return i;
}

// A conditional jump comparing a (value av, Sym as) with b (value bv, Sym bs).
void constrain(std::uint16_t op, std::uint32_t av, const Sym& as, std::uint32_t bv, const Sym& bs, Paths& paths) {
  if (as.words == 0 && bs.words == 0) return;
  if (op == BPF_JSET) {
    // On a page-aligned low word, w + c has c's bits below 12: a mask of those bits answers alike on every page.
    const bool a_lo_const_mask = as.kind == Sym::Kind::kLo && bs.words == 0 && (bv & ~(kSpanPage - 1)) == 0;
    const bool b_lo_const_mask = bs.kind == Sym::Kind::kLo && as.words == 0 && (av & ~(kSpanPage - 1)) == 0;
    if (!a_lo_const_mask && !b_lo_const_mask) paths.pin(static_cast<std::uint8_t>(as.words | bs.words));
    return;
  }
  if (is_affine(as) && bs.words == 0) {
    const std::size_t w = word_of(as);
    paths.narrow(w, to_word(same_branch(op, true, av, bv), as.c, paths.value(w)));
  } else if (is_affine(bs) && as.words == 0) {
    const std::size_t w = word_of(bs);
    paths.narrow(w, to_word(same_branch(op, false, bv, av), bs.c, paths.value(w)));
  } else if (is_affine(as) && as.kind == bs.kind) {
    const std::size_t w = word_of(as);
    paths.narrow(w, between_wraps(as.c, bs.c, paths.value(w)));
  } else {
    paths.pin(static_cast<std::uint8_t>(as.words | bs.words));
  }
}

Sym alu_sym(std::uint16_t op, const Sym& a, const Sym& v, std::uint32_t av, std::uint32_t vv) {
  if (a.words == 0 && v.words == 0) return constant();
  switch (op) {
    case BPF_ADD:
      if (is_affine(a) && v.words == 0) return {a.kind, a.c + vv, a.words};
      if (is_affine(v) && a.words == 0) return {v.kind, v.c + av, v.words};
      break;
    case BPF_SUB:
      if (is_affine(a) && v.words == 0) return {a.kind, a.c - vv, a.words};
      if (is_affine(a) && a.kind == v.kind) return constant();  // (w + c1) - (w + c2)
      break;
    default: break;
  }
  return other(a, v);
}

// What run_span() follows alongside the concrete run (core/bpf_interpret.hpp).
class SpanTracker {
 public:
  using Value = Sym;
  explicit SpanTracker(std::uint64_t address) : paths_(address) {}

  Sym load_abs(std::uint32_t k) const {
    if (k == kArg0Lo) return affine(kLoWord, 0);
    if (k == kArg0Hi) return affine(kHiWord, 0);
    return constant();
  }
  Sym alu(std::uint16_t op, const Sym& a, const Sym& v, std::uint32_t av, std::uint32_t vv) const {
    return alu_sym(op, a, v, av, vv);
  }
  void jump(std::uint16_t op, std::uint32_t av, const Sym& a, std::uint32_t vv, const Sym& v) {
    constrain(op, av, a, vv, v, paths_);
  }
  void depends_on(const Sym& s) { paths_.pin(s.words); }

  // The last address whose words stay in both intervals, as a page-aligned span end.
  std::uint64_t same_through(std::uint64_t address) const {
    const Interval& lo = paths_.interval(kLoWord);
    std::uint64_t through = lo.first == 0 && lo.last == kMax
                                ? (std::uint64_t{paths_.interval(kHiWord).last} << 32) | kMax
                                : (address & ~std::uint64_t{kMax}) | lo.last;
    through = std::max(through, address);
    return through | (kSpanPage - 1);
  }

 private:
  Paths paths_;
};

}  // namespace

SpanOutcome run_span(const sock_filter* insns, std::size_t length, const seccomp_data& data) noexcept {
  SpanTracker t(data.args[0]);
  SpanOutcome out;
  out.run = detail::interpret(insns, length, data, t);
  out.same_through = t.same_through(data.args[0]);
  return out;
}

}  // namespace sealkit::audit::bpf
