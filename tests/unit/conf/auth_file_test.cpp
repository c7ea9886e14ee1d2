// The auth_file parser: quoting, doubled quotes, comments, and an error per bad line that
// names the file and line but never the secret.
#include "conf/auth_file.hpp"

#include <gtest/gtest.h>

#include "conf_test_support.hpp"

namespace pgr::conf {
namespace {

std::vector<std::string> lines_of(const AuthFile& file) {
  std::vector<std::string> out;
  for (const auto& error : file.errors) out.push_back(error.to_string());
  return out;
}

TEST(AuthFile, ParsesEntries) {
  const auto parsed = parse_auth_file(
      "; PgBouncer style comment\n"
      "# shell style comment\n"
      "\n"
      "\"alice\" \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"\n"
      "  \"bob\"\t\"md5a3556571e93b0d20722ba62be61e8c2d\"  \r\n"
      "\"say \"\"hi\"\"\" \"pa\"\"ss word\"\n"
      "   ; indented comment\n"
      "\"empty\" \"\"\n"
      "\"quote\"\"\" \"x\"\n"  // the user ends in a doubled quote: quote"
      "\"last\" \"no newline\"",
      "users.txt");
  EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(lines_of(parsed));
  const std::map<std::string, std::string> expected{
      {"alice", "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"},
      {"bob", "md5a3556571e93b0d20722ba62be61e8c2d"},
      {"say \"hi\"", "pa\"ss word"},
      {"empty", ""},
      {"quote\"", "x"},
      {"last", "no newline"},
  };
  EXPECT_EQ(parsed.users, expected);
}

TEST(AuthFile, ErrorTable) {
  struct Case {
    const char* line;
    const char* error;
  };
  const Case cases[] = {
      {"alice secret", "users.txt:2: auth_file: expected \"user\" \"secret\""},
      {"\"alice\"", "users.txt:2: auth_file: expected \"user\" \"secret\""},
      {"\"alice\" secret", "users.txt:2: auth_file: expected \"user\" \"secret\""},
      {"\"alice", "users.txt:2: auth_file: unterminated quoted string"},
      {"\"alice\" \"secret", "users.txt:2: auth_file: unterminated quoted string"},
      {"\"alice\" \"secret\" x",
       "users.txt:2: auth_file: unexpected text after \"user\" \"secret\""},
      {"\"alice\" \"secret\" ; note",
       "users.txt:2: auth_file: unexpected text after \"user\" \"secret\""},
      {"\"\" \"secret\"", "users.txt:2: auth_file: empty user name"},
      {"\"ok\" \"other\"", "users.txt:2: auth_file: duplicate user \"ok\" (first on line 1)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    const auto parsed = parse_auth_file("\"ok\" \"s\"\n" + std::string(c.line) + "\n", "users.txt");
    EXPECT_EQ(lines_of(parsed), std::vector<std::string>{c.error});
    EXPECT_EQ(parsed.users.count("ok"), 1U);
  }
}

TEST(AuthFile, AllBadLinesReportedAndSecretsNeverShown) {
  const auto parsed = parse_auth_file(
      "\"a\" \"topsecret1\" trailing\n"
      "\"b\" \"topsecret2\n"
      "\"c\" \"fine\"\n"
      "\"c\" \"topsecret3\"\n",
      "u.txt");
  const std::vector<std::string> expected{
      "u.txt:1: auth_file: unexpected text after \"user\" \"secret\"",
      "u.txt:2: auth_file: unterminated quoted string",
      "u.txt:4: auth_file: duplicate user \"c\" (first on line 3)",
  };
  EXPECT_EQ(lines_of(parsed), expected);
  for (const auto& line : lines_of(parsed)) EXPECT_EQ(line.find("topsecret"), std::string::npos);
}

TEST(AuthFile, LoadReadsFileOrSaysWhyNot) {
  const test::TempDir dir;
  const auto path = dir.write("users.txt", "\"u\" \"p\"\n");
  const auto loaded = load_auth_file(path);
  EXPECT_TRUE(loaded.errors.empty());
  EXPECT_EQ(loaded.users.at("u"), "p");

  const auto missing = load_auth_file(dir.path("nope.txt"));
  EXPECT_EQ(lines_of(missing), std::vector<std::string>{dir.path("nope.txt") +
                                                        ": auth_file: cannot read: No such file "
                                                        "or directory"});
}

}  // namespace
}  // namespace pgr::conf
