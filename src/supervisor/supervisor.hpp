// The supervisor of the seccomp backend across execve (docs/seccomp-exec.md):
// it holds the listener of the one root filter of a process tree, which sends
// it every guarded call that passes the kernel's own validation, and answers
// each one by image: EPERM when the call touches a range that an image token
// mapped in the caller says the caller's image (or an ancestor it was forked
// from) sealed, else CONTINUE. Seals arrive as registrations
// (backend/seccomp/registration_proto.hpp) on a Unix socket the tree inherits.
//
// Robust against its clients: every socket is non-blocking, every message is
// validated, every fd received is closed, and no client can make it wait.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "backend/seccomp/filter.hpp"
#include "supervisor/record_packs.hpp"

namespace sealkit::backend::seccomp {

struct SupervisorStats {
  std::uint64_t notifications = 0;    // received from a listener
  std::uint64_t answered_continue = 0;
  std::uint64_t answered_eperm = 0;
  std::uint64_t unreadable = 0;       // the caller's maps could not be read: refused (fail closed)
  std::uint64_t gone = 0;             // the caller died or was interrupted before the answer
  std::uint64_t registrations = 0;    // seals accepted
  std::uint64_t rejected = 0;         // registration messages refused (malformed, unverifiable, too large)
  std::uint64_t cache_hits = 0;       // answered without reading /proc/PID/maps (see CacheEntry)
  std::uint64_t internal_errors = 0;  // rounds cut short by an exception (no memory): the loop goes on
  std::uint64_t records = 0;          // registrations held now
  std::uint64_t records_collected = 0;  // dropped because no process maps their token any more
  std::uint64_t collections = 0;      // scans of /proc for the tokens still mapped (collect_garbage)
  std::uint64_t collect_ns = 0;       // the time those scans took
  std::uint64_t queries_answered = 0;  // sealkit audit's questions answered (root: the ranges; the owner: EPERM)
  std::uint64_t queries_dropped = 0;   // questions from other users: read and dropped, never answered
  // The work behind the answers, in units that do not depend on the machine's
  // speed (tests/lib/seccomp_many_seals_test.cpp bounds them per registration):
  std::uint64_t maps_bytes = 0;        // /proc/PID/maps text read for notifications and registrations (not scans)
  std::uint64_t bpf_instructions = 0;  // instructions the interpreter ran to answer notifications
  std::uint64_t tokens_read = 0;       // tokens read back (process_vm_readv) to check a cached task
  std::uint64_t ranges_built = 0;      // ranges the filter generator was given (records' programs, packs)
};

class Supervisor {
 public:
  // Takes ownership of `registration_socket` (SOCK_SEQPACKET; -1 for none).
  explicit Supervisor(int registration_socket) noexcept;
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Takes ownership of a listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER).
  void add_listener(int fd);

  // Waits up to timeout_ms (-1: no limit) for work and does all that is ready.
  // `extra_fd` (>= 0) is polled too; `extra_ready` says whether it became
  // readable. EINTR returns early. False once nothing is left to supervise:
  // every listener hung up (all processes under the filters have exited).
  bool step(int timeout_ms, int extra_fd = -1, bool* extra_ready = nullptr);

  bool has_listeners() const noexcept { return !listeners_.empty(); }
  // Names the query socket after this process now, not at the next step: a
  // supervisor forked into the background answers `sealkit audit` from the
  // moment its parent returns.
  void answer_queries_as_this_process();
  const SupervisorStats& stats() const noexcept { return stats_; }
  // The fds this supervisor owns (for a process that must keep only them).
  std::vector<int> owned_fds() const;

 private:
  struct Record {
    std::vector<sock_filter> program;  // the image's own filter, ERRNO action
    std::vector<SealedRange> ranges;   // what it was built from (the token's own range last), for `sealkit audit`
    std::uint8_t nonce[16] = {};       // the token's (backend/seccomp/registration_proto.hpp TokenHeader)
    bool exact = true;                 // the program checks mremap's destination exactly (RecordPacks)
  };
  // What a process's maps said, kept while it provably still holds: the
  // process is alive (its pidfd has not signalled an exit, so the id is not
  // reused) and its newest token is still at its address with its nonce (one
  // process_vm_readv of the asking task's memory). One token tells for all:
  // a token cannot be unmapped, moved or replaced (its own record seals it),
  // so the tokens of a memory go all at once, by an exec. A process that forges
  // its predecessor's newest token at the same address after an exec (the
  // nonce handed over) only keeps its predecessor's seals on itself: the entry
  // can make the supervisor refuse more, never less. Tokens appear by a
  // registration, which adds its record to the entry of every cached process
  // with the registering process's memory (itself; a vfork parent or child, a
  // CLONE_VM sibling: kcmp) and leaves the others as they are, or by fork,
  // which makes a new process. Keyed by the process (thread group): its
  // threads share its memory and are answered from its entry. The records are
  // also kept as packs (record_packs.hpp): a few programs, however many records.
  struct CacheEntry {
    int pidfd = -1;
    std::vector<const Record*> records;
    std::vector<std::uint64_t> token_addresses;
    std::unique_ptr<RecordPacks> packs;  // cached entries only; null: run each record's program
  };
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>;  // token memfd: dev major, minor, inode

