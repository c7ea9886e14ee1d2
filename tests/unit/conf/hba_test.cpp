// The hba_file parser and matcher: every connection type, lists and keywords, CIDR and
// address+mask forms, first match wins, and one error per bad line naming file and line.
#include "conf/hba.hpp"

#include <gtest/gtest.h>

namespace pgr::conf {
namespace {

std::vector<std::string> errors_of(const HbaFile& file) {
  std::vector<std::string> out;
  for (const auto& error : file.errors) out.push_back(error.to_string());
  return out;
}

HbaRequest request(std::string_view address, std::string_view user, std::string_view db, bool tls = false) {
  HbaRequest r;
  r.address = *parse_hba_address(address);
  r.local_address = *parse_hba_address("10.9.9.9");
  r.user = user;
  r.database = db;
  r.tls = tls;
  return r;
}

std::optional<int> matched_line(const HbaFile& file, const HbaRequest& r) {
  const auto* rule = match_hba(file.rules, r);
  if (rule == nullptr) return std::nullopt;
  return rule->line;
}

TEST(Hba, ParsesEveryForm) {
  const auto file = parse_hba(
      "# comment\n"
      "\n"
      "local   all        all                       trust\n"
      "host    app,other  alice,bob  10.0.0.0/8     scram-sha-256  # trailing comment\n"
      "hostssl all        all        192.168.1.0 255.255.255.0  md5\n"
      "hostnossl sameuser all       ::1/128         reject\n"
      "host    \"all\"    carol      all            cert\n",
      "hba.conf");
  EXPECT_EQ(errors_of(file), std::vector<std::string>{
      "hba.conf:7: hba_file: cert authentication is only supported on hostssl lines"});
  ASSERT_EQ(file.rules.size(), 4U);
  EXPECT_EQ(file.rules[0].type, HbaType::local);
  EXPECT_EQ(file.rules[1].databases, (std::vector<std::string>{"app", "other"}));
  EXPECT_EQ(file.rules[1].users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(file.rules[1].method, HbaMethod::scram_sha_256);
  EXPECT_EQ(file.rules[2].type, HbaType::hostssl);
  EXPECT_EQ(file.rules[2].method, HbaMethod::md5);
  EXPECT_TRUE(file.rules[3].same_user_database);
  EXPECT_EQ(file.rules[3].line, 6);
}

TEST(Hba, QuotedAllIsAName) {
  const auto file = parse_hba("hostssl \"all\" all all cert\n", "h");
  ASSERT_TRUE(file.errors.empty()) << ::testing::PrintToString(errors_of(file));
  EXPECT_FALSE(file.rules[0].any_database);
  EXPECT_EQ(file.rules[0].databases, std::vector<std::string>{"all"});
  EXPECT_EQ(matched_line(file, request("1.2.3.4", "u", "app", true)), std::nullopt);
  EXPECT_EQ(matched_line(file, request("1.2.3.4", "u", "all", true)), 1);
}

TEST(Hba, ErrorsNameFileAndLine) {
  const auto file = parse_hba(
      "host all all 10.0.0.0/33 md5\n"
      "host all +admins all md5\n"
      "host @dbs all all md5\n"
      "host all all db.example.com md5\n"
      "host all all all password\n"
      "bogus all all all md5\n"
      "host all all all\n"
      "host all all 10.0.0.1 255.0.0.0 md5 clientcert=verify-full\n"
      "host replication all all md5\n"
      "host all all samenet md5\n"
      "host all all 10.0.0.1 ffff:: md5\n"
      "host \"unterminated all all md5\n"
      "host all all 10.0.0.0/8 md5\n",
      "/etc/pgrouter/hba.conf");
  const std::vector<std::string> expected{
      "/etc/pgrouter/hba.conf:1: hba_file: invalid CIDR mask in address \"10.0.0.0/33\"",
      "/etc/pgrouter/hba.conf:2: hba_file: group membership (+role) is not supported",
      "/etc/pgrouter/hba.conf:3: hba_file: @file inclusion is not supported",
      "/etc/pgrouter/hba.conf:4: hba_file: invalid IP address \"db.example.com\" (host names are not supported)",
      "/etc/pgrouter/hba.conf:5: hba_file: unsupported authentication method \"password\"",
      "/etc/pgrouter/hba.conf:6: hba_file: invalid connection type \"bogus\"",
      "/etc/pgrouter/hba.conf:7: hba_file: end-of-line before the authentication method",
      "/etc/pgrouter/hba.conf:8: hba_file: authentication options are not supported",
      "/etc/pgrouter/hba.conf:9: hba_file: database keyword \"replication\" is not supported",
      "/etc/pgrouter/hba.conf:10: hba_file: samenet is not supported",
      "/etc/pgrouter/hba.conf:11: hba_file: invalid IP mask \"ffff::\"",
      "/etc/pgrouter/hba.conf:12: hba_file: unterminated quoted string",
  };
  EXPECT_EQ(errors_of(file), expected);
  EXPECT_EQ(file.rules.size(), 1U);
}

TEST(Hba, FirstMatchWins) {
  const auto file = parse_hba(
      "host    app   alice  10.1.0.0/16            reject\n"
      "host    app   alice  10.0.0.0/8             scram-sha-256\n"
      "hostssl all   bob    all                    md5\n"
      "hostnossl all carol  127.0.0.1/32           trust\n"
      "host    sameuser all 192.168.0.0 255.255.0.0 md5\n"
      "host    all   all    ::1/128                trust\n"
      "host    all   dave   samehost               trust\n",
      "h");
  ASSERT_TRUE(file.errors.empty()) << ::testing::PrintToString(errors_of(file));
  EXPECT_EQ(matched_line(file, request("10.1.2.3", "alice", "app")), 1);
  EXPECT_EQ(matched_line(file, request("10.2.2.3", "alice", "app")), 2);
  EXPECT_EQ(matched_line(file, request("11.2.2.3", "alice", "app")), std::nullopt);
  EXPECT_EQ(matched_line(file, request("10.2.2.3", "alice", "other")), std::nullopt);
  // hostssl only over TLS, hostnossl only without.
  EXPECT_EQ(matched_line(file, request("1.1.1.1", "bob", "x", true)), 3);
  EXPECT_EQ(matched_line(file, request("1.1.1.1", "bob", "x", false)), std::nullopt);
  EXPECT_EQ(matched_line(file, request("127.0.0.1", "carol", "x", false)), 4);
  EXPECT_EQ(matched_line(file, request("127.0.0.1", "carol", "x", true)), std::nullopt);
  // sameuser, address + mask.
  EXPECT_EQ(matched_line(file, request("192.168.7.7", "erin", "erin")), 5);
  EXPECT_EQ(matched_line(file, request("192.168.7.7", "erin", "app")), std::nullopt);
  EXPECT_EQ(matched_line(file, request("192.169.7.7", "erin", "erin")), std::nullopt);
  // IPv6, and IPv4 rules never match IPv6 clients.
  EXPECT_EQ(matched_line(file, request("::1", "zed", "x")), 6);
  EXPECT_EQ(matched_line(file, request("::2", "zed", "x")), std::nullopt);
  // samehost: the address the client connected to, or loopback.
  EXPECT_EQ(matched_line(file, request("10.9.9.9", "dave", "x")), 7);
  EXPECT_EQ(matched_line(file, request("127.0.0.5", "dave", "x")), 7);
  EXPECT_EQ(matched_line(file, request("10.9.9.8", "dave", "x")), std::nullopt);
}

TEST(Hba, LocalLinesNeverMatchTcp) {
  const auto file = parse_hba("local all all trust\n", "h");
  ASSERT_TRUE(file.errors.empty());
  EXPECT_EQ(matched_line(file, request("127.0.0.1", "u", "d")), std::nullopt);
}

TEST(Hba, AddressParsing) {
  EXPECT_TRUE(parse_hba_address("127.0.0.1"));
  EXPECT_TRUE(parse_hba_address("fe80::1"));
  EXPECT_FALSE(parse_hba_address("127.0.0"));
  EXPECT_FALSE(parse_hba_address(""));
  EXPECT_FALSE(parse_hba_address("localhost"));
  const auto mapped = *parse_hba_address("1.2.3.4");
  EXPECT_EQ(mapped[10], 0xff);
  EXPECT_EQ(mapped[15], 4);
}

// Any input parses without crashing, split anywhere.
TEST(Hba, ArbitraryBytes) {
  const std::string text = "host all all 10.0.0.0/8 md5\n\"\x01\xff,,, /\n hostssl\t\"a\"\"b\" c 1::/200 x\n";
  for (std::size_t i = 0; i <= text.size(); ++i) {
    (void)parse_hba(std::string_view(text).substr(0, i), "h");
  }
}

}  // namespace
}  // namespace pgr::conf
