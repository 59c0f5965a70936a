// A /proc file read whole into private anonymous memory (the runtime has no
// malloc). /proc files have no size in stat, so the buffer grows until a read
// returns 0. The text is a snapshot; callers never trust it to be well-formed.
#pragma once

#include <cstddef>
#include <string_view>

namespace sealkit::rt {

class ProcText {
 public:
  ProcText() = default;
  ProcText(const ProcText&) = delete;
  ProcText& operator=(const ProcText&) = delete;
  ~ProcText();

  // false when the file cannot be read or is larger than max_bytes.
  bool load(const char* path, std::size_t max_bytes = std::size_t{64} << 20);
  std::string_view text() const { return {buf_, len_}; }

 private:
  char* buf_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t len_ = 0;
};

}  // namespace sealkit::rt
