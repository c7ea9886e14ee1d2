// The SQL tokenizer: PostgreSQL's lexical rules (comments, quoting, dollar quotes, parameters,
// numbers, operators), unterminated constructs, and never reading past the input.
#include "protocol/sql_lexer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace pgr::protocol {
namespace {

using namespace std::string_view_literals;

struct Lexed {
  TokenKind kind;
  std::string text;
  bool terminated = true;
  friend bool operator==(const Lexed&, const Lexed&) = default;
};

std::ostream& operator<<(std::ostream& os, const Lexed& t) {
  return os << static_cast<int>(t.kind) << ":[" << t.text << "]" << (t.terminated ? "" : "(open)");
}

std::vector<Lexed> lex(std::string_view sql) {
  std::vector<Lexed> out;
  SqlLexer lexer(sql);
  for (Token t = lexer.next(); t.kind != TokenKind::end; t = lexer.next()) {
    // Every token is a view into the input.
    EXPECT_GE(t.text.data(), sql.data());
    EXPECT_LE(t.text.data() + t.text.size(), sql.data() + sql.size());
    EXPECT_FALSE(t.text.empty());
    out.push_back({t.kind, std::string(t.text), t.terminated});
  }
  return out;
}

using K = TokenKind;

TEST(SqlLexer, EmptyAndWhitespaceOnly) {
  EXPECT_TRUE(lex("").empty());
  EXPECT_TRUE(lex(" \t\r\n\f\v ").empty());
  SqlLexer lexer("  ");
  EXPECT_EQ(lexer.next().kind, K::end);
  EXPECT_EQ(lexer.next().kind, K::end);  // end is sticky
}

TEST(SqlLexer, SimpleStatement) {
  EXPECT_EQ(lex("SELECT a, b.c FROM t WHERE x = 1;"),
            (std::vector<Lexed>{{K::identifier, "SELECT"}, {K::identifier, "a"}, {K::comma, ","},
                                {K::identifier, "b"}, {K::dot, "."}, {K::identifier, "c"},
                                {K::identifier, "FROM"}, {K::identifier, "t"},
                                {K::identifier, "WHERE"}, {K::identifier, "x"}, {K::op, "="},
                                {K::number, "1"}, {K::semicolon, ";"}}));
}

TEST(SqlLexer, Comments) {
  EXPECT_EQ(lex("-- insert\nSELECT"),
            (std::vector<Lexed>{{K::comment, "-- insert"}, {K::identifier, "SELECT"}}));
  EXPECT_EQ(lex("--x"), (std::vector<Lexed>{{K::comment, "--x"}}));  // to the end is fine
  EXPECT_EQ(lex("/* a /* nested */ still comment */ x"),
            (std::vector<Lexed>{{K::comment, "/* a /* nested */ still comment */"},
                                {K::identifier, "x"}}));
  EXPECT_EQ(lex("/* a /* b */"), (std::vector<Lexed>{{K::comment, "/* a /* b */", false}}));
  EXPECT_EQ(lex("/*"), (std::vector<Lexed>{{K::comment, "/*", false}}));
  EXPECT_EQ(lex("/*/"), (std::vector<Lexed>{{K::comment, "/*/", false}}));
  EXPECT_EQ(lex("/**/"), (std::vector<Lexed>{{K::comment, "/**/"}}));
  // An operator stops where a comment starts.
  EXPECT_EQ(lex("1+--c\n2"), (std::vector<Lexed>{{K::number, "1"}, {K::op, "+"},
                                                 {K::comment, "--c"}, {K::number, "2"}}));
  EXPECT_EQ(lex("a*/*c*/b"), (std::vector<Lexed>{{K::identifier, "a"}, {K::op, "*"},
                                                 {K::comment, "/*c*/"}, {K::identifier, "b"}}));
}

TEST(SqlLexer, StringConstants) {
  EXPECT_EQ(lex("'it''s'"), (std::vector<Lexed>{{K::string, "'it''s'"}}));
  // standard_conforming_strings: a backslash is an ordinary character in '...'.
  EXPECT_EQ(lex(R"('a\' x)"), (std::vector<Lexed>{{K::string, R"('a\')"}, {K::identifier, "x"}}));
  EXPECT_EQ(lex(R"(E'a\'b' x)"), (std::vector<Lexed>{{K::string, R"(E'a\'b')"},
                                                     {K::identifier, "x"}}));
  EXPECT_EQ(lex(R"(e'\\' x)"), (std::vector<Lexed>{{K::string, R"(e'\\')"}, {K::identifier, "x"}}));
  EXPECT_EQ(lex(R"(E'a''b')"), (std::vector<Lexed>{{K::string, R"(E'a''b')"}}));
  EXPECT_EQ(lex("U&'d\\0061t' B'101' X'1F' n'nat'"),
            (std::vector<Lexed>{{K::string, "U&'d\\0061t'"}, {K::string, "B'101'"},
                                {K::string, "X'1F'"}, {K::string, "n'nat'"}}));
  EXPECT_EQ(lex("'abc"), (std::vector<Lexed>{{K::string, "'abc", false}}));
  EXPECT_EQ(lex(R"(E'abc\')"), (std::vector<Lexed>{{K::string, R"(E'abc\')", false}}));
  EXPECT_EQ(lex(R"(E'\)"), (std::vector<Lexed>{{K::string, R"(E'\)", false}}));
  EXPECT_EQ(lex("''"), (std::vector<Lexed>{{K::string, "''"}}));
  EXPECT_EQ(lex("'"), (std::vector<Lexed>{{K::string, "'", false}}));
  // A prefix letter not followed by a quote is an ordinary identifier.
  EXPECT_EQ(lex("e x u&"), (std::vector<Lexed>{{K::identifier, "e"}, {K::identifier, "x"},
                                               {K::identifier, "u"}, {K::op, "&"}}));
}

TEST(SqlLexer, QuotedIdentifiers) {
  EXPECT_EQ(lex(R"("Update" "a""b" U&"x")"),
            (std::vector<Lexed>{{K::quoted_identifier, R"("Update")"},
                                {K::quoted_identifier, R"("a""b")"},
                                {K::quoted_identifier, R"(U&"x")"}}));
  EXPECT_EQ(lex(R"("open)"), (std::vector<Lexed>{{K::quoted_identifier, R"("open)", false}}));
}

