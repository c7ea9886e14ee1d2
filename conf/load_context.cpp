// Error collection, path resolution and file reading for one config load (load_context.hpp).
#include "conf/load_context.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <system_error>

namespace pgr::conf::detail {

namespace {

// Files a config names are small; the cap keeps "/dev/zero" or a wrong path from eating memory.
constexpr std::size_t k_max_file_size = 64U << 20;

std::string os_error(int error_number) {
  // std::error_code gives strerror's text without strerror's shared buffer.
  return std::error_code(error_number, std::generic_category()).message();
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

// Why `fd` is not worth reading, or empty. Only regular files: O_NONBLOCK let a FIFO open
// without a writer, and refusing it here keeps a load from blocking on it.
std::string check_regular(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error(errno);
  if (S_ISDIR(st.st_mode)) return os_error(EISDIR);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (static_cast<std::uint64_t>(st.st_size) > k_max_file_size) return "larger than 64MiB";
  return {};
}

}  // namespace

FileText read_text_file(const std::string& path) {
  FileText out;
  if (path.find('\0') != std::string::npos) {
    out.error = "the path contains a NUL character";
    return out;
  }
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    out.error = os_error(errno);
    return out;
  }
  if (out.error = check_regular(fd.get()); !out.error.empty()) return out;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      out.error = os_error(errno);
      out.text.clear();
      return out;
    }
    out.text.append(buffer, static_cast<std::size_t>(n));
    // A file that grows while read (or a /proc file whose size says 0) is still capped.
    if (out.text.size() > k_max_file_size) {
      out.error = "larger than 64MiB";
      out.text.clear();
      return out;
    }
  }
  out.ok = true;
  return out;
}

std::string quote_value(std::string_view value, std::size_t max_bytes) {
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char k_hex[] = "0123456789abcdef";
      out += "\\x";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > max_bytes) out += "...";
  out += '"';
  return out;
}

std::string display_key(std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(key) : quote_value(key);
}

LoadContext::LoadContext(std::string file, std::string base_dir)
    : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

std::string LoadContext::resolve_path(const std::string& path) const {
  const std::filesystem::path p(path);
  if (p.is_absolute() || base_dir_.empty()) return path;
  return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
}

void LoadContext::add(int line, std::string key, std::string problem) {
  entries_.push_back({line, ConfigError{file_, line, std::move(key), std::move(problem)}});
}

void LoadContext::add_foreign(int anchor_line, ConfigError error) {
  entries_.push_back({anchor_line, std::move(error)});
}

bool LoadContext::has_error_at(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& entry) {
    const std::string_view other = entry.error.key;
    return other.starts_with(key) &&
           (other.size() == key.size() || other[key.size()] == '[');
  });
}

std::vector<ConfigError> LoadContext::take_sorted_errors() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.anchor_line < b.anchor_line; });
  std::vector<ConfigError> out;
  out.reserve(entries_.size());
  for (auto& entry : entries_) out.push_back(std::move(entry.error));
  entries_.clear();
  return out;
}

}  // namespace pgr::conf::detail
