// Extended-query heads: what the router reads from Parse, Bind, Describe, Close, Execute.
#include "protocol/extended_query.hpp"

#include <gtest/gtest.h>

#include "protocol/messages.hpp"

namespace pgr::protocol {
namespace {

byte_buffer body_of(char type, const auto& fill) {
  byte_buffer out;
  ByteWriter w(out);
  w.begin_message(type);
  fill(w);
  w.end_message();
  return byte_buffer(out.begin() + 5, out.end());
}

TEST(ExtendedQuery, ParseHeadReadsNameAndSql) {
  const auto body = body_of('P', [](ByteWriter& w) {
    w.cstr("s1");
    w.cstr("SELECT $1");
    w.i16(1);
    w.u32(23);
  });
  const auto head = parse_parse_head(body);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->statement, "s1");
  EXPECT_EQ(head->sql, "SELECT $1");
}

TEST(ExtendedQuery, ParseHeadRejectsMissingTerminator) {
  const byte_buffer body{'s', '1', 0, 'S', 'E'};
  EXPECT_FALSE(parse_parse_head(body));
}

TEST(ExtendedQuery, BindHeadReadsPortalThenStatement) {
  const auto body = body_of('B', [](ByteWriter& w) {
    w.cstr("p1");
    w.cstr("s1");
    w.i16(0);
    w.i16(0);
    w.i16(0);
  });
  const auto head = parse_bind_head(body);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->portal, "p1");
  EXPECT_EQ(head->statement, "s1");
}

TEST(ExtendedQuery, TargetRefAcceptsOnlyStatementOrPortal) {
  auto ok = body_of('D', [](ByteWriter& w) {
    w.u8('S');
    w.cstr("s1");
  });
  const auto ref = parse_target_ref(ok);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->kind, 'S');
  EXPECT_EQ(ref->name, "s1");
  auto bad = body_of('D', [](ByteWriter& w) {
    w.u8('X');
    w.cstr("s1");
  });
  EXPECT_FALSE(parse_target_ref(bad));
  auto trailing = body_of('D', [](ByteWriter& w) {
    w.u8('P');
    w.cstr("");
    w.u8(1);
  });
  EXPECT_FALSE(parse_target_ref(trailing));
}

TEST(ExtendedQuery, ExecutePortal) {
  auto body = body_of('E', [](ByteWriter& w) {
    w.cstr("");
    w.i32(0);
  });
  EXPECT_EQ(parse_execute_portal(body), std::string_view(""));
  const byte_buffer short_body{0, 0, 0};
  EXPECT_FALSE(parse_execute_portal(short_body));
}

TEST(ExtendedQuery, WriteCloseRoundTrips) {
  byte_buffer out;
  write_close(out, 'S', "s1");
  const auto view = view_message(out);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->type, 'C');
  const auto ref = parse_target_ref(view->body);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->kind, 'S');
  EXPECT_EQ(ref->name, "s1");
  byte_buffer flush;
  write_flush(flush);
  EXPECT_EQ(flush, (byte_buffer{'H', 0, 0, 0, 4}));
}

byte_buffer framed_of(char type, const auto& fill) {
  byte_buffer out;
  ByteWriter w(out);
  w.begin_message(type);
  fill(w);
  w.end_message();
  return out;
}

TEST(ExtendedQuery, ParseRenamedKeepsQueryAndTypes) {
  const auto parse = framed_of('P', [](ByteWriter& w) {
    w.cstr("s1");
    w.cstr("SELECT $1");
    w.i16(1);
    w.u32(23);
  });
  byte_buffer out;
  ASSERT_TRUE(write_parse_renamed(out, parse, "pgr_0123"));
  const auto expected = framed_of('P', [](ByteWriter& w) {
    w.cstr("pgr_0123");
    w.cstr("SELECT $1");
    w.i16(1);
    w.u32(23);
  });
  EXPECT_EQ(out, expected);
  // The definition (what makes two statements the same) excludes the name.
  const auto a = parse_definition(bytes_view(parse).subspan(5));
  const auto b = parse_definition(bytes_view(expected).subspan(5));
  EXPECT_EQ(byte_buffer(a.begin(), a.end()), byte_buffer(b.begin(), b.end()));
  EXPECT_FALSE(a.empty());
}

TEST(ExtendedQuery, BindRenamedKeepsPortalAndParameters) {
  const auto bind = framed_of('B', [](ByteWriter& w) {
    w.cstr("p1");
    w.cstr("s1");
    w.i16(0);
    w.i16(1);
    w.i32(2);
    w.chars("42");
    w.i16(0);
  });
  byte_buffer out;
  ASSERT_TRUE(write_bind_renamed(out, bind, ""));
  const auto expected = framed_of('B', [](ByteWriter& w) {
    w.cstr("p1");
    w.cstr("");
    w.i16(0);
    w.i16(1);
    w.i32(2);
    w.chars("42");
    w.i16(0);
  });
  EXPECT_EQ(out, expected);
}

TEST(ExtendedQuery, TargetRenamedOnlyForStatements) {
  const auto describe = framed_of('D', [](ByteWriter& w) {
    w.u8('S');
    w.cstr("s1");
  });
  byte_buffer out;
  ASSERT_TRUE(write_target_renamed(out, describe, "pgr_x"));
  EXPECT_EQ(out, framed_of('D', [](ByteWriter& w) {
              w.u8('S');
              w.cstr("pgr_x");
            }));
  const auto portal = framed_of('C', [](ByteWriter& w) {
    w.u8('P');
    w.cstr("p1");
  });
  byte_buffer none;
  EXPECT_FALSE(write_target_renamed(none, portal, "pgr_x"));
  EXPECT_TRUE(none.empty());
}

TEST(ExtendedQuery, RenameRefusesMalformedOrWrongMessages) {
  byte_buffer out;
  const byte_buffer cut{'P', 0, 0, 0, 6, 's'};
  EXPECT_FALSE(write_parse_renamed(out, cut, "x"));
  const auto bind = framed_of('B', [](ByteWriter& w) { w.cstr("p1"); });
  EXPECT_FALSE(write_bind_renamed(out, bind, "x"));
  const auto query = framed_of('Q', [](ByteWriter& w) { w.cstr("SELECT 1"); });
  EXPECT_FALSE(write_parse_renamed(out, query, "x"));
  EXPECT_FALSE(write_target_renamed(out, query, "x"));
  EXPECT_FALSE(write_parse_renamed(out, byte_buffer{}, "x"));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace pgr::protocol
