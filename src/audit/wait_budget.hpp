// The time one run of `sealkit audit` may spend waiting on other processes
// (docs/audit.md, "Never a hang"): for a process to stop so that its seccomp
// filters can be read, and for a supervisor to answer. Any local user can
// start processes that never stop in time (a vfork parent whose child sleeps)
// or a supervisor that never answers (stopped); each wait is bounded on its
// own, and this bounds their sum, so that such processes cost the run a fixed
// amount of time however many there are. The processes of one user (real
// uid) other than root may spend at most a quarter of it, so that one user's
// processes cannot use it all up and leave everyone else's unread. Root's
// are the system's own (no other user can start one: a setuid program keeps
// its caller's real uid), and on a busy machine many of them may each take a
// while to stop: they are bounded by the whole budget only.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace sealkit::audit {

class WaitBudget {
 public:
  using Clock = std::chrono::steady_clock;
  using Micros = std::chrono::microseconds;
  static constexpr long kNoUser = -1;

  explicit WaitBudget(Micros total) noexcept : total_(total), left_(total) {}

  // How long the next wait on a process of `uid` (kNoUser: not one user's,
  // a supervisor's answer) may last: `want`, or what is left if that is less;
  // 0 when less than a millisecond is left (too short to be worth a wait).
  Micros grant(Micros want, long uid = kNoUser) const {
    Micros left = left_;
    if (uid > 0) {
      auto it = by_user_.find(uid);
      left = std::min(left, user_share() - (it == by_user_.end() ? Micros(0) : it->second));
    }
    const Micros granted = std::min(want, left);
    return granted < std::min(want, Micros(1000)) ? Micros(0) : granted;
  }
  void spend(Clock::duration waited, long uid = kNoUser) {
    const auto us = std::chrono::duration_cast<Micros>(waited);
    left_ -= us;
    if (uid > 0) by_user_[uid] += us;
  }
  Micros total() const noexcept { return total_; }
  Micros user_share() const noexcept { return total_ / 4; }

  // Supervisors that did not answer in time: not asked again in this run.
  std::set<pid_t> silent_supervisors;

 private:
  Micros total_;
  Micros left_;
  std::map<long, Micros> by_user_;
};

}  // namespace sealkit::audit
