#include "supervisor/supervisor.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <new>
#include <set>
#include <string_view>

#include "backend/seccomp/install.hpp"
#include "backend/seccomp/registration_proto.hpp"
#include "core/bpf_eval.hpp"
#include "core/proc_maps.hpp"
#include "core/proc_status.hpp"
#include "core/read_fd.hpp"
#include "core/vma_query.hpp"
#include "supervisor/supervisor_query.hpp"

namespace sealkit::backend::seccomp {

namespace reg = registration;

namespace {

constexpr std::size_t kMaxFdsPerMessage = 8;
constexpr std::size_t kMaxCachedTasks = 256;  // pidfds held at most
// Records over all cached entries, at most: their packs hold a copy of every
// program and range (about 10 bytes per instruction), so this bounds the
// cache's memory to a few tens of MiB.
constexpr std::size_t kMaxCachedRecords = 65536;
constexpr int kKcmpVm = 1;  // KCMP_VM, include/uapi/linux/kcmp.h
constexpr std::size_t kMaxTokenBytes = sizeof(reg::TokenHeader) + reg::kMaxWireRanges * sizeof(reg::WireRange);

bool is_token_path(std::string_view path) noexcept { return path.starts_with(reg::kTokenMapsPath); }

bool read_exact(int fd, void* out, std::size_t n, off_t at) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, at);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    at += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

int install_root_filter(int& listener_fd) noexcept {
  // One range over the whole address space: the generator's own validation
  // still lets through (RET ALLOW) every call the kernel refuses first, and
  // sends the rest, process_madvise with discard advice included, to the listener.
  const SealedRange everything{0, task_size(), true};
  Input in;
  in.ranges = &everything;
  in.count = 1;
  in.task_size = task_size();
  in.refusal_action = SECCOMP_RET_USER_NOTIF;
  // The program and its workspace come from mmap (never a guarded call) and
  // are not given back once a root filter may be in place: from then on an
  // munmap, or an allocator's munmap or discarding madvise on free (ASan's
  // does), is a guarded call, handed to a listener that nobody reads until
  // the caller has passed it on, so the process would wait forever. The caller
  // execs next; the ~300 KiB stay with the image it leaves.
  struct Scratch {
    Program program;
    BuildWorkspace work;
  };
  void* mem = ::mmap(nullptr, sizeof(Scratch), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return ENOMEM;
  auto* scratch = new (mem) Scratch;
  if (BuildStatus st = build(in, scratch->program, scratch->work); st != BuildStatus::kOk) return to_errno(st);
  InstallOptions options;
  options.new_listener = true;
  InstallOutcome out = install(scratch->program, options);
  if (out.error) return out.error;
  listener_fd = out.listener_fd;
  return 0;
}

Supervisor::Supervisor(int registration_socket) noexcept : socket_(registration_socket), owner_(::getuid()) {
  if (socket_ >= 0) ::fcntl(socket_, F_SETFL, ::fcntl(socket_, F_GETFL) | O_NONBLOCK);
}

Supervisor::~Supervisor() {
  if (socket_ >= 0) ::close(socket_);
  if (query_ >= 0) ::close(query_);
  for (int fd : listeners_) ::close(fd);
  clear_cache();
}

void Supervisor::clear_cache() {
  for (auto& [key, e] : cache_)
    if (e.pidfd >= 0) ::close(e.pidfd);
  cache_.clear();
  cached_records_ = 0;
}

void Supervisor::forget(std::uint32_t key) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return;
  if (it->second.pidfd >= 0) ::close(it->second.pidfd);
  cached_records_ -= it->second.records.size();
  cache_.erase(it);
}

bool Supervisor::still_valid(std::uint32_t tid, const CacheEntry& e) {
  pollfd p{e.pidfd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 0) return false;  // exited (or an error): the id may be reused
  if (e.records.empty()) return true;
  // The newest token only: they all go at once or not at all (CacheEntry).
  ++stats_.tokens_read;
  reg::TokenHeader seen;
  iovec local{&seen, sizeof seen};
  iovec remote{reinterpret_cast<void*>(e.token_addresses.back()), sizeof seen};
  if (::process_vm_readv(static_cast<pid_t>(tid), &local, 1, &remote, 1, 0) != static_cast<ssize_t>(sizeof seen))
    return false;
  return seen.magic == reg::kMagic && std::memcmp(seen.nonce, e.records.back()->nonce, sizeof seen.nonce) == 0;
}

std::uint32_t Supervisor::entry_key(std::uint32_t tid) {
  if (cache_.count(tid) != 0) return tid;
  // Any other thread of a process shares its memory, so its entry answers.
  // The caller is stopped in the notified call: its process cannot change
  // under it (an exec by another thread would kill it, and the answer is
  // then not sent: SECCOMP_IOCTL_NOTIF_ID_VALID).
  if (!core::read_status_text(static_cast<pid_t>(tid), status_)) return tid;
  const std::optional<long> group = core::status_number(status_, "Tgid");
  return group && *group > 0 && *group <= 0x7fffffff ? static_cast<std::uint32_t>(*group) : tid;
}

const Supervisor::CacheEntry* Supervisor::records_of(std::uint32_t tid) {
  const std::uint32_t key = entry_key(tid);
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (still_valid(tid, it->second)) {
      ++stats_.cache_hits;
      return &it->second;
    }
    forget(key);
  }
  std::string_view text;
  if (!read_maps(static_cast<pid_t>(tid), text)) return nullptr;
  stats_.maps_bytes += text.size();
  CacheEntry e;
  core::for_each_maps_entry(text, [&](const core::MapsEntry& m) {
    if (!is_token_path(m.path)) return true;
    auto it = records_.find(Key{m.dev_major, m.dev_minor, m.inode});
    if (it == records_.end()) return true;  // a token nobody registered: it seals nothing
    e.records.push_back(&it->second);
    e.token_addresses.push_back(m.range.begin);
    return true;
  });
  e.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(key), 0));
  if (e.pidfd < 0) {
    uncached_ = std::move(e);
    return &uncached_;
  }
  ::fcntl(e.pidfd, F_SETFD, FD_CLOEXEC);
  if (cache_.size() >= kMaxCachedTasks || cached_records_ + e.records.size() > kMaxCachedRecords) clear_cache();
  if (!builder_) builder_ = std::make_unique<ProgramBuilder>(stats_.ranges_built);
  try {
    e.packs = std::make_unique<RecordPacks>();
    std::vector<RecordPacks::RecordRef> refs;
    refs.reserve(e.records.size());
    for (const Record* r : e.records) refs.push_back({&r->ranges, &r->program, r->exact});
    e.packs->add_all(refs, *builder_);
  } catch (...) {  // no memory: the round fails closed (step), the pidfd is not kept
    ::close(e.pidfd);
    throw;
  }
  cached_records_ += e.records.size();
  return &(cache_[key] = std::move(e));
}

