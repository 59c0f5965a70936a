// libFuzzer target for audit::scan_smaps_fast (src/audit/smaps_scan.hpp), the
// fast smaps reader of `sealkit audit`. Beyond "no crash, no sanitizer
// report" (it reads 16 bytes at a time near the end of the input), whenever
// it accepts a text, core::for_each_smaps_entry, the careful parser, must
// read the very same entries from it: same ranges, paths and seals, each
// with a VmFlags line. A difference aborts, which libFuzzer reports.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/proc_maps.hpp"
#include "audit/smaps_scan.hpp"

namespace {

struct Entry {
  sealkit::core::Range range;
  std::string path;
  bool sealed;
  bool operator==(const Entry&) const = default;
};

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_smaps_scan: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes on the heap, so that AddressSanitizer sees any read past the end.
  std::vector<char> bytes(data, data + size);
  const std::string_view text(bytes.data(), bytes.size());
  std::vector<Entry> fast;
  const bool accepted = sealkit::audit::scan_smaps_fast(text, [&](const sealkit::core::MapsEntry& m, bool sealed) {
    fast.push_back({m.range, std::string(m.path), sealed});
  });
  if (!accepted) return 0;
  std::vector<Entry> careful;
  bool all_have_flags = true;
  sealkit::core::for_each_smaps_entry(text, [&](const sealkit::core::SmapsEntry& e) {
    careful.push_back({e.map.range, std::string(e.map.path), e.sealed});
    all_have_flags = all_have_flags && e.has_vmflags;
    return true;
  });
  if (careful != fast) broken("accepted a text the careful parser reads differently");
  if (!all_have_flags) broken("accepted an entry without VmFlags");
  return 0;
}
