// The baseline of the audit speed bar: merely read /proc/PID/smaps of every
// process in full (read(2) into one reused buffer), parse nothing. Prints the
// number of processes read and bytes, so the bench can see it did the work.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main() {
  DIR* d = opendir("/proc");
  if (!d) {
    std::perror("read_all_smaps: /proc");
    return 2;
  }
  std::vector<char> buf(1 << 16);
  std::size_t files = 0, bytes = 0;
  char path[64];
  while (const dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0) continue;
    std::snprintf(path, sizeof path, "/proc/%ld/smaps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0) bytes += static_cast<std::size_t>(n);
    close(fd);
    ++files;
  }
  closedir(d);
  std::printf("%zu files %zu bytes\n", files, bytes);
  return 0;
}