void Supervisor::cached_registration(pid_t pid, const Record& record, std::uint64_t address) noexcept {
  try {
    update_cache_for(pid, record, address);
  } catch (...) {
    clear_cache();
  }
}

// The registering process's memory gained a token. Every cached process that
// has that very memory (the process itself; a vfork parent or child, a
// CLONE_VM sibling) gains the record, once its entry is shown to still
// describe that memory (an entry made before an exec does not); the others
// keep what they had, their memory did not change. kcmp says which is which;
// where it cannot tell (an error, a kernel without it), the entry goes.
void Supervisor::update_cache_for(pid_t pid, const Record& record, std::uint64_t address) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    const pid_t key = static_cast<pid_t>(it->first);
    const long same = key == pid ? 0 : ::syscall(SYS_kcmp, pid, key, kKcmpVm, 0, 0);
    CacheEntry& e = it->second;
    if (same < 0 || (same == 0 && (cached_records_ >= kMaxCachedRecords || !still_valid(it->first, e)))) {
      if (e.pidfd >= 0) ::close(e.pidfd);
      cached_records_ -= e.records.size();
      it = cache_.erase(it);
      continue;
    }
    if (same == 0) {
      e.records.reserve(e.records.size() + 1);
      e.token_addresses.reserve(e.token_addresses.size() + 1);
      e.packs->add({&record.ranges, &record.program, record.exact}, *builder_);  // throws: the cache is emptied
      e.records.push_back(&record);
      e.token_addresses.push_back(address);
      ++cached_records_;
    }
    ++it;
  }
}

