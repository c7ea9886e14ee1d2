// Access decisions before authentication: client_mode = require, client certificates, hba
// rules, and PostgreSQL's wording for refusals.
#include "proxy/access_check.hpp"

#include <gtest/gtest.h>

#include "conf/hba.hpp"

namespace pgr::proxy {
namespace {

AccessFacts facts(std::string user, bool tls, std::string address = "127.0.0.1") {
  AccessFacts f;
  f.host = address;
  f.address = *conf::parse_hba_address(address);
  f.local_address = *conf::parse_hba_address("127.0.0.1");
  f.tls = tls;
  f.user = std::move(user);
  f.database = "app";
  return f;
}

std::string refusal(const conf::Config& config, const AccessFacts& f) {
  const auto result = check_access(config, f);
  const auto* err = std::get_if<SessionError>(&result);
  if (err == nullptr) return "(allowed)";
  return err->sqlstate + " " + err->message;
}

conf::Config with_hba(std::string_view text) {
  conf::Config c;
  c.auth.hba_file = "/hba.conf";
  auto parsed = conf::parse_hba(text, "/hba.conf");
  EXPECT_TRUE(parsed.errors.empty());
  c.auth.hba = std::move(parsed.rules);
  return c;
}

TEST(AccessCheck, WithoutRulesTheMethodApplies) {
  conf::Config c;
  c.auth.method = conf::AuthMethod::md5;
  const auto result = check_access(c, facts("u", false));
  ASSERT_TRUE(std::holds_alternative<conf::AuthMethod>(result));
  EXPECT_EQ(std::get<conf::AuthMethod>(result), conf::AuthMethod::md5);
}

TEST(AccessCheck, TlsRequired) {
  conf::Config c;
  c.tls.client_mode = conf::ClientTlsMode::require;
  EXPECT_EQ(refusal(c, facts("u", false)),
            "28000 TLS is required for connections to pgrouter; host \"127.0.0.1\", user \"u\", database \"app\", "
            "no encryption");
  EXPECT_EQ(refusal(c, facts("u", true)), "(allowed)");
}

TEST(AccessCheck, HbaRefusalsNameHostUserDatabaseAndEncryption) {
  const auto c = with_hba(
      "hostssl all app 127.0.0.1/32 scram-sha-256\n"
      "host all bad all reject\n"
      "hostssl all certuser all cert\n"
      "host all plain 127.0.0.1/32 trust\n");
  EXPECT_EQ(refusal(c, facts("app", false)),
            "28000 no pg_hba.conf entry for host \"127.0.0.1\", user \"app\", database \"app\", no encryption");
  EXPECT_EQ(refusal(c, facts("app", true)), "(allowed)");
  EXPECT_EQ(refusal(c, facts("app", true, "10.0.0.1")),
            "28000 no pg_hba.conf entry for host \"10.0.0.1\", user \"app\", database \"app\", SSL encryption");
  EXPECT_EQ(refusal(c, facts("bad", true)),
            "28000 pg_hba.conf rejects connection for host \"127.0.0.1\", user \"bad\", database \"app\", SSL "
            "encryption");
  EXPECT_EQ(std::get<conf::AuthMethod>(check_access(c, facts("plain", false))), conf::AuthMethod::trust);
  EXPECT_EQ(std::get<conf::AuthMethod>(check_access(c, facts("app", true))), conf::AuthMethod::scram_sha_256);
}

TEST(AccessCheck, CertMethodNeedsAVerifiedCertificateNamingTheUser) {
  const auto c = with_hba("hostssl all certuser all cert\n");
  auto f = facts("certuser", true);
  EXPECT_EQ(refusal(c, f), "28000 certificate authentication failed for user \"certuser\"");
  f.cert_cn = "certuser";
  EXPECT_EQ(refusal(c, f), "28000 certificate authentication failed for user \"certuser\"");  // not verified
  f.certificate_verified = true;
  EXPECT_EQ(std::get<conf::AuthMethod>(check_access(c, f)), conf::AuthMethod::trust);
  f.cert_cn = "someone-else";
  EXPECT_EQ(refusal(c, f), "28000 certificate authentication failed for user \"certuser\"");
}

TEST(AccessCheck, VerifyFullClientCertificate) {
  conf::Config c;
  c.tls.client_cert = conf::ClientCertMode::verify_full;
  auto f = facts("app", true);
  f.certificate_verified = true;
  f.cert_cn = "other";
  EXPECT_EQ(refusal(c, f), "28000 certificate validation (clientcert=verify-full) failed for user \"app\"");
  f.cert_cn = "app";
  EXPECT_EQ(refusal(c, f), "(allowed)");
}

}  // namespace
}  // namespace pgr::proxy
