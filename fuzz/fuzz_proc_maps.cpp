// libFuzzer target for the /proc/PID/maps and smaps parser (src/core/proc_maps.hpp).
//
// Beyond "no crash, no sanitizer report", every input is checked against what
// the parser promises, computed here independently of its code:
// - a parsed line has begin <= end, and its path is the rest of the line: a
//   view into the input, ending where the line ends, never starting with ' ';
// - a parsed line, printed back in the kernel's format and parsed again,
//   gives the same entry (nothing is silently lost or invented);
// - for_each_maps_entry reports exactly the non-empty lines that
//   parse_maps_line accepts, in order, and counts the others as bad;
// - for_each_smaps_entry reports one entry per such header line, in order;
//   an entry is sealed exactly when the last "VmFlags:" line under its header
//   holds the word "sl" (and sealed implies has_vmflags);
// - a callback that returns false stops either walk right there.
// A broken promise aborts with a message, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/proc_maps.hpp"

namespace {

using sealkit::core::MapsEntry;
using sealkit::core::parse_maps_line;
using sealkit::core::SmapsEntry;

void require(bool ok, const char* promise) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_proc_maps: broken promise: %s\n", promise);
  std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  const auto p = reinterpret_cast<std::uintptr_t>(part.data());
  const auto w = reinterpret_cast<std::uintptr_t>(whole.data());
  return p >= w && p + part.size() <= w + whole.size();
}

bool same_entry(const MapsEntry& a, const MapsEntry& b) {
  return a.range == b.range && a.read == b.read && a.write == b.write && a.exec == b.exec && a.shared == b.shared &&
         a.offset == b.offset && a.dev_major == b.dev_major && a.dev_minor == b.dev_minor && a.inode == b.inode &&
         a.path == b.path;
}

// The entry in the kernel's own format (show_map_vma), path after one space.
std::string print_entry(const MapsEntry& e) {
  char head[160];
  std::snprintf(head, sizeof head, "%llx-%llx %c%c%c%c %08llx %02x:%02x %llu",
                static_cast<unsigned long long>(e.range.begin), static_cast<unsigned long long>(e.range.end),
                e.read ? 'r' : '-', e.write ? 'w' : '-', e.exec ? 'x' : '-', e.shared ? 's' : 'p',
                static_cast<unsigned long long>(e.offset), e.dev_major, e.dev_minor,
                static_cast<unsigned long long>(e.inode));
  std::string line = head;
  if (!e.path.empty()) line.append(" ").append(e.path);
  return line;
}

std::optional<MapsEntry> check_line(std::string_view line) {
  auto e = parse_maps_line(line);
  if (!e) return e;
  require(e->range.begin <= e->range.end, "a parsed entry has begin <= end");
  require(inside(e->path, line), "the path is a view into the parsed line");
  require(e->path.data() + e->path.size() == line.data() + line.size(), "the path runs to the end of the line");
  require(e->path.empty() || e->path.front() != ' ', "the path does not start with a space");
  const std::string printed = print_entry(*e);
  auto again = parse_maps_line(printed);
  require(again.has_value(), "a parsed entry printed in the kernel's format parses again");
  require(same_entry(*e, *again), "a parsed entry printed and parsed again is the same entry");
  return e;
}

// The non-empty lines of a text, split at '\n' (the last may lack one).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool has_word(std::string_view words, std::string_view want) {
  while (!words.empty()) {
    auto sp = words.find(' ');
    if (words.substr(0, sp) == want) return true;
    words.remove_prefix(sp == std::string_view::npos ? words.size() : sp + 1);
  }
  return false;
}

struct Expected {
  std::vector<MapsEntry> entries;  // every line that parses, in order
  std::vector<bool> sealed;        // per entry: the last VmFlags line under it holds "sl"
  std::size_t lines = 0;           // non-empty lines
};

Expected expect(std::string_view text) {
  Expected x;
  std::vector<std::string_view> lines = lines_of(text);
  x.lines = lines.size();
  constexpr std::string_view kVmFlags = "VmFlags:";
  for (std::string_view line : lines) {
    if (auto e = check_line(line)) {
      x.entries.push_back(*e);
      x.sealed.push_back(false);
    } else if (!x.entries.empty() && line.substr(0, kVmFlags.size()) == kVmFlags) {
      x.sealed.back() = has_word(line.substr(kVmFlags.size()), "sl");
    }
  }
  return x;
}

void check_maps_walk(std::string_view text, const Expected& x, std::size_t stop_after) {
  std::size_t seen = 0;
  auto st = sealkit::core::for_each_maps_entry(text, [&](const MapsEntry& e) {
    require(seen < x.entries.size(), "maps: no more entries than parsable lines");
    require(same_entry(e, x.entries[seen]), "maps: entries come in order, as parse_maps_line reads them");
    require(inside(e.path, text), "maps: the path is a view into the input");
    ++seen;
    return seen != stop_after;
  });
  require(st.entries == seen, "maps: entries counted = entries reported");
  if (stop_after == 0 || stop_after > x.entries.size()) {
    require(seen == x.entries.size(), "maps: every parsable line is reported");
    require(st.bad_lines == x.lines - x.entries.size(), "maps: every other non-empty line is a bad line");
  } else {
    require(seen == stop_after, "maps: the walk stops when the callback says so");
  }
}

void check_smaps_walk(std::string_view text, const Expected& x, std::size_t stop_after) {
  std::size_t seen = 0;
  auto st = sealkit::core::for_each_smaps_entry(text, [&](const SmapsEntry& e) {
    require(seen < x.entries.size(), "smaps: no more entries than header lines");
    require(same_entry(e.map, x.entries[seen]), "smaps: entries come in order, as parse_maps_line reads them");
    require(inside(e.map.path, text), "smaps: the path is a view into the input");
    require(!e.sealed || e.has_vmflags, "smaps: sealed implies a VmFlags line was seen");
    require(e.sealed == x.sealed[seen], "smaps: sealed exactly when the last VmFlags line holds \"sl\"");
    ++seen;
    return seen != stop_after;
  });
  require(st.entries == seen, "smaps: entries counted = entries reported");
  require(st.entries + st.bad_lines <= x.lines, "smaps: entries + bad lines <= non-empty lines");
  if (stop_after == 0 || stop_after > x.entries.size())
    require(seen == x.entries.size(), "smaps: every header line is reported");
  else
    require(seen == stop_after, "smaps: the walk stops when the callback says so");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_line(text);  // the whole input as one line, newlines and all
  const Expected x = expect(text);
  // The walks run to the end, and once more stopping early at an entry the
  // input chooses (its first byte), so early stops are fuzzed too.
  const std::size_t stop_after = size == 0 ? 0 : 1 + data[0] % 4;
  check_maps_walk(text, x, 0);
  check_maps_walk(text, x, stop_after);
  check_smaps_walk(text, x, 0);
  check_smaps_walk(text, x, stop_after);
  return 0;
}
