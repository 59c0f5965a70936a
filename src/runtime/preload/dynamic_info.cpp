#include "runtime/preload/dynamic_info.hpp"

#include <elf.h>

#include "runtime/native_elf.hpp"

namespace sealkit::rt::preload {

DynamicInfo read_dynamic(std::uintptr_t bias, std::uintptr_t dynamic, const ReadableRanges& readable) {
  DynamicInfo info;
  if (dynamic == 0 || dynamic % alignof(NativeDyn) != 0) return info;
  const std::size_t max_entries = readable.room(dynamic) / sizeof(NativeDyn);
  if (max_entries == 0) return info;
  const auto* d = reinterpret_cast<const NativeDyn*>(dynamic);
  std::uintptr_t strtab = 0;
  std::uint64_t strsz = 0;
  std::uint64_t soname_off = ~std::uint64_t{0};
  std::uint64_t needed_off[DynamicInfo::kMaxNeeded];
  std::size_t nneeded = 0;
  for (std::size_t i = 0; i < max_entries && d[i].d_tag != DT_NULL; ++i) {
    switch (d[i].d_tag) {
      case DT_STRTAB: strtab = d[i].d_un.d_ptr; break;
      case DT_STRSZ: strsz = d[i].d_un.d_val; break;
      case DT_SONAME: soname_off = d[i].d_un.d_val; break;
      case DT_NEEDED:
        if (nneeded < DynamicInfo::kMaxNeeded) needed_off[nneeded++] = d[i].d_un.d_val;
        break;
      case DT_FLAGS_1: info.nodelete = (d[i].d_un.d_val & DF_1_NODELETE) != 0; break;
      case DT_TEXTREL: info.textrel = true; break;
      case DT_FLAGS: info.textrel = info.textrel || (d[i].d_un.d_val & DF_TEXTREL) != 0; break;
      default: break;
    }
  }
  // x86_64's ld.so relocates the address entries of a writable dynamic
  // section in place (after loading); other ports leave link-time addresses.
  if (strtab == 0 || strsz == 0) return info;
  if (!readable.contains(strtab, strsz)) strtab += bias;
  if (!readable.contains(strtab, strsz)) return info;
  const char* strings = reinterpret_cast<const char*>(strtab);
  auto str_at = [&](std::uint64_t off) -> std::string_view {
    if (off >= strsz) return {};
    std::size_t n = 0;
    while (off + n < strsz && strings[off + n] != '\0') ++n;
    return {strings + off, n};
  };
  if (soname_off != ~std::uint64_t{0}) info.soname = str_at(soname_off);
  for (std::size_t i = 0; i < nneeded; ++i) {
    std::string_view s = str_at(needed_off[i]);
    if (!s.empty()) info.needed[info.nneeded++] = s;
  }
  return info;
}

bool needed_names(std::string_view needed, std::string_view path, std::string_view soname) {
  if (needed.empty()) return false;
  if (!soname.empty() && needed == soname) return true;
  if (needed == path) return true;
  if (needed.find('/') != std::string_view::npos) return false;
  std::size_t slash = path.rfind('/');
  return slash != std::string_view::npos &&
         std::string_view(path.data() + slash + 1, path.size() - slash - 1) == needed;
}

}  // namespace sealkit::rt::preload
