// Big-endian field readers and writers (see byte_io.hpp).
#include "protocol/byte_io.hpp"

#include <algorithm>

namespace pgr::protocol {

std::uint8_t ByteReader::u8() {
  const auto b = bytes(1);
  return b.empty() ? 0 : b[0];
}

std::int16_t ByteReader::i16() {
  const auto b = bytes(2);
  if (b.size() != 2) return 0;
  const auto v = static_cast<std::uint16_t>((b[0] << 8) | b[1]);
  return static_cast<std::int16_t>(v);
}

std::uint32_t ByteReader::u32() {
  const auto b = bytes(4);
  if (b.size() != 4) return 0;
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

std::int32_t ByteReader::i32() { return static_cast<std::int32_t>(u32()); }

std::string_view ByteReader::cstr() {
  if (!ok_) return {};
  const auto tail = data_.subspan(pos_);
  const auto nul = std::find(tail.begin(), tail.end(), std::uint8_t{0});
  if (nul == tail.end()) {
    ok_ = false;
    return {};
  }
  const auto len = static_cast<std::size_t>(nul - tail.begin());
  pos_ += len + 1;
  return as_chars(tail.first(len));
}

bytes_view ByteReader::bytes(std::size_t n) {
  if (!ok_ || n > data_.size() - pos_) {
    ok_ = false;
    return {};
  }
  const auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

bytes_view ByteReader::rest() {
  if (!ok_) return {};
  const auto out = data_.subspan(pos_);
  pos_ = data_.size();
  return out;
}

void ByteWriter::i16(std::int16_t v) {
  const auto u = static_cast<std::uint16_t>(v);
  out_.push_back(static_cast<std::uint8_t>(u >> 8));
  out_.push_back(static_cast<std::uint8_t>(u & 0xff));
}

void ByteWriter::u32(std::uint32_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 24));
  out_.push_back(static_cast<std::uint8_t>((v >> 16) & 0xff));
  out_.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
  out_.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void ByteWriter::i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }

void ByteWriter::cstr(std::string_view s) {
  chars(s);
  out_.push_back(0);
}

void ByteWriter::begin_message(char type) {
  if (type != 0) u8(static_cast<std::uint8_t>(type));
  length_at_ = out_.size();
  u32(0);  // patched by end_message
}

void ByteWriter::end_message() {
  const auto length = static_cast<std::uint32_t>(out_.size() - length_at_);
  out_[length_at_] = static_cast<std::uint8_t>(length >> 24);
  out_[length_at_ + 1] = static_cast<std::uint8_t>((length >> 16) & 0xff);
  out_[length_at_ + 2] = static_cast<std::uint8_t>((length >> 8) & 0xff);
  out_[length_at_ + 3] = static_cast<std::uint8_t>(length & 0xff);
}

}  // namespace pgr::protocol