void Supervisor::add_listener(int fd) { listeners_.push_back(fd); }

std::vector<int> Supervisor::owned_fds() const {
  std::vector<int> fds = listeners_;
  if (socket_ >= 0) fds.push_back(socket_);
  if (query_ >= 0) fds.push_back(query_);
  return fds;
}

void Supervisor::open_query_socket() {
  if (query_ >= 0) ::close(query_);
  query_pid_ = ::getpid();
  query_ = query::open_socket();  // -1 (a name taken, no memory): the audit says "supervised" and why
}

void Supervisor::answer_queries_as_this_process() {
  if (query_pid_ != ::getpid()) open_query_socket();
}

void Supervisor::on_query() {
  auto ranges_of = [](void* context, pid_t pid, std::vector<query::WireRange>& out) {
    auto* self = static_cast<Supervisor*>(context);
    const CacheEntry* entry = self->records_of(static_cast<std::uint32_t>(pid));
    if (entry == nullptr) return false;
    std::uint32_t index = 0;
    for (const Record* r : entry->records) {
      for (const SealedRange& range : r->ranges)
        out.push_back({range.start, range.end, range.discard_protected ? query::kDiscardProtected : 0u, index});
      ++index;
    }
    return true;
  };
  for (int i = 0; i < kQueriesPerRound; ++i) {
    const query::Served served = query::serve_one(query_, owner_, ranges_of, this);
    if (served == query::Served::kNothing) break;
    ++(served == query::Served::kAnswered ? stats_.queries_answered : stats_.queries_dropped);
  }
}

bool Supervisor::step(int timeout_ms, int extra_fd, bool* extra_ready) {
  // Nothing may escape: a supervisor that unwinds closes the listener, and
  // every guarded call of the tree fails with ENOSYS from then on.
  try {
    return step_unguarded(timeout_ms, extra_fd, extra_ready);
  } catch (...) {
    ++stats_.internal_errors;
    return !listeners_.empty();
  }
}

bool Supervisor::step_unguarded(int timeout_ms, int extra_fd, bool* extra_ready) {
  if (extra_ready) *extra_ready = false;
  if (listeners_.empty() && socket_ < 0 && extra_fd < 0) return false;  // nothing to wait for (questions alone are not)
  std::vector<pollfd> fds;
  for (int fd : listeners_) fds.push_back({fd, POLLIN, 0});
  const std::size_t socket_index = fds.size();
  if (socket_ >= 0) fds.push_back({socket_, POLLIN, 0});
  if (query_pid_ != ::getpid()) open_query_socket();
  const std::size_t query_index = fds.size();
  if (query_ >= 0) fds.push_back({query_, POLLIN, 0});
  const std::size_t extra_index = fds.size();
  if (extra_fd >= 0) fds.push_back({extra_fd, POLLIN, 0});
  if (fds.empty()) return false;
  int n = ::poll(fds.data(), fds.size(), timeout_ms);
  if (n <= 0) return !listeners_.empty();
  if (extra_fd >= 0 && fds[extra_index].revents != 0 && extra_ready) *extra_ready = true;
  if (query_ >= 0) {
    const short re = fds[query_index].revents;
    if (re & POLLIN) on_query();
    else if (re & (POLLERR | POLLNVAL)) {
      ::close(query_);  // closed under us (a process that keeps only some fds): no more questions
      query_ = -1;
    }
  }
  if (socket_ >= 0) {
    const short re = fds[socket_index].revents;
    if (re & POLLIN) on_registration();
    else if (re & (POLLHUP | POLLERR | POLLNVAL)) {
      // Nobody holds the other end any more: no registration can come.
      ::close(socket_);
      socket_ = -1;
    }
  }
  std::vector<int> alive;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    const short re = fds[i].revents;
    if (re & POLLIN) on_notification(listeners_[i]);
    if ((re & (POLLHUP | POLLERR | POLLNVAL)) && !(re & POLLIN)) {
      ::close(listeners_[i]);  // the filter has no task left: nothing more will come
      continue;
    }
    alive.push_back(listeners_[i]);
  }
  listeners_.swap(alive);
  return !listeners_.empty();
}

