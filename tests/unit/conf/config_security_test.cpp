// The security keys: [tls] (modes, PEM files read at load, rules between keys), auth.hba_file
// (its errors name the hba file and line), *_env secrets, and the connection limits.
#include <gtest/gtest.h>

#include <cstdlib>

#include "conf/config.hpp"
#include "conf_test_support.hpp"

namespace pgr::conf {
namespace {

using test::errors_of;
using test::k_minimal;
using test::TempDir;

constexpr std::string_view k_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TEST(ConfigTls, DefaultsAreOff) {
  const auto result = load_config_text(k_minimal, "t.toml", "");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->tls.client_mode, ClientTlsMode::disable);
  EXPECT_EQ(result.config->tls.server_mode, ServerTlsMode::disable);
  EXPECT_EQ(result.config->tls.min_protocol, TlsVersion::tls1_2);
  EXPECT_EQ(result.config->health_check.tls.sslmode, "disable");
  EXPECT_EQ(result.config->proxy.max_pending_logins, 0);
}

TEST(ConfigTls, FilesAreReadAndModesParsed) {
  const TempDir dir;
  dir.write("server.crt", k_pem);
  dir.write("server.key", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");
  dir.write("ca.crt", k_pem);
  const auto result = load_config_text(
      "[tls]\nclient_mode = \"require\"\nclient_cert = \"verify-full\"\ncert_file = \"server.crt\"\n"
      "key_file = \"server.key\"\nca_file = \"ca.crt\"\nmin_protocol = \"TLSv1.3\"\n"
      "server_mode = \"verify-full\"\nserver_ca_file = \"ca.crt\"\n\n" + std::string(k_minimal),
      "t.toml", dir.path());
  ASSERT_TRUE(result.config) << ::testing::PrintToString(test::error_lines(result));
  const auto& tls = result.config->tls;
  EXPECT_EQ(tls.client_mode, ClientTlsMode::require);
  EXPECT_EQ(tls.client_cert, ClientCertMode::verify_full);
  EXPECT_EQ(tls.cert_file->path, dir.path("server.crt"));
  EXPECT_EQ(tls.cert_file->content, k_pem);
  EXPECT_EQ(tls.min_protocol, TlsVersion::tls1_3);
  const auto& libpq = result.config->health_check.tls;
  EXPECT_EQ(libpq.sslmode, "verify-full");
  EXPECT_EQ(libpq.min_protocol, "TLSv1.3");
  EXPECT_EQ(libpq.sslrootcert, dir.path("ca.crt"));
}

TEST(ConfigTls, ErrorsNameTheKey) {
  const TempDir dir;
  dir.write("not.pem", "hello\n");
  EXPECT_EQ(errors_of("[tls]\nclient_mode = \"allow\"\n\n" + std::string(k_minimal)),
            (std::vector<std::string>{"t.toml:2: tls.cert_file: required when client_mode is not disable",
                                      "t.toml:2: tls.key_file: required when client_mode is not disable"}));
  EXPECT_EQ(errors_of("[tls]\nclient_mode = \"on\"\n\n" + std::string(k_minimal)).size(), 1U);
  const auto missing = errors_of("[tls]\ncert_file = \"missing.crt\"\n\n" + std::string(k_minimal), dir.path());
  ASSERT_EQ(missing.size(), 1U);
  EXPECT_TRUE(missing[0].starts_with("t.toml:2: tls.cert_file: cannot read \"" + dir.path("missing.crt")))
      << missing[0];
  EXPECT_EQ(errors_of("[tls]\nca_file = \"not.pem\"\n\n" + std::string(k_minimal), dir.path()),
            std::vector<std::string>{"t.toml:2: tls.ca_file: \"" + dir.path("not.pem") +
                                     "\" is not a PEM file (no -----BEGIN line)"});
  EXPECT_EQ(errors_of("[tls]\nserver_mode = \"verify-ca\"\n\n" + std::string(k_minimal)),
            std::vector<std::string>{
                "t.toml:2: tls.server_ca_file: required when server_mode is verify-ca or verify-full"});
  EXPECT_EQ(errors_of("[tls]\nclient_cert = \"verify-ca\"\n\n" + std::string(k_minimal)),
            std::vector<std::string>{
                "t.toml:2: tls.ca_file: required when client_cert is verify-ca or verify-full"});
}

TEST(ConfigHba, ErrorsNameTheHbaFileAndLine) {
  const TempDir dir;
  const auto hba = dir.write("hba.conf", "host all all 127.0.0.1/32 md5\nhost all all all ident\n");
  EXPECT_EQ(errors_of("[auth]\nhba_file = \"hba.conf\"\n\n" + std::string(k_minimal), dir.path()),
            std::vector<std::string>{hba + ":2: hba_file: unsupported authentication method \"ident\""});
  dir.write("good.conf", "hostssl all all all scram-sha-256\n");
  const auto result =
      load_config_text("[auth]\nhba_file = \"good.conf\"\n\n" + std::string(k_minimal), "t.toml", dir.path());
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->auth.hba.size(), 1U);
  EXPECT_EQ(result.config->auth.hba_file, dir.path("good.conf"));
}

TEST(ConfigSecrets, FromTheEnvironment) {
  ::setenv("PGR_TEST_SECRET", "s3cr3t-value", 1);
  ::unsetenv("PGR_TEST_UNSET");
  const auto result = load_config_text(
      "[health_check]\npassword_env = \"PGR_TEST_SECRET\"\n\n" + std::string(k_minimal), "t.toml", "");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->health_check.password, "s3cr3t-value");
  EXPECT_EQ(errors_of("[failover]\npassword_env = \"PGR_TEST_UNSET\"\n\n" + std::string(k_minimal)),
            std::vector<std::string>{"t.toml:2: failover.password_env: environment variable PGR_TEST_UNSET is "
                                     "not set or empty"});
  EXPECT_EQ(errors_of("[failover]\npassword_env = \"1BAD-NAME\"\n\n" + std::string(k_minimal)),
            std::vector<std::string>{"t.toml:2: failover.password_env: not an environment variable name: "
                                     "\"1BAD-NAME\""});
  const auto both = errors_of("[health_check]\npassword = \"x\"\npassword_env = \"PGR_TEST_SECRET\"\n\n" +
                              std::string(k_minimal));
  ASSERT_EQ(both.size(), 1U);
  EXPECT_NE(both[0].find("health_check.password_env"), std::string::npos) << both[0];
  for (const auto& line : both) EXPECT_EQ(line.find("s3cr3t"), std::string::npos);
  const auto needs_user = errors_of("[auth]\nauth_password_env = \"PGR_TEST_SECRET\"\n\n" + std::string(k_minimal));
  ASSERT_EQ(needs_user.size(), 1U);
  EXPECT_NE(needs_user[0].find("needs auth.auth_user"), std::string::npos) << needs_user[0];
}

TEST(ConfigLimits, PerUserDatabaseAndPendingLogins) {
  const auto result = load_config_text(
      "[proxy]\nmax_user_connections = 5\nmax_db_connections = 7\nmax_pending_logins = 100\n\n" +
          std::string(k_minimal),
      "t.toml", "");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->proxy.max_user_connections, 5);
  EXPECT_EQ(result.config->proxy.max_db_connections, 7);
  EXPECT_EQ(result.config->proxy.max_pending_logins, 100);
  EXPECT_EQ(errors_of("[proxy]\nmax_pending_logins = -1\n\n" + std::string(k_minimal)).size(), 1U);
}

}  // namespace
}  // namespace pgr::conf
