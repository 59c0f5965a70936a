// A fast reading of /proc/PID/smaps for scans of a whole machine: only each
// entry's maps line and whether its VmFlags holds "sl" (sealed).
//
// `sealkit audit --all` parses ~60 MB of smaps text on a machine with 2000
// processes; core::for_each_smaps_entry reads every field line, which costs
// more than a tenth of the whole audit (bench/audit). This reader relies on
// the kernel's layout (fs/proc/task_mmu.c, show_smap): a maps line, field
// lines that all start with a capital letter, and VmFlags last. It checks
// exactly that, and reports failure on any other text; callers then fall
// back to core::for_each_smaps_entry, which reads anything.
#pragma once

#include <functional>
#include <string_view>

#include "core/maps_line.hpp"

namespace sealkit::audit {

// Calls fn(entry, sealed) for each entry in order. False when the text is
// not in the kernel's exact layout (some entries may already have been
// reported: discard them).
bool scan_smaps_fast(std::string_view text, const std::function<void(const core::MapsEntry&, bool sealed)>& fn);

}  // namespace sealkit::audit
