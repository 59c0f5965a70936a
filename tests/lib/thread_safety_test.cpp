// Several threads map, seal and query at once while another flips the mode
// between upstream and V8. No crash, no sanitizer report, and every answer
// consistent with what the calling thread did. Runs in a child: it leaves
// many small sealed mappings behind.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

// Failures from any thread, reported by the child's main thread.
class Failures {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mu_);
    if (list_.size() < 20) list_.push_back(what);
    ++count_;
  }
  void report(ChildReport& r) {
    for (const std::string& f : list_) r.fail(f);
    if (count_ > list_.size()) r.fail(std::to_string(count_ - list_.size()) + " more failures");
  }

 private:
  std::mutex mu_;
  std::vector<std::string> list_;
  std::size_t count_ = 0;
};

#define THREAD_CHECK(failures, cond)                                                                \
  ((cond) ? (void)0                                                                                 \
          : (failures).add(std::string("line ") + std::to_string(__LINE__) + ": " #cond " errno " + \
                           std::to_string(errno)))

void worker(Failures& f, int rounds) {
  const int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
  for (int i = 0; i < rounds; ++i) {
    // Sealable memory can be sealed in either mode.
    void* s = sealkit_mmap(nullptr, page(), PROT_READ, kAnon | SEALKIT_MAP_SEALABLE, -1, 0);
    THREAD_CHECK(f, s != MAP_FAILED);
    if (s == MAP_FAILED) continue;
    THREAD_CHECK(f, sealkit_is_sealed(s, page()) == 0);
    THREAD_CHECK(f, sealkit_mseal(s, page(), 0) == 0);
    THREAD_CHECK(f, sealkit_is_sealed(s, page()) == 1);

    // Memory made without MAP_SEALABLE: sealed in upstream mode, refused with
    // EACCES in V8 mode. Whichever happened, the query must agree.
    void* plain = sealkit_mmap(nullptr, page(), PROT_READ, kAnon, -1, 0);
    THREAD_CHECK(f, plain != MAP_FAILED);
    if (plain == MAP_FAILED) continue;
    errno = 0;
    int r = sealkit_mseal(plain, page(), 0);
    int err = errno;
    THREAD_CHECK(f, r == 0 || (r == -1 && err == EACCES));
    THREAD_CHECK(f, sealkit_is_sealed(plain, page()) == (r == 0 ? 1 : 0));
    if (r != 0) THREAD_CHECK(f, ::munmap(plain, page()) == 0);

    // PROT_SEAL works in either mode.
    void* sealed = sealkit_mmap(nullptr, page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0);
    THREAD_CHECK(f, sealed != MAP_FAILED);
    if (sealed != MAP_FAILED) THREAD_CHECK(f, sealkit_is_sealed(sealed, page()) == 1);

    // A multi-page query across a VMA this thread owns.
    void* two = sealkit_mmap(nullptr, 2 * page(), PROT_READ, kAnon | SEALKIT_MAP_SEALABLE, -1, 0);
    THREAD_CHECK(f, two != MAP_FAILED);
    if (two == MAP_FAILED) continue;
    THREAD_CHECK(f,
                 sealkit_mprotect(static_cast<std::byte*>(two) + page(), page(), PROT_READ | SEALKIT_PROT_SEAL) == 0);
    THREAD_CHECK(f, sealkit_is_sealed(two, 2 * page()) == 0);
    THREAD_CHECK(f, sealkit_is_sealed(static_cast<std::byte*>(two) + page(), page()) == 1);
    THREAD_CHECK(f, ::munmap(two, page()) == 0);
  }
}

TEST(ThreadSafety, ConcurrentMapSealQueryWithModeSwitching) {
  EXPECT_CHILD_PASSES([](ChildReport& report) {
    Failures f;
    std::atomic<bool> stop{false};
    std::thread switcher([&] {
      int last = SEALKIT_MODE_UPSTREAM;
      while (!stop.load()) {
        const int next = last == SEALKIT_MODE_V8 ? SEALKIT_MODE_UPSTREAM : SEALKIT_MODE_V8;
        // Only this thread changes the mode: the previous one is what it set.
        THREAD_CHECK(f, sealkit_set_mode(next) == last);
        last = next;
        errno = 0;
        THREAD_CHECK(f, sealkit_set_mode(7) == -1 && errno == EINVAL);
        std::this_thread::yield();
      }
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) workers.emplace_back(worker, std::ref(f), 150);
    for (std::thread& w : workers) w.join();
    stop = true;
    switcher.join();
    sealkit_set_mode(SEALKIT_MODE_UPSTREAM);
    f.report(report);
  });
}

// is_sealed on shared pages while other threads map and unmap around them:
// the answer for memory nobody touches never changes.
TEST(ThreadSafety, QueriesStayRightWhileOthersMapAndUnmap) {
  EXPECT_CHILD_PASSES([](ChildReport& report) {
    Failures f;
    void* sealed = sealkit_mmap(nullptr, 3 * page(), PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void* open = ::mmap(nullptr, 3 * page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!CHILD_CHECK(report, sealed != MAP_FAILED && open != MAP_FAILED)) return;
    std::atomic<bool> stop{false};
    std::vector<std::thread> churn;
    for (int t = 0; t < 2; ++t) {
      churn.emplace_back([&] {
        while (!stop.load()) {
          void* p = ::mmap(nullptr, 4 * page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (p != MAP_FAILED) {
            ::mprotect(p, page(), PROT_NONE);
            ::munmap(p, 4 * page());
          }
        }
      });
    }
    std::vector<std::thread> queries;
    for (int t = 0; t < 2; ++t) {
      queries.emplace_back([&] {
        for (int i = 0; i < 2000; ++i) {
          THREAD_CHECK(f, sealkit_is_sealed(sealed, 3 * page()) == 1);
          THREAD_CHECK(f, sealkit_is_sealed(sealed, page()) == 1);
          THREAD_CHECK(f, sealkit_is_sealed(open, 3 * page()) == 0);
        }
      });
    }
    for (std::thread& q : queries) q.join();
    stop = true;
    for (std::thread& c : churn) c.join();
    f.report(report);
  });
}

}  // namespace
}  // namespace sealkit::test