TEST(SqlLexer, DollarQuotesAndParameters) {
  EXPECT_EQ(lex("$$ delete ' $$ x"),
            (std::vector<Lexed>{{K::dollar_string, "$$ delete ' $$"}, {K::identifier, "x"}}));
  EXPECT_EQ(lex("$fn$ $$ inner $$ $fn$"),
            (std::vector<Lexed>{{K::dollar_string, "$fn$ $$ inner $$ $fn$"}}));
  EXPECT_EQ(lex("$a$ $ab$ $A$ $a$"), (std::vector<Lexed>{{K::dollar_string, "$a$ $ab$ $A$ $a$"}}));
  EXPECT_EQ(lex("$_t1$x$_t1$"), (std::vector<Lexed>{{K::dollar_string, "$_t1$x$_t1$"}}));
  EXPECT_EQ(lex("$1 $23::int"), (std::vector<Lexed>{{K::parameter, "$1"}, {K::parameter, "$23"},
                                                   {K::op, "::"}, {K::identifier, "int"}}));
  EXPECT_EQ(lex("$$ open"), (std::vector<Lexed>{{K::dollar_string, "$$ open", false}}));
  EXPECT_EQ(lex("$tag$ $tag"), (std::vector<Lexed>{{K::dollar_string, "$tag$ $tag", false}}));
  // A `$` that starts neither a parameter nor a dollar quote is a lone byte.
  EXPECT_EQ(lex("$ $x y"), (std::vector<Lexed>{{K::other, "$"}, {K::other, "$"},
                                               {K::identifier, "x"}, {K::identifier, "y"}}));
  EXPECT_EQ(lex("$"), (std::vector<Lexed>{{K::other, "$"}}));
  // Identifiers may contain `$`, so this is no dollar quote.
  EXPECT_EQ(lex("a$$b"), (std::vector<Lexed>{{K::identifier, "a$$b"}}));
}

