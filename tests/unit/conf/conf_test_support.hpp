// Helpers for the conf tests: a unique temporary directory per test, and loading text into
// the list of error lines that a user would see.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf::test {

// A fresh directory under $TMPDIR, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "pgr-conf-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] std::string path() const { return path_.string(); }
  [[nodiscard]] std::string path(std::string_view name) const { return (path_ / name).string(); }

  // Writes `content` to `name` (parent directories created) and returns the full path.
  std::string write(std::string_view name, std::string_view content) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// The smallest valid config: one backend.
inline constexpr std::string_view k_minimal = "[[backends]]\nhost = \"127.0.0.1\"\n";

inline std::vector<std::string> error_lines(const LoadResult& result) {
  std::vector<std::string> out;
  for (const auto& error : result.errors) out.push_back(error.to_string());
  return out;
}

// Loads `text` as "t.toml" (base dir `base_dir`) and returns the errors as the user sees them.
inline std::vector<std::string> errors_of(std::string_view text, const std::string& base_dir = "") {
  const auto result = load_config_text(text, "t.toml", base_dir);
  EXPECT_EQ(result.config == nullptr, !result.errors.empty());
  return error_lines(result);
}

}  // namespace pgr::conf::test
