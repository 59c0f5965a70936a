#include "runtime/proc_text.hpp"

#include "runtime/sys.hpp"

namespace sealkit::rt {

ProcText::~ProcText() {
  if (buf_) sys::munmap(buf_, cap_);
}

bool ProcText::load(const char* path, std::size_t max_bytes) {
  int fd = sys::open_read(path);
  if (fd < 0) return false;
  len_ = 0;
  bool ok = true;
  for (;;) {
    if (len_ == cap_) {
      std::size_t ncap = cap_ ? cap_ * 2 : 64 * 1024;
      if (ncap > max_bytes) {
        ok = false;
        break;
      }
      char* n = static_cast<char*>(sys::mmap_anon(ncap));
      if (!n) {
        ok = false;
        break;
      }
      for (std::size_t i = 0; i < len_; ++i) n[i] = buf_[i];
      if (buf_) sys::munmap(buf_, cap_);
      buf_ = n;
      cap_ = ncap;
    }
    long r = sys::read(fd, buf_ + len_, cap_ - len_);
    if (r == -EINTR) continue;
    if (r < 0) {
      ok = false;
      break;
    }
    if (r == 0) break;
    len_ += static_cast<std::size_t>(r);
  }
  sys::close(fd);
  return ok;
}

}  // namespace sealkit::rt