TEST(SqlLexer, Numbers) {
  EXPECT_EQ(lex("1 1.5 .5 1e10 2.5E-3 0x1F 1_000 1..2"),
            (std::vector<Lexed>{{K::number, "1"}, {K::number, "1.5"}, {K::number, ".5"},
                                {K::number, "1e10"}, {K::number, "2.5E-3"}, {K::number, "0x1F"},
                                {K::number, "1_000"}, {K::number, "1"}, {K::dot, "."},
                                {K::number, ".2"}}));
  EXPECT_EQ(lex("1e"), (std::vector<Lexed>{{K::number, "1"}, {K::identifier, "e"}}));
}

TEST(SqlLexer, OperatorsAndPunctuation) {
  EXPECT_EQ(lex("a>=b<>c||d::e:=f[1]"),
            (std::vector<Lexed>{{K::identifier, "a"}, {K::op, ">="}, {K::identifier, "b"},
                                {K::op, "<>"}, {K::identifier, "c"}, {K::op, "||"},
                                {K::identifier, "d"}, {K::op, "::"}, {K::identifier, "e"},
                                {K::op, ":="}, {K::identifier, "f"}, {K::op, "["},
                                {K::number, "1"}, {K::op, "]"}}));
  EXPECT_EQ(lex("(;)"), (std::vector<Lexed>{{K::left_paren, "("}, {K::semicolon, ";"},
                                            {K::right_paren, ")"}}));
  EXPECT_EQ(lex("\\{\x01"sv), (std::vector<Lexed>{{K::other, "\\"}, {K::other, "{"},
                                                  {K::other, "\x01"}}));
  EXPECT_EQ(lex("a\0b"sv), (std::vector<Lexed>{{K::identifier, "a"}, {K::other, std::string(1, '\0')},
                                               {K::identifier, "b"}}));
}

TEST(SqlLexer, HighBitBytesAreIdentifierCharacters) {
  EXPECT_EQ(lex("s\xc3\xa9lect \xff"),
            (std::vector<Lexed>{{K::identifier, "s\xc3\xa9lect"}, {K::identifier, "\xff"}}));
}

TEST(SqlLexer, KeywordsAreCaseInsensitiveOnlyWhenUnquoted) {
  SqlLexer lexer(R"(SeLeCt "select" select_x)");
  const Token a = lexer.next();
  const Token b = lexer.next();
  const Token c = lexer.next();
  EXPECT_TRUE(is_keyword(a, "select"));
  EXPECT_FALSE(is_keyword(b, "select"));
  EXPECT_FALSE(is_keyword(c, "select"));
  EXPECT_TRUE(iequals_ascii("ABC", "abc"));
  EXPECT_FALSE(iequals_ascii("abc", "abcd"));
}

TEST(SqlLexer, IdentifierName) {
  SqlLexer lexer(R"(MyTable "My""Table" U&"x" "open)");
  EXPECT_EQ(identifier_name(lexer.next()), "mytable");
  EXPECT_EQ(identifier_name(lexer.next()), "My\"Table");
  EXPECT_EQ(identifier_name(lexer.next()), "x");
  EXPECT_EQ(identifier_name(lexer.next()), "open");
}

TEST(SqlLexer, PositionAdvancesToTheEnd) {
  const std::string_view sql = "SELECT 'a' -- c";
  SqlLexer lexer(sql);
  while (lexer.next().kind != TokenKind::end) {
  }
  EXPECT_EQ(lexer.position(), sql.size());
}

// Every prefix of tricky input lexes without reading past its end (ASan checks the bounds:
// each prefix is copied into its own exactly-sized heap buffer).
TEST(SqlLexer, EveryPrefixIsSafe) {
  const std::string sql =
      R"(SELECT E'\'', U&"a", $tag$ x $tag$, $1, /* /* */ */ 1.5e+3 -- c)" "\n" R"('it''s' "q""q" $$)";
  for (std::size_t n = 0; n <= sql.size(); ++n) {
    const std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
    std::copy_n(sql.data(), n, copy.get());
    const std::string_view prefix(copy.get(), n);
    SqlLexer lexer(prefix);
    std::size_t tokens = 0;
    for (Token t = lexer.next(); t.kind != TokenKind::end; t = lexer.next()) ++tokens;
    EXPECT_LE(tokens, n);
    EXPECT_EQ(lexer.position(), n);
  }
}

}  // namespace
}  // namespace pgr::protocol
