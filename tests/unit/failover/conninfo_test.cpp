// primary_conninfo parsing and rewriting, and SQL literals for ALTER SYSTEM.
#include "failover/conninfo.hpp"

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

TEST(Conninfo, ParsesBareAndQuotedValues) {
  const auto pairs = parse_conninfo(
      "host=127.0.0.1 port = 5432 user=postgres password='a b\\'c\\\\d' application_name=node1");
  ASSERT_TRUE(pairs);
  ASSERT_EQ(pairs->size(), 5u);
  EXPECT_EQ((*pairs)[1], (std::pair<std::string, std::string>{"port", "5432"}));
  EXPECT_EQ((*pairs)[3].second, "a b'c\\d");
  EXPECT_EQ((*pairs)[4].second, "node1");
}

TEST(Conninfo, RejectsMalformed) {
  EXPECT_FALSE(parse_conninfo("host"));
  EXPECT_FALSE(parse_conninfo("host='unterminated"));
  EXPECT_FALSE(parse_conninfo("=x"));
  EXPECT_TRUE(parse_conninfo("")->empty());
}

TEST(Conninfo, FormatRoundTrips) {
  const ConninfoPairs pairs{{"host", "db 1"}, {"password", "it's\\"}, {"port", "5432"},
                            {"options", ""}};
  const std::string text = format_conninfo(pairs);
  EXPECT_EQ(text, "host='db 1' password='it\\'s\\\\' port=5432 options=''");
  EXPECT_EQ(parse_conninfo(text), pairs);
}

TEST(Conninfo, RepointKeepsEverythingButWhere) {
  const RepointDefaults defaults{"pgrouter", std::string("secret"), "node2"};
  EXPECT_EQ(repoint_conninfo("host=10.0.0.1 hostaddr=10.0.0.1 port=5432 user=repl "
                             "application_name=node2 sslmode=require",
                             "10.0.0.3", 5433, defaults),
            "host=10.0.0.3 port=5433 user=repl application_name=node2 sslmode=require "
            "password=secret");
}

TEST(Conninfo, RepointFromNothingUsesDefaults) {
  const RepointDefaults defaults{"postgres", std::string("p w"), "node2"};
  EXPECT_EQ(repoint_conninfo("", "127.0.0.1", 15433, defaults),
            "host=127.0.0.1 port=15433 user=postgres password='p w' application_name=node2");
  EXPECT_EQ(repoint_conninfo("postgresql://x@y/z", "h", 1, {"u", std::nullopt, ""}),
            "host=h port=1 user=u");
}

TEST(Conninfo, SqlLiteral) {
  EXPECT_EQ(sql_literal("host=a"), "'host=a'");
  EXPECT_EQ(sql_literal("it's"), "'it''s'");
  EXPECT_EQ(sql_literal("a\\'b"), "E'a\\\\''b'");
}

}  // namespace
}  // namespace pgr::failover
