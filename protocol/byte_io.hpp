// Big-endian readers and writers for PostgreSQL wire messages.
// Pure: no I/O. ByteReader never reads past its span; a failed read sets ok() to false and
// returns a zero value, so a decoder checks ok() once at the end instead of after every field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgr::protocol {

using bytes_view = std::span<const std::uint8_t>;
using byte_buffer = std::vector<std::uint8_t>;

inline bytes_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(bytes_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class ByteReader {
 public:
  explicit ByteReader(bytes_view data) : data_(data) {}

  std::uint8_t u8();
  std::int16_t i16();
  std::int32_t i32();
  std::uint32_t u32();
  // A NUL-terminated string; the NUL is consumed and not part of the result.
  std::string_view cstr();
  bytes_view bytes(std::size_t n);
  bytes_view rest();

  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  bool at_end() const { return ok_ && pos_ == data_.size(); }
  bool ok() const { return ok_; }
  void fail() { ok_ = false; }

 private:
  bytes_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends to a buffer. begin_message/end_message write a typed message with its length
// patched in at the end, so builders never compute lengths by hand.
class ByteWriter {
 public:
  explicit ByteWriter(byte_buffer& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void i16(std::int16_t v);
  void i32(std::int32_t v);
  void u32(std::uint32_t v);
  void cstr(std::string_view s);  // writes s then a NUL
  void bytes(bytes_view b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void chars(std::string_view s) { bytes(as_bytes(s)); }

  // type == 0 starts an untyped message (startup family): only the length is written.
  void begin_message(char type);
  void end_message();

 private:
  byte_buffer& out_;
  std::size_t length_at_ = 0;
};

}  // namespace pgr::protocol
