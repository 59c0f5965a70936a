#include "cli/machine/backup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/machine/preload_file.hpp"
#include "cli/safe_write.hpp"

namespace sealkit::cli::machine {

namespace {

const std::string kBefore = std::string(kStateDir) + "/ld.so.preload.before";
const std::string kAbsent = std::string(kStateDir) + "/ld.so.preload.absent";

bool remove_one(const std::string& path, std::string& error) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return true;
  error = "cannot remove " + path + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool read_backup(Backup& out, std::string& error) {
  out = {};
  struct stat st {};
  if (::lstat(kAbsent.c_str(), &st) == 0) {
    out.present = true;
    return true;
  }
  PreloadFile before;
  if (!read_preload_file(kBefore, before, error)) return false;
  out.present = out.existed = before.exists;
  out.text = std::move(before.text);
  return true;
}

bool write_backup(bool existed, const std::string& text, std::string& error) {
  if (::mkdir(kStateDir, 0755) != 0 && errno != EEXIST) {
    error = std::string("cannot create ") + kStateDir + ": " + std::strerror(errno);
    return false;
  }
  if (!remove_backup(error)) return false;
  return write_file_safely(existed ? kBefore : kAbsent, existed ? text : "", error, 0644);
}

bool remove_backup(std::string& error) { return remove_one(kBefore, error) && remove_one(kAbsent, error); }

}  // namespace sealkit::cli::machine
