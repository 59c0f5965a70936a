#include "runtime/sealer.hpp"

#include <string_view>

#include "core/seal_plan.hpp"
#include "runtime/elf_image.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

void seal_run(core::Range r, SealStats& st) {
  ++st.mseal_calls;
  long rc = sys::mseal(r.begin, r.size());
  if (rc != 0) {
    ++st.mseal_failures;
    if (st.first_error == 0) st.first_error = rc;
  }
}

bool seal_image(const MapsSnapshot& maps, const ElfImage& img, SealStats& st) {
  const std::size_t failures_before = st.mseal_failures;
  core::plan_object_seal(img.segments, img.nseg, img.keep_mutable, img.nmut, maps,
                         [&](core::Range r) { seal_run(r, st); });
  return st.mseal_failures == failures_before;
}

bool is_system_mapping(std::string_view p) {
  return p == "[vdso]" || p == "[vvar]" || p == "[vvar_vclock]";
}

}  // namespace

void seal_startup(const LoadedRef* objects, std::size_t n, std::uintptr_t self_ehdr, std::size_t page_size,
                  SealStats& st) {
  (void)page_size;
  const std::uint64_t t0 = sys::monotonic_ns();
  MapsSnapshot maps;
  if (!maps.load()) {
    st.mseal_failures = 1;
    st.first_error = -5;  // EIO: /proc/self/maps unreadable, nothing sealed
    return;
  }
  st.maps_bad_lines = maps.bad_lines();

  for (std::size_t i = 0; i < n; ++i) {
    ++st.objects_seen;
    ElfImage img;
    if (read_loaded_image(maps, objects[i].bias, objects[i].dynamic, img) != ImageError::kNone) {
      ++st.objects_skipped;
      continue;
    }
    if (seal_image(maps, img, st)) ++st.objects_sealed;
  }

  // The runtime itself lives in the audit namespace, which ld.so does not
  // report to its own auditor.
  ++st.objects_seen;
  ElfImage self;
  if (read_image_at(maps, self_ehdr, self_ehdr, self) == ImageError::kNone && seal_image(maps, self, st))
    ++st.objects_sealed;
  else
    ++st.objects_skipped;

  for (const core::MapsEntry& m : maps) {
    if (is_system_mapping(m.path)) {
      seal_run(m.range, st);
      ++st.system_mappings_sealed;
    } else if (m.path == "[stack]") {
      // Growth of a sealed stack still works (the kernel extends the VMA).
      const std::size_t before = st.mseal_failures;
      seal_run(m.range, st);
      st.stack_sealed = st.mseal_failures == before;
    }
  }
  st.elapsed_ns = sys::monotonic_ns() - t0;
}

}  // namespace sealkit::rt
