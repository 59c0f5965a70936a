// Building, freezing and using the dispatch table.
#include "service.hpp"

namespace sealkit::examples {

const DispatchEntry* DispatchTable::find(std::string_view command) const noexcept {
  for (std::size_t i = 0; i < count; ++i)
    if (view(entries[i].name) == command) return &entries[i];
  return nullptr;
}

std::optional<Tables> build_tables(WriteOnceArena& arena, std::string_view config_text, std::string& error) {
  auto parsed = parse_config(config_text, error);
  if (!parsed) return std::nullopt;
  Config* config = arena.make<Config>(*parsed);
  DispatchTable* table = arena.make<DispatchTable>();
  if (!config || !table) {
    error = "the start-up arena is too small";
    return std::nullopt;
  }
  register_commands(*table);
  // A typo in allowed_commands should stop the service, not silently disable a command.
  for (std::size_t i = 0; i < config->allowed_count; ++i) {
    if (!table->find(view(config->allowed[i]))) {
      error = "allowed_commands: unknown command '" + std::string(view(config->allowed[i])) + "'";
      return std::nullopt;
    }
  }
  return Tables{config, table};
}

std::optional<Tables> start_up(std::string_view config_text, std::string& error) {
  auto arena = WriteOnceArena::create(kArenaBytes);
  if (!arena) {
    error = "cannot map the start-up arena: " + arena.error().message();
    return std::nullopt;
  }
  auto tables = build_tables(*arena, config_text, error);
  if (!tables) return std::nullopt;
  // From here on the tables are read-only and sealed: no mprotect, munmap,
  // mremap, mmap(MAP_FIXED) or madvise(MADV_DONTNEED) can change them. If the
  // kernel cannot seal, refuse to run rather than run unprotected.
  if (auto frozen = arena->freeze(); !frozen) {
    error = "cannot seal the configuration and dispatch table: " + frozen.error().message();
    return std::nullopt;
  }
  return tables;  // the arena object goes, its sealed memory stays
}

std::string dispatch(std::string_view line, const Tables& tables, ServiceState& state) {
  ++state.requests;
  const std::size_t space = line.find(' ');
  const std::string_view command = line.substr(0, space);
  const std::string_view args = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  const DispatchEntry* entry = tables.table->find(command);
  if (!entry) return "ERR unknown command";
  if (!tables.config->allows(command)) return "ERR not allowed: " + std::string(command);
  return entry->handler(args, *tables.config, state);
}

}  // namespace sealkit::examples