  bool step_unguarded(int timeout_ms, int extra_fd, bool* extra_ready);
  // `sealkit audit`'s questions (supervisor_query.hpp), on a socket named
  // after this process: (re)opened when the pid changed (a supervisor forked
  // into the background).
  void open_query_socket();
  void on_query();
  void on_registration();
  int handle_registration(const void* request, std::size_t size, int reply_fd, int token_fd);
  void on_notification(int listener);
  bool refuses(const seccomp_notif& req);
  // The records whose tokens task `tid` maps (its process's cached entry);
  // nullptr when its maps cannot be read.
  const CacheEntry* records_of(std::uint32_t tid);
  // The key of the entry that answers for task `tid`: its process (thread group).
  std::uint32_t entry_key(std::uint32_t tid);
  // Whether `e` still describes the memory of task `tid` (see CacheEntry).
  bool still_valid(std::uint32_t tid, const CacheEntry& e);
  void forget(std::uint32_t key);
  void clear_cache();
  // After a registration by process `pid` of `record`, mapped at `address`:
  // the entries of processes with its memory gain the record. No memory for
  // a pack: the cache is emptied (the next lookups read the maps again).
  void cached_registration(pid_t pid, const Record& record, std::uint64_t address) noexcept;
  void update_cache_for(pid_t pid, const Record& record, std::uint64_t address);
  // Whether the token of `st` (a memfd) is mapped read-only at exactly
  // [address, end) in process `pid`.
  bool token_mapped(pid_t pid, const struct stat& st, std::uint64_t address, std::uint64_t end);
  // /proc/PID/maps into maps_buffer_ (kept between calls: a notification must
  // not pay for a fresh allocation and its page faults). False when unreadable.
  bool read_maps(pid_t pid, std::string_view& text);
  // Drops the records whose token no process maps any more (their images
  // exec'd or exited), when there are twice as many as the last scan kept
  // (at least kCollectAt; collect_garbage, below). Without it, a long-lived
  // tree that execs forever grows the supervisor forever.
  void collect_if_due();
  void collect_garbage();
  // The tokens mapped by every process that can be in the tree (see
  // collect_garbage); false when the scan was not complete.
  bool scan_live_tokens(std::set<Key>& live);
  static constexpr std::size_t kCollectAt = 256;
  std::size_t collect_at_ = kCollectAt;
  std::set<Key> unseen_before_;  // tokens the last complete scan found nowhere

  // Questions read per round of step(): a flood of them (any user can send
  // to the socket) is drained this many at a time, and the listener and the
  // registration socket get their turn in between.
  static constexpr int kQueriesPerRound = 64;

  int socket_ = -1;
  int query_ = -1;
  pid_t query_pid_ = 0;  // the pid query_ is named after
  uid_t owner_ = 0;      // this process's user: the one asker besides root it answers (with EPERM)
  std::vector<int> listeners_;
  std::map<Key, Record> records_;
  std::string maps_buffer_;
  std::map<std::uint32_t, CacheEntry> cache_;
  std::size_t cached_records_ = 0;  // over cache_: bounds the packs' memory (kMaxCachedRecords)
  CacheEntry uncached_;  // the last lookup that could not be cached
  std::string status_;   // /proc/TID/status, its capacity kept (entry_key)
  SupervisorStats stats_;
  std::unique_ptr<ProgramBuilder> builder_;  // made at the first build, counting into stats_
};

// The root filter of a supervised tree: every guarded call that the kernel
// does not refuse on its own (alignment, lengths, flags...) is sent to the
// listener. 0 and the listener fd, or an errno (install()'s).
int install_root_filter(int& listener_fd) noexcept;

}  // namespace sealkit::backend::seccomp
