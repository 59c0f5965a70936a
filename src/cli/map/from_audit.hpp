// From the audit's classification of a live process (audit/vma_class.hpp) to
// the bands that `sealkit map` draws: one band per ELF object (its VMAs are
// its text, rodata, RELRO, data, bss and gap parts), one per other mapping.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "cli/map/model.hpp"
#include "audit/process_audit.hpp"

namespace sealkit::cli::map {

// The picture of an audit whose status is ok. `command` is the process's
// command line as shown in the header.
Picture picture_from_audit(const audit::ProcessAudit& audit, std::string command);

// Reads and classifies `pid`. On failure nullopt, and `error` says what
// happened and what to do (no such process, permission denied, ...).
std::optional<Picture> picture_of_process(pid_t pid, std::string& error);

}  // namespace sealkit::cli::map
