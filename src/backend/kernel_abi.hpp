// Linux ABI constants newer than the headers Debian 12 ships (linux-libc-dev
// 6.1). Values are the kernel's UAPI; each is guarded so newer headers win.
#pragma once

#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef __NR_mseal
#define __NR_mseal 462  // same number on every architecture (Linux 6.10)
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24  // Linux 5.18
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux 6.13
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif
