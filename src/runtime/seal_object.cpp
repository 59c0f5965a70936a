#include "runtime/seal_object.hpp"

#include "runtime/mseal_gate.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt {

long SealTarget::seal(core::Range r) {
  if (collector_ == nullptr) {
    if (mseal_calls_ != nullptr) ++*mseal_calls_;
    return gated_mseal(r.begin, r.size());
  }
  // The maps could not be read: like a kernel without mseal, nothing can be
  // sealed, and a caller need not retry.
  if (!collector_->ready()) return -ENOSYS;
  return collector_->add(r) == seccomp::AddStatus::kOk ? 0 : -ENOMEM;
}

VmaQuery* LazyQuery::get() {
  if (!tried_) {
    tried_ = true;
    ok_ = q_.open();
  }
  return ok_ ? &q_ : nullptr;
}

}  // namespace sealkit::rt