void Supervisor::on_registration() {
  reg::Request request;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))];
  iovec iov{&request, sizeof request};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r = ::recvmsg(socket_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (r < 0) return;  // EAGAIN: someone else's wake-up; anything else: try again next round
  if (r == 0) {
    ::close(socket_);
    socket_ = -1;
    return;
  }
  // Every fd that came along is ours to close, whatever the message says.
  int fds[kMaxFdsPerMessage * 2];
  std::size_t nfds = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count && nfds < sizeof fds / sizeof fds[0]; ++i)
      std::memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  int error = EINVAL;
  const bool well_formed = (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) == 0 && nfds == 2;
  struct stat st{};
  const bool reply_is_socket = nfds >= 1 && ::fstat(fds[0], &st) == 0 && S_ISSOCK(st.st_mode);
  if (well_formed && reply_is_socket) {
    try {
      error = handle_registration(&request, static_cast<std::size_t>(r), fds[0], fds[1]);
    } catch (const std::bad_alloc&) {
      error = ENOMEM;
    }
  }
  if (error == 0) ++stats_.registrations;
  else ++stats_.rejected;
  if (reply_is_socket) {
    reg::Reply reply;
    reply.error = error;
    (void)::send(fds[0], &reply, sizeof reply, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  for (std::size_t i = 0; i < nfds; ++i) ::close(fds[i]);
}

int Supervisor::handle_registration(const void* raw, std::size_t size, int reply_fd, int token_fd) {
  reg::Request request;
  if (size != sizeof request) return EINVAL;
  std::memcpy(&request, raw, sizeof request);
  if (request.magic != reg::kMagic || request.version != reg::kVersion) return EINVAL;
  if (request.token_address % reg::kTokenPage != 0 || request.token_address == 0) return EINVAL;

  // Who registers: the process that made the reply socket (the kernel says so).
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(reply_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0) return EINVAL;

  // The token: a memfd sealed against any change, so its contents are final.
  struct stat st{};
  if (::fstat(token_fd, &st) != 0 || !S_ISREG(st.st_mode)) return EINVAL;
  const int seals = ::fcntl(token_fd, F_GET_SEALS);
  constexpr int kNeeded = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  if (seals < 0 || (seals & kNeeded) != kNeeded) return EINVAL;
  if (st.st_size < static_cast<off_t>(sizeof(reg::TokenHeader)) || st.st_size > static_cast<off_t>(kMaxTokenBytes))
    return EINVAL;
  reg::TokenHeader header;
  if (!read_exact(token_fd, &header, sizeof header, 0)) return EINVAL;
  if (header.magic != reg::kMagic || header.version != reg::kVersion || header.count > reg::kMaxWireRanges ||
      static_cast<std::uint64_t>(st.st_size) != sizeof header + header.count * sizeof(reg::WireRange))
    return EINVAL;
  std::vector<reg::WireRange> wire(header.count);
  if (header.count && !read_exact(token_fd, wire.data(), wire.size() * sizeof wire[0], sizeof header)) return EINVAL;

  // The token must be mapped where the caller says, read-only: that mapping is
  // what later tells its image (and its forked children) from any other.
  const std::uint64_t token_end = request.token_address + reg::token_length(header.count);
  if (!token_mapped(cred.pid, st, request.token_address, token_end)) return EINVAL;

  const std::uint64_t limit = task_size();
  std::vector<SealedRange> ranges;
  ranges.reserve(wire.size() + 1);
  for (const reg::WireRange& w : wire) {
    if (w.start % kPageSize || w.end % kPageSize || w.start >= w.end || w.end > limit) return EINVAL;
    ranges.push_back({w.start, w.end, (w.flags & reg::kDiscardProtected) != 0});
  }
  ranges.push_back({request.token_address, token_end, false});

  if (!builder_) builder_ = std::make_unique<ProgramBuilder>(stats_.ranges_built);
  if (BuildStatus s = builder_->build(ranges.data(), ranges.size()); s != BuildStatus::kOk)
    return s == BuildStatus::kInternal ? EINVAL : to_errno(s);
  const Program& program = builder_->program();
  Record record;
  record.program.assign(program.insns, program.insns + program.length);
  record.ranges = std::move(ranges);
  record.exact = program.exact_mremap_destination;
  std::memcpy(record.nonce, header.nonce, sizeof record.nonce);
  auto [it, fresh] = records_.insert_or_assign(Key{major(st.st_dev), minor(st.st_dev), st.st_ino}, std::move(record));
  // A key seen before belongs to a token that is gone (the inode was freed
  // and reused): entries may point at the record it replaced.
  if (fresh) cached_registration(cred.pid, it->second, request.token_address);
  else clear_cache();
  stats_.records = records_.size();
  collect_if_due();
  return 0;
}

bool Supervisor::token_mapped(pid_t pid, const struct stat& st, std::uint64_t address, std::uint64_t end) {
  auto is_it = [&](const core::MapsEntry& m) {
    return m.range.begin == address && m.range.end == end && !m.write && m.inode == st.st_ino &&
           m.dev_major == major(st.st_dev) && m.dev_minor == minor(st.st_dev) && is_token_path(m.path);
  };
  // One lookup where the kernel has PROCMAP_QUERY: the caller's maps grow by
  // a token per seal, and reading them all would make every registration
  // cost more than the one before.
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/maps", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  core::MapsEntry m;
  char name[256];
  const long r = core::query_vma(fd, address, false, name, sizeof name, m);
  ::close(fd);
  if (r == 0) return is_it(m);
  if (r == -ENOENT) return false;
  // No PROCMAP_QUERY (before 6.11), or a name too long for the buffer (no
  // token's): the text decides, read up to the token's line. Tokens are
  // mapped top-down, each below the ones before, so the newest one comes
  // early in the text whatever the number of seals.
  bool mapped = false;
  std::size_t bytes = 0;
  const bool read = core::scan_maps_file(path, [&](const core::MapsEntry& e) {
    if (e.range.end <= address) return true;
    mapped = is_it(e);
    return false;
  }, &bytes);
  stats_.maps_bytes += bytes;
  return read && mapped;
}

bool Supervisor::read_maps(pid_t pid, std::string_view& text) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/maps", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // A process this large is refused, not read forever.
  const std::optional<std::size_t> n = core::read_fd(fd, maps_buffer_, std::size_t{64} << 20);
  ::close(fd);
  if (!n) return false;
  text = std::string_view(maps_buffer_.data(), *n);
  return true;
}

