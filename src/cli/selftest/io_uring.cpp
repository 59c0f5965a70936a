#include "cli/selftest/io_uring.hpp"

#include <cerrno>
#include <cstring>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "core/proc_maps.hpp"

namespace sealkit::cli::selftest {

namespace {

CallOutcome setup_failure(const char* what, int err) {
  CallOutcome o;
  o.setup_failed = true;
  o.err = err;
  o.note.set("%s: %s", what, std::strerror(err));
  return o;
}

template <typename T>
T* at(void* base, std::uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

// One ring, one submission, one completion. The mappings and the ring fd
// are left to the child's exit.
CallOutcome submit_one(const io_uring_sqe& request) {
  io_uring_params p{};
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, 4, &p));
  if (fd < 0) return setup_failure("io_uring_setup", errno);

  std::size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(std::uint32_t);
  std::size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  const bool single = p.features & IORING_FEAT_SINGLE_MMAP;
  if (single) sq_len = cq_len = std::max(sq_len, cq_len);
  void* sq = mmap(nullptr, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) return setup_failure("mmap of the submission ring", errno);
  void* cq = single ? sq : mmap(nullptr, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                                IORING_OFF_CQ_RING);
  if (cq == MAP_FAILED) return setup_failure("mmap of the completion ring", errno);
  void* sqes = mmap(nullptr, p.sq_entries * sizeof(io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                    fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) return setup_failure("mmap of the submission entries", errno);

  auto* sq_tail = at<std::uint32_t>(sq, p.sq_off.tail);
  const std::uint32_t sq_mask = *at<std::uint32_t>(sq, p.sq_off.ring_mask);
  const std::uint32_t tail = *sq_tail;
  const std::uint32_t index = tail & sq_mask;
  static_cast<io_uring_sqe*>(sqes)[index] = request;
  at<std::uint32_t>(sq, p.sq_off.array)[index] = index;
  __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

  long entered = syscall(__NR_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, nullptr, 0);
  if (entered < 0) return setup_failure("io_uring_enter", errno);

  auto* cq_head = at<std::uint32_t>(cq, p.cq_off.head);
  const std::uint32_t head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
  const std::uint32_t cq_tail = __atomic_load_n(at<std::uint32_t>(cq, p.cq_off.tail), __ATOMIC_ACQUIRE);
  if (head == cq_tail) return setup_failure("io_uring_enter returned without a completion", EAGAIN);
  const std::uint32_t cq_mask = *at<std::uint32_t>(cq, p.cq_off.ring_mask);
  const io_uring_cqe cqe = at<io_uring_cqe>(cq, p.cq_off.cqes)[head & cq_mask];
  __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);

  CallOutcome o;
  o.ok = cqe.res == 0;
  o.err = cqe.res < 0 ? -cqe.res : 0;
  o.note.set("completion result %d", cqe.res);
  return o;
}

}  // namespace

CallOutcome io_uring_madvise_dontneed(const Target& t) {
  io_uring_sqe sqe{};
  sqe.opcode = IORING_OP_MADVISE;
  sqe.fd = -1;
  sqe.addr = t.addr;
  // Every kernel with IORING_OP_MADVISE reads the length from len (newer
  // ones first look at off, which must then be 0).
  sqe.len = static_cast<std::uint32_t>(t.len);
  sqe.fadvise_advice = MADV_DONTNEED;
  sqe.user_data = 1;
  return submit_one(sqe);
}

std::string io_uring_disabled_setting() {
  auto text = core::read_proc_file("/proc/sys/kernel/io_uring_disabled", 64);
  if (!text) {
    if (errno == ENOENT) return "absent (a kernel before 6.6 has no such switch)";
    return std::string("unreadable: ") + std::strerror(errno);
  }
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  return *text;
}

}  // namespace sealkit::cli::selftest
