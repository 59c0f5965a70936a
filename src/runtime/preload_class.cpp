// la_objsearch of the i386 audit module only: `sealkit run` names the preload
// object by its 64-bit path (no `$LIB`: every `$` token in LD_PRELOAD costs
// each process a readlink of /proc/self/exe, docs/benchmarks.md), and in a
// 32-bit process this turns that one name into the i386 object beside this
// module. ld.so asks every audit module before it opens a name
// (LA_SER_ORIG), preloads included; nothing else is rewritten. The 64-bit
// module has no la_objsearch, so ld.so never calls into it for searches.
#include <link.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

// "/<64-bit dir>/sealkit/libsealkit-preload.so" and its i386 counterpart
// (cmake/runtime_layout.cmake's directories).
constexpr char k64[] = "/" SEALKIT_RUNTIME_LIBDIR "/sealkit/libsealkit-preload.so";
constexpr char k32[] = "/" SEALKIT_RUNTIME_LIBDIR_I386 "/sealkit/libsealkit-preload.so";
constexpr std::size_t kMaxPath = 4096;
char g_name[kMaxPath];  // ld.so copies the name it is given before it asks again

bool ends_with_64_bit_preload(const char* name, std::size_t len) {
  const std::size_t tail = sizeof k64 - 1;
  return len >= tail && std::memcmp(name + len - tail, k64, tail) == 0;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) char* la_objsearch(const char* name, uintptr_t*,
                                                                      unsigned int flag) {
  if (flag != LA_SER_ORIG || name == nullptr) return const_cast<char*>(name);
  const std::size_t len = std::strlen(name);
  if (!ends_with_64_bit_preload(name, len)) return const_cast<char*>(name);
  const std::size_t root = len - (sizeof k64 - 1);
  if (root + sizeof k32 > kMaxPath) return const_cast<char*>(name);
  std::memcpy(g_name, name, root);
  std::memcpy(g_name + root, k32, sizeof k32);  // with its NUL
  return g_name;
}
