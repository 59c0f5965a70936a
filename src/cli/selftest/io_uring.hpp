// io_uring can issue madvise without the madvise system call
// (IORING_OP_MADVISE). Whether that path honours seals is a question the
// selftest answers on the running kernel, with raw io_uring system calls.
#pragma once

#include <string>

#include "cli/selftest/child.hpp"

namespace sealkit::cli::selftest {

// Sets up a ring and submits IORING_OP_MADVISE(t, MADV_DONTNEED); ok when
// the completion's result is 0, err is -result otherwise. setup_failed when
// io_uring itself is unavailable (disabled, filtered, too old).
CallOutcome io_uring_madvise_dontneed(const Target& t);

// The content of /proc/sys/kernel/io_uring_disabled ("0", "1", "2"), or a
// sentence saying why it is not known.
std::string io_uring_disabled_setting();

}  // namespace sealkit::cli::selftest
