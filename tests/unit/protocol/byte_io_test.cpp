// ByteReader / ByteWriter: big-endian fields, strings, bounds and length patching.
#include "protocol/byte_io.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace pgr::protocol {
namespace {
using namespace std::literals;
using test::bytes_of;

TEST(ByteReader, ReadsBigEndianFields) {
  const auto data = bytes_of("\x01\xff\xfe\x80\x00\x00\x01\xff\xff\xff\xfe"sv);
  ByteReader r(data);
  EXPECT_EQ(r.u8(), 1);
  EXPECT_EQ(r.i16(), -2);
  EXPECT_EQ(r.u32(), 0x80000001u);
  EXPECT_EQ(r.i32(), -2);
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
}

TEST(ByteReader, ReadsCStringsAndRest) {
  const auto data = bytes_of("abc\0\0xyz"sv);
  ByteReader r(data);
  EXPECT_EQ(r.cstr(), "abc");
  EXPECT_EQ(r.cstr(), "");
  EXPECT_EQ(r.remaining(), 3u);
  EXPECT_EQ(as_chars(r.rest()), "xyz");
  EXPECT_TRUE(r.at_end());
}

TEST(ByteReader, FailsWithoutReadingPastTheEnd) {
  const auto data = bytes_of("ab"sv);
  ByteReader r(data);
  EXPECT_EQ(r.i32(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_FALSE(r.at_end());
  EXPECT_EQ(r.u8(), 0);  // stays failed
  EXPECT_TRUE(r.rest().empty());
}

TEST(ByteReader, UnterminatedStringFails) {
  const auto data = bytes_of("abc"sv);
  ByteReader r(data);
  EXPECT_EQ(r.cstr(), "");
  EXPECT_FALSE(r.ok());
}

TEST(ByteReader, BytesBeyondTheEndFail) {
  const auto data = bytes_of("abc"sv);
  ByteReader r(data);
  EXPECT_EQ(r.bytes(3).size(), 3u);
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.bytes(0).empty());
  EXPECT_TRUE(r.ok());
  r.bytes(1);
  EXPECT_FALSE(r.ok());
}

TEST(ByteWriter, WritesTypedMessageWithPatchedLength) {
  byte_buffer out;
  ByteWriter w(out);
  w.begin_message('Q');
  w.cstr("select 1");
  w.end_message();
  EXPECT_EQ(test::to_string(out), "Q\0\0\0\x0dselect 1\0"sv);
}

TEST(ByteWriter, WritesUntypedMessageAfterExistingBytes) {
  byte_buffer out = bytes_of("xx"sv);
  ByteWriter w(out);
  w.begin_message(0);
  w.i16(-1);
  w.i32(0x01020304);
  w.u32(0xfffffffe);
  w.end_message();
  EXPECT_EQ(test::to_string(out), "xx\0\0\0\x0e\xff\xff\x01\x02\x03\x04\xff\xff\xff\xfe"sv);
}

}  // namespace
}  // namespace pgr::protocol
