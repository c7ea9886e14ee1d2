// Files a config names (auth_file, auth_password_file, password_file): relative paths resolve
// against the config file's directory, contents are read and trimmed, and a file that cannot
// be read is an error on the key's line naming the path and the OS error.
#include <gtest/gtest.h>

#include "conf/config.hpp"
#include "conf_test_support.hpp"

namespace pgr::conf {
namespace {

using test::k_minimal;
using test::TempDir;

TEST(ConfigPaths, RelativeToConfigFileDirectory) {
  const TempDir dir;
  dir.write("etc/secrets/users.txt", "\"alice\" \"a-secret\"\n");
  dir.write("etc/secrets/auth_pw", "auth-pw\r\n\n");
  dir.write("etc/probe_pw", "probe-pw\n");
  const auto path = dir.write("etc/pgrouter.toml",
                              "[auth]\n"
                              "auth_file = \"secrets/users.txt\"\n"
                              "auth_user = \"pgrouter\"\n"
                              "auth_password_file = \"./secrets/auth_pw\"\n"
                              "[health_check]\n"
                              "password_file = \"" +
                                  dir.path("etc/probe_pw") + "\"\n" + std::string(k_minimal));
  const auto result = load_config_file(path);
  ASSERT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
  const auto& auth = result.config->auth;
  EXPECT_EQ(auth.auth_file, dir.path("etc/secrets/users.txt"));
  EXPECT_EQ(auth.users.at("alice"), "a-secret");
  EXPECT_EQ(auth.auth_password, "auth-pw");  // trailing CR/LF trimmed
  EXPECT_EQ(result.config->health_check.password, "probe-pw");
}

TEST(ConfigPaths, TextLoadUsesGivenBaseDir) {
  const TempDir dir;
  dir.write("users.txt", "\"u\" \"p\"\n");
  const auto text = "[auth]\nauth_file = \"users.txt\"\n" + std::string(k_minimal);
  const auto result = load_config_text(text, "inline", dir.path());
  ASSERT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
  EXPECT_EQ(result.config->auth.auth_file, dir.path("users.txt"));
  EXPECT_EQ(result.config->auth.users.size(), 1U);
}

TEST(ConfigPaths, MissingFilesAreErrorsOnTheirKeyLines) {
  const TempDir dir;
  const auto path = dir.write("c.toml",
                              "[auth]\n"
                              "auth_file = \"nope/users.txt\"\n"
                              "auth_user = \"u\"\n"
                              "auth_password_file = \"pw\"\n"
                              "[health_check]\n"
                              "password_file = \"" +
                                  dir.path() + "\"\n" + std::string(k_minimal));
  const std::vector<std::string> expected{
      path + ":2: auth.auth_file: cannot read \"" + dir.path("nope/users.txt") +
          "\": No such file or directory",
      path + ":4: auth.auth_password_file: cannot read \"" + dir.path("pw") +
          "\": No such file or directory",
      path + ":6: health_check.password_file: cannot read \"" + dir.path() + "\": Is a directory",
  };
  EXPECT_EQ(test::error_lines(load_config_file(path)), expected);
}

TEST(ConfigPaths, AuthFileErrorsNameThatFileAndSitAtTheKey) {
  const TempDir dir;
  const auto users = dir.write("users.txt", "\"ok\" \"x\"\n\nbad line\n\"a\" \"b\" c\n");
  const auto path = dir.write("c.toml",
                              "[proxy]\n"
                              "workers = 0\n"
                              "[auth]\n"
                              "auth_file = \"users.txt\"\n"
                              "method = \"none\"\n" +
                                  std::string(k_minimal));
  const std::vector<std::string> expected{
      path + ":2: proxy.workers: must be between 1 and 256 (got 0)",
      users + ":3: auth_file: expected \"user\" \"secret\"",
      users + ":4: auth_file: unexpected text after \"user\" \"secret\"",
      path +
          ":5: auth.method: unknown value \"none\"; expected one of: trust, md5, "
          "scram-sha-256",
  };
  EXPECT_EQ(test::error_lines(load_config_file(path)), expected);
}

TEST(ConfigPaths, EmptySecretFileIsAnError) {
  const TempDir dir;
  dir.write("pw", "\n");
  const auto text = "[health_check]\npassword_file = \"pw\"\n" + std::string(k_minimal);
  EXPECT_EQ(test::errors_of(text, dir.path()),
            std::vector<std::string>{"t.toml:2: health_check.password_file: \"" + dir.path("pw") +
                                     "\" is empty"});
}

}  // namespace
}  // namespace pgr::conf
