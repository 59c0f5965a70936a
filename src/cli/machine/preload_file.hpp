// /etc/ld.so.preload as glibc's ld.so reads it (elf/rtld.c, dl_main): names
// separated by spaces, tabs, newlines or ':', and '#' starting a comment that
// runs to the end of its line ('#' inside a name ends the name too; a '\r' is
// part of a name) -- but only for the '#'s ld.so's comment loop reaches: it
// looks for each next '#' within a length that shrinks with the offset of
// every '#' it found, so a late comment's words are names ("# a\n# b\n"
// preloads "b"), and how far it reaches depends on the file's length.
// Everything here reads the file that way (preload_file.cpp), and
// tests/cli/preload_file_test.cpp checks it against ld.so itself.
// `sealkit enable` adds the line the install ships, `sealkit disable` takes
// sealkit's entries out again; every other byte of the file stays as it was.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sealkit::cli::machine {

inline constexpr const char* kPreloadFile = "/etc/ld.so.preload";
inline constexpr std::string_view kPreloadObject = "libsealkit-preload.so";

// The names ld.so preloads from `text`, in order.
std::vector<std::string> preload_names(std::string_view text);

// Whether `name` is sealkit's preload object: its last path component is
// libsealkit-preload.so (the bare name the /usr install ships, the $LIB path
// another prefix ships, or any path an administrator wrote by hand).
bool is_sealkit_entry(std::string_view name);

// Whether `text` preloads any sealkit entry.
bool names_sealkit(std::string_view text);

// `text` with `line` (one name and a newline) appended, after a newline when
// `text` does not end with one; `text` itself when ld.so already preloads
// `line`'s name from it.
std::string with_line(std::string_view text, std::string_view line);

// `text` without sealkit's entries: a line that names only sealkit entries
// goes whole (its newline and a comment on it too); from a line that also
// names other objects only the sealkit names go, each with the separators
// before it (after it, at the start of the line). Everything else, comments,
// blank lines and spacing included, stays byte for byte.
std::string without_sealkit(std::string_view text);

// The names `after` preloads that `before` does not, `allowed` apart: what an
// edit would newly make ld.so load. A change of the file's length can turn a
// comment's words into names (above); enable and disable refuse such an edit.
std::vector<std::string> new_names(std::string_view before, std::string_view after, std::string_view allowed = {});

// /etc/ld.so.preload, read without following a link (a link there is
// refused: sealkit replaces the file it edits). `exists` false when there is
// none. False with `error` saying what is wrong and what to do.
struct PreloadFile {
  bool exists = false;
  std::string text;
};
bool read_preload_file(const std::string& path, PreloadFile& out, std::string& error);

// A diff of the file from `before` to `after` (unified style, whole file as
// context: ld.so.preload is a few lines), each line through visible_text.
// `before_exists`/`after_exists` false: the file is absent on that side.
std::string describe_change(const std::string& path, bool before_exists, std::string_view before, bool after_exists,
                            std::string_view after);

}  // namespace sealkit::cli::machine