void Supervisor::collect_if_due() {
  if (records_.size() < collect_at_) return;
  collect_garbage();
  // Those unseen once go at the next scan, which is due when as many records
  // again as were live have come: the unseen ones never double the count, so
  // a tree that execs forever keeps the supervisor within
  // max(kCollectAt, twice the live records) plus the unseen ones.
  const std::size_t live = records_.size() - unseen_before_.size();
  collect_at_ = std::max(kCollectAt, records_.size() + live);
}

// Which tokens are still mapped, from every process that may be in the tree:
// one under a seccomp filter (all of the tree is under the root filter), of
// this supervisor's own user unless it is root (the tree cannot change user
// without privileges: no_new_privs). Only complete scans count: one such
// process that is there but unreadable (non-dumpable without CAP_SYS_PTRACE,
// more capabilities than this one, an LSM's refusal, or too large) could map
// any token, and then nothing goes. A record goes when two complete
// scans in a row found its token nowhere: a single scan can miss a child forked
// meanwhile (readdir of /proc goes up by pid; a child whose pid wrapped below
// the scan's position, of a parent that exec'd before its turn, would hold the
// token unseen), and the second sees every process that was alive before it
// began. Costs a read of each process's maps, once per doubling of the records.
void Supervisor::collect_garbage() {
  ++stats_.collections;
  const auto t0 = std::chrono::steady_clock::now();
  std::set<Key> live;
  const bool complete = scan_live_tokens(live);
  stats_.collect_ns +=
      static_cast<std::uint64_t>(std::chrono::nanoseconds(std::chrono::steady_clock::now() - t0).count());
  if (!complete) return;
  std::set<Key> unseen;
  bool dropped = false;
  for (auto it = records_.begin(); it != records_.end();) {
    if (live.count(it->first) != 0) {
      ++it;
    } else if (unseen_before_.count(it->first) != 0) {
      it = records_.erase(it);
      ++stats_.records_collected;
      dropped = true;
    } else {
      unseen.insert(it->first);
      ++it;
    }
  }
  unseen_before_ = std::move(unseen);
  stats_.records = records_.size();
  if (dropped) {  // the cache points into records_; kept whole when nothing went
    clear_cache();
    uncached_ = CacheEntry{};
  }
}

