// The i386 system call numbers as the installed kernel headers give them. A
// translation unit of its own: asm/unistd_32.h and the x86_64 numbers that
// <sys/syscall.h> brings define the same macro names.
#include <asm/unistd_32.h>

#include "backend/i386_numbers.hpp"

namespace sealkit::test::backend {

const I386Numbers kHeaderI386Numbers{__NR_mmap,   __NR_munmap,  __NR_ipc,           __NR_mprotect,
                                     __NR_mremap, __NR_mmap2,   __NR_madvise,       __NR_pkey_mprotect,
                                     __NR_shmat,  __NR_shmdt,   __NR_process_madvise};

}  // namespace sealkit::test::backend
