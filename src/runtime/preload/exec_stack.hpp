// A dlopen that fails because the object wants an executable stack.
//
// glibc before 2.41 makes the whole main-thread stack executable (mprotect)
// when an object with PT_GNU_STACK PF_X is loaded; the sealed stack refuses,
// and dlopen fails with "cannot change memory protections". From glibc 2.41
// such a dlopen fails by default anyway (glibc.rtld.execstack). The failure
// is the same with or without sealkit then, but the message does not say why:
// this says it once, on stderr.
#pragma once

namespace sealkit::rt::preload {

// Called after a failed dlopen/dlmopen of `file` (never changes dlerror()).
// Only a name with a '/' is looked at: a bare name is resolved by ld.so's
// search, which is not repeated here.
void explain_if_exec_stack(const char* file);

}  // namespace sealkit::rt::preload
