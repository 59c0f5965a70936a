// Where the installed sealkit's preload objects are, and whether the line the
// install ships reaches them, class by class (docs/runtime.md,
// "Machine-wide"). The line is <prefix>/share/sealkit/ld.so.preload, found
// from this binary (<prefix>/bin/sealkit), as `sealkit run` finds its objects:
//
// - for the prefix /usr it is the bare name libsealkit-preload.so: ld.so finds
//   it through its cache (`ldconfig -p`), and in secure execution only in its
//   trusted directories, where the install puts a link
//   <prefix>/<$LIB>/libsealkit-preload.so -> sealkit/libsealkit-preload.so, and
//   only when the file has the set-user-ID bit;
// - any other prefix ships <prefix>/$LIB/sealkit/libsealkit-preload.so, which
//   ld.so loads by its path, in secure execution too, with no bit and no cache.
//
// The 64-bit class is always covered; the 32-bit one when the machine has an
// i386 ld.so (/lib/ld-linux.so.2): every 32-bit program then reads the line too.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace sealkit::cli::machine {

struct ClassObject {
  std::string label;  // "64-bit", "32-bit"
  int elf_class = 0;  // ELFCLASS64, ELFCLASS32
  std::string object;  // <prefix>/<$LIB>/sealkit/libsealkit-preload.so
  std::string link;    // <prefix>/<$LIB>/libsealkit-preload.so for the bare name; empty for a $LIB line
};

struct Installation {
  std::string prefix;
  std::string line_file;  // <prefix>/share/sealkit/ld.so.preload
  std::string line;       // its one line, newline included
  std::string name;       // the name on it
  bool bare = false;      // the bare soname: the cache and the set-user-ID bit matter
  std::vector<ClassObject> classes;
  std::string without_32_bit;  // why the 32-bit class is not covered; empty when it is
};

// The installation this binary belongs to. False with `error` (not installed:
// run from a build tree; the shipped line missing or unexpected).
bool find_installation(Installation& out, std::string& error);

// One check of enable's (and status's): `ok`, what was checked, and either the
// fact found or what is wrong and what to do.
struct Check {
  bool ok = false;
  std::string what;
  std::string detail;
};

// The object of one class as the line reaches it: an ELF file of the class,
// its whole path root's and writable by nobody else, no link on the way (the
// runtime's own rule, runtime/trusted_file.hpp); for the bare name, the link
// in ld.so's trusted directory, root's, pointing at it.
std::vector<Check> check_object(const ClassObject& c);

// The object's owner and mode, from lstat; nullopt when it is missing.
struct ObjectMode {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
};
std::optional<ObjectMode> object_mode(const ClassObject& c);

// Sets (on) or clears the set-user-ID bit of the object, opened the trusted
// way. False with `error`.
bool set_setuid_bit(const ClassObject& c, bool on, std::string& error);

// What `ldconfig -p` resolves the bare name to, per class: the listed path
// whose file is the object, or empty when none is. False with `error` when
// ldconfig cannot be run.
bool cache_entries(const std::vector<ClassObject>& classes, std::vector<std::string>& resolved, std::string& error);

// Runs ldconfig (rebuilds /etc/ld.so.cache). False with `error`.
bool run_ldconfig(std::string& error);

}  // namespace sealkit::cli::machine