bool Supervisor::scan_live_tokens(std::set<Key>& live) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return false;
  const uid_t me = ::geteuid();
  const pid_t self = ::getpid();
  std::string status;  // its capacity kept across processes
  bool complete = true;
  while (const dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0 || pid == self) continue;
    struct stat st{};
    if (me != 0 && (::fstatat(::dirfd(proc), e->d_name, &st, 0) != 0 || st.st_uid != me)) continue;
    // Every process of the tree has the root filter. Status is readable for
    // any process, unlike its maps; one that cannot be told leaves it to them.
    if (core::read_status_text(static_cast<pid_t>(pid), status)) {
      const auto s = core::parse_seccomp_status(status);
      if (s && s->mode != -1 && s->mode != SECCOMP_MODE_FILTER) continue;
    }
    std::string_view text;
    errno = 0;
    if (!read_maps(static_cast<pid_t>(pid), text)) {
      if (errno == ENOENT || errno == ESRCH) continue;  // it exited meanwhile
      complete = false;
      break;
    }
    core::for_each_maps_entry(text, [&](const core::MapsEntry& m) {
      if (is_token_path(m.path)) live.insert(Key{m.dev_major, m.dev_minor, m.inode});
      return true;
    });
  }
  ::closedir(proc);
  return complete;
}

bool Supervisor::refuses(const seccomp_notif& req) {
  if (req.pid == 0) return true;  // not in our pid namespace: cannot look, fail closed
  const CacheEntry* entry = records_of(req.pid);
  if (entry == nullptr) {
    ++stats_.unreadable;
    return true;
  }
  if (entry->packs) return entry->packs->refuses(req.data, stats_.bpf_instructions);
  for (const Record* r : entry->records) {
    const core::bpf::RunOutcome run = core::bpf::run(r->program.data(), r->program.size(), req.data);
    stats_.bpf_instructions += run.executed;
    const std::uint32_t action = run.ret;
    if ((action & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW) return true;
  }
  return false;
}

void Supervisor::on_notification(int listener) {
  seccomp_notif req;
  std::memset(&req, 0, sizeof req);  // the kernel insists
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;  // ENOENT: the caller went away first
  ++stats_.notifications;
  bool refuse;
  try {
    refuse = refuses(req);
  } catch (...) {
    refuse = true;
  }
  // The pid read above is the caller's only while the notification is alive:
  // checked after reading, so a recycled pid's maps never decide.
  // Both ioctls take the filter's lock interruptibly: EINTR (a signal for
  // this process, such as sealkit run's SIGCHLD) is not "gone", and a
  // notification left unanswered would hold its caller forever.
  int r;
  do r = ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id);
  while (r != 0 && errno == EINTR);
  if (r != 0) {
    ++stats_.gone;
    forget(req.pid);  // its entry may describe another task by now
    return;
  }
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  if (refuse) {
    resp.error = -EPERM;
  } else {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  }
  do r = ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  while (r != 0 && errno == EINTR);
  if (r != 0) {
    ++stats_.gone;
    return;
  }
  if (refuse) ++stats_.answered_eperm;
  else ++stats_.answered_continue;
}

}  // namespace sealkit::backend::seccomp
