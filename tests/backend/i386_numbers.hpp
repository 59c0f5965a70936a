// The i386 numbers of the calls the seccomp filter guards, from
// <asm/unistd_32.h> (i386_numbers.cpp), for the int 0x80 tests.
#pragma once

namespace sealkit::test::backend {

struct I386Numbers {
  int old_mmap, munmap, ipc, mprotect, mremap, mmap2, madvise, pkey_mprotect, shmat, shmdt, process_madvise;
};
extern const I386Numbers kHeaderI386Numbers;

}  // namespace sealkit::test::backend
