// Note::set, apart from child.cpp so that the snapshot's tests can link it
// without the whole child machinery.
#include <cstdarg>
#include <cstdio>

#include "cli/selftest/child.hpp"

namespace sealkit::cli::selftest {

void Note::set(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
}

}  // namespace sealkit::cli::selftest
