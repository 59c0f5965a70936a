// Parsers for /proc/PID/maps and /proc/PID/smaps text.
//
// The text comes from the kernel, but sealkit treats it as untrusted input: a
// path can hold any byte but newline (and a " (deleted)" suffix), the format
// has grown fields over the years, and a file read while the process changes
// can be torn. Every parser here accepts arbitrary bytes without crashing
// (fuzz/fuzz_proc_maps.cpp) and rejects a line it cannot read fully.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/maps_line.hpp"
#include "core/range.hpp"

namespace sealkit::core {

struct SmapsEntry {
  MapsEntry map;
  bool has_vmflags = false;  // a VmFlags: line was present for this entry
  bool sealed = false;       // VmFlags holds "sl"
  std::uint64_t rss_kb = 0;
};

struct SmapsStats {
  std::size_t entries = 0;
  std::size_t bad_lines = 0;  // lines that fit neither a header nor a field
};

// Calls `fn` for each entry of an smaps text, in order. `fn` returns false to
// stop early. Entries whose header parses but whose fields are torn are still
// reported (has_vmflags tells whether sealing state is known).
SmapsStats for_each_smaps_entry(std::string_view text, const std::function<bool(const SmapsEntry&)>& fn);

// The same for a maps text (one entry per line).
SmapsStats for_each_maps_entry(std::string_view text, const std::function<bool(const MapsEntry&)>& fn);

// Reads a maps file (/proc/PID/maps) a chunk at a time and calls `fn` for
// each entry in address order until it returns false. The kernel formats the
// lines only as they are read (seq_file), so a caller that needs the VMAs
// below some address stops there instead of paying for every line (about
// 0.7 us each; a process under the seccomp supervisor gains one per seal).
// false with errno set when the file cannot be opened or read; `bytes`, when
// given, gets what was read.
bool scan_maps_file(const char* path, const std::function<bool(const MapsEntry&)>& fn, std::size_t* bytes = nullptr);

// Reads a whole /proc file (whose size stat() cannot tell) with read(2).
// nullopt with errno set on failure. Bounded by max_bytes.
std::optional<std::string> read_proc_file(const char* path, std::size_t max_bytes = std::size_t{1} << 30);

}  // namespace sealkit::core
