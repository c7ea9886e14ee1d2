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

}  // namespace
}  // namespace pgr::protocol
