// core::read_fd, the one whole-descriptor read: everything up to end of
// file, across read(2)s interrupted by signals, and never more than the cap.
#include "core/read_fd.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

using sealkit::core::read_fd;

namespace {

// A memfd holding `text`, at offset 0.
int memfd_with(const std::string& text) {
  const int fd = ::memfd_create("read_fd_test", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::lseek(fd, 0, SEEK_SET) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

void on_signal(int) {}

}  // namespace

TEST(ReadFd, ReadsEverythingPastItsFirstBuffer) {
  const std::string text = pattern(300000);  // several doublings of the first 16 KiB
  const int fd = memfd_with(text);
  ASSERT_GE(fd, 0);
  const auto got = read_fd(fd, text.size());
  ::close(fd);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, text);
}

TEST(ReadFd, TheCapIsInclusiveAndOneByteMoreIsRefused) {
  const std::string text = pattern(5000);
  const int fd = memfd_with(text);
  ASSERT_GE(fd, 0);
  const auto exact = read_fd(fd, text.size());
  ASSERT_TRUE(exact) << "a file of exactly the cap is whole";
  EXPECT_EQ(*exact, text);
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  errno = 0;
  const auto over = read_fd(fd, text.size() - 1);
  const int e = errno;
  ::close(fd);
  EXPECT_FALSE(over) << "one byte past the cap";
  EXPECT_EQ(e, EFBIG);
}

TEST(ReadFd, AReusedBufferKeepsItsSizeAndNeverReadsPastTheCap) {
  std::string buf;
  const std::string big = pattern(100000), small = pattern(10);
  int fd = memfd_with(big);
  ASSERT_GE(fd, 0);
  auto n = read_fd(fd, buf, big.size());
  ::close(fd);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, big.size());
  const std::size_t grown = buf.size();
  fd = memfd_with(small);
  ASSERT_GE(fd, 0);
  n = read_fd(fd, buf, small.size());
  ::close(fd);
  ASSERT_TRUE(n);
  EXPECT_EQ(buf.substr(0, *n), small);
  EXPECT_EQ(buf.size(), grown) << "the buffer is kept for the next read";
  // The large buffer does not let a read run past a smaller cap.
  fd = memfd_with(big);
  ASSERT_GE(fd, 0);
  n = read_fd(fd, buf, 1000);
  ::close(fd);
  EXPECT_FALSE(n);
}

// A read(2) on an empty pipe, interrupted by a signal whose handler does not
// ask for SA_RESTART, fails with EINTR: read_fd reads on, and returns what the
// writer sends after it.
TEST(ReadFd, ReadsOnAfterASignalInterruptsARead) {
  struct sigaction sa {}, old {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the blocked read returns EINTR
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const pthread_t reader = ::pthread_self();
  std::atomic<bool> done{false};
  const std::string text = pattern(70000);  // more than a pipe holds: the writer blocks too
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) {  // while the reader waits on the empty pipe
      ::pthread_kill(reader, SIGUSR1);
      ::usleep(5000);
    }
    std::size_t off = 0;
    while (off < text.size()) {
      const ssize_t w = ::write(p[1], text.data() + off, text.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::close(p[1]);
    done = true;
  });
  const auto got = read_fd(p[0], 1 << 20);
  const int e = errno;
  // Whatever a failed read_fd left, read here, so that the writer ends.
  for (char sink[4096];;) {
    const ssize_t n = ::read(p[0], sink, sizeof sink);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  writer.join();
  ::close(p[0]);
  ::sigaction(SIGUSR1, &old, nullptr);
  ASSERT_TRUE(got) << "errno " << e;
  EXPECT_EQ(*got, text);
  EXPECT_TRUE(done.load());
}
