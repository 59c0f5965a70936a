/* The 32-bit canary of `sealkit enable` (canary.hpp): writes each file named
 * on its command line to stdout, as cat does. A 64-bit system ships no 32-bit
 * cat, so sealkit carries this one (canary_i386_blob.c) to start a 32-bit
 * process under the new /etc/ld.so.preload. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char buf[8192];
  for (int i = 1; i < argc; ++i) {
    const int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = write(1, buf + done, (size_t)(n - done));
        if (w <= 0) return 1;
        done += w;
      }
    }
    if (n < 0) return 1;
    close(fd);
  }
  return 0;
}
