// The state file on disk: atomic replacement (write a temporary file, fsync, rename, fsync the
// directory) and reading it back (see state_file.hpp). The only file I/O in failover/.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "failover/state_file.hpp"

namespace pgr::failover {
namespace {

FileError file_error(const std::string& path, const std::string& what, int error_number) {
  return FileError{path, what + ": " + std::strerror(error_number)};
}

// Closes a descriptor on every path out of a function.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;

  int get() const { return fd_; }
  // Closes now and reports close(2)'s error, which can be the first sign of a failed write.
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::optional<FileError> write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file_error(path, "write", errno);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return std::nullopt;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::optional<FileError> write_temporary(const std::string& tmp, std::string_view text) {
  Descriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return file_error(tmp, "open", errno);
  if (auto error = write_all(fd.get(), text, tmp)) return error;
  if (::fsync(fd.get()) != 0) return file_error(tmp, "fsync", errno);
  if (fd.close_now() != 0) return file_error(tmp, "close", errno);
  return std::nullopt;
}

}  // namespace

std::string FileError::to_string() const { return path + ": " + problem; }

std::optional<FileError> write_state_file_atomically(const std::string& path,
                                                     std::string_view text) {
  const std::string tmp = path + ".tmp";
  if (auto error = write_temporary(tmp, text)) {
    ::unlink(tmp.c_str());
    return error;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    return file_error(path, "rename from " + tmp, saved);
  }
  // The rename is durable only once the directory entry is on disk.
  const std::string dir = directory_of(path);
  Descriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return file_error(dir, "open directory", errno);
  if (::fsync(dir_fd.get()) != 0) return file_error(dir, "fsync directory", errno);
  return std::nullopt;
}

ReadFileResult read_state_file(const std::string& path) {
  ReadFileResult result;
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) result.missing = true;
    else result.error = file_error(path, "open", errno);
    return result;
  }
  std::string text;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.error = file_error(path, "read", errno);
      return result;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  result.text = std::move(text);
  return result;
}

LoadStateResult load_state_file(const std::string& path) {
  LoadStateResult result;
  auto file = read_state_file(path);
  result.missing = file.missing;
  if (file.error) result.error = file.error->to_string();
  if (!file.text) return result;
  auto parsed = parse_state(*file.text);
  if (parsed.error) result.error = path + ": " + parsed.error->to_string();
  result.state = std::move(parsed.state);
  return result;
}

}  // namespace pgr::failover
