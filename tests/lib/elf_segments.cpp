#include "lib/elf_segments.hpp"

#include "lib/support.hpp"

namespace sealkit::test {

namespace {

int collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<ElfObject>*>(data);
  const std::uintptr_t ps = page();
  ElfObject obj;
  obj.name = info->dlpi_name ? info->dlpi_name : "";
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if ((ph.p_type != PT_LOAD && ph.p_type != PT_GNU_RELRO) || ph.p_memsz == 0) continue;
    const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    ElfSegment s{begin & ~(ps - 1), (begin + ph.p_memsz + ps - 1) & ~(ps - 1), ph.p_type, ph.p_flags};
    (ph.p_type == PT_LOAD ? obj.loads : obj.relro).push_back(s);
  }
  out->push_back(std::move(obj));
  return 0;
}

}  // namespace

std::vector<ElfObject> elf_objects() {
  std::vector<ElfObject> out;
  dl_iterate_phdr(collect, &out);
  return out;
}

const ElfObject* find_object(const std::vector<ElfObject>& objs, const std::string& needle) {
  for (const ElfObject& o : objs) {
    if (needle.empty() ? o.name.empty() : o.name.find(needle) != std::string::npos) return &o;
  }
  return nullptr;
}

}  // namespace sealkit::test
