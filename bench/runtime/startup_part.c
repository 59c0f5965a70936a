/* One piece of what an injected object does at start-up, alone in the
 * constructor of an LD_PRELOAD library, so that bench/runtime/parts can
 * price each piece as a spawn of /bin/true: PART selects it.
 *   1  nothing but a constructor in a libc-linked object (the baseline)
 *   2  open and close /proc/self/maps (what the start-up pass needs for PROCMAP_QUERY)
 *   3  readlink /proc/self/exe (what exclude-program and the log need)
 *   4  open and close an ordinary file (/etc/hostname)
 *   5  mseal of one fresh one-page anonymous mapping (one seal of a new VMA) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((constructor)) static void startup_part(void) {
#if PART == 2 || PART == 4
  int fd = open(PART == 2 ? "/proc/self/maps" : "/etc/hostname", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
#elif PART == 3
  char buf[256];
  (void)!readlink("/proc/self/exe", buf, sizeof buf);
#elif PART == 5
  void *p = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) syscall(462, p, 4096, 0);
#endif
}
