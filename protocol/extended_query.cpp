// Extended-query message heads (see extended_query.hpp).
#include "protocol/extended_query.hpp"

#include <utility>

namespace pgr::protocol {

std::optional<ParseHead> parse_parse_head(bytes_view body) {
  ByteReader r(body);
  ParseHead head;
  head.statement = r.cstr();
  head.sql = r.cstr();
  if (!r.ok()) return std::nullopt;
  return head;
}

std::optional<BindHead> parse_bind_head(bytes_view body) {
  ByteReader r(body);
  BindHead head;
  head.portal = r.cstr();
  head.statement = r.cstr();
  if (!r.ok()) return std::nullopt;
  return head;
}

std::optional<TargetRef> parse_target_ref(bytes_view body) {
  ByteReader r(body);
  TargetRef ref;
  ref.kind = static_cast<char>(r.u8());
  ref.name = r.cstr();
  if (!r.ok() || !r.at_end() || (ref.kind != 'S' && ref.kind != 'P')) return std::nullopt;
  return ref;
}

std::optional<std::string_view> parse_execute_portal(bytes_view body) {
  ByteReader r(body);
  const auto portal = r.cstr();
  r.i32();  // row limit
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return portal;
}

namespace {

// The framed message's type and body, or nullopt when the frame is cut short.
std::optional<std::pair<char, bytes_view>> split_frame(bytes_view framed) {
  if (framed.size() < 5) return std::nullopt;
  return std::pair{static_cast<char>(framed[0]), framed.subspan(5)};
}

}  // namespace

bytes_view parse_definition(bytes_view parse_body) {
  ByteReader r(parse_body);
  r.cstr();
  if (!r.ok()) return {};
  return parse_body.subspan(parse_body.size() - r.remaining());
}

bool write_parse_renamed(byte_buffer& out, bytes_view framed_parse, std::string_view name) {
  const auto frame = split_frame(framed_parse);
  if (!frame || frame->first != 'P' || !parse_parse_head(frame->second)) return false;
  ByteWriter w(out);
  w.begin_message('P');
  w.cstr(name);
  w.bytes(parse_definition(frame->second));
  w.end_message();
  return true;
}

bool write_bind_renamed(byte_buffer& out, bytes_view framed_bind, std::string_view name) {
  const auto frame = split_frame(framed_bind);
  if (!frame || frame->first != 'B') return false;
  ByteReader r(frame->second);
  const auto portal = r.cstr();
  r.cstr();
  if (!r.ok()) return false;
  ByteWriter w(out);
  w.begin_message('B');
  w.cstr(portal);
  w.cstr(name);
  w.bytes(frame->second.subspan(frame->second.size() - r.remaining()));
  w.end_message();
  return true;
}

bool write_target_renamed(byte_buffer& out, bytes_view framed_target, std::string_view name) {
  const auto frame = split_frame(framed_target);
  if (!frame || (frame->first != 'D' && frame->first != 'C')) return false;
  const auto ref = parse_target_ref(frame->second);
  if (!ref || ref->kind != 'S') return false;
  ByteWriter w(out);
  w.begin_message(frame->first);
  w.u8('S');
  w.cstr(name);
  w.end_message();
  return true;
}

void write_close(byte_buffer& out, char kind, std::string_view name) {
  ByteWriter w(out);
  w.begin_message('C');
  w.u8(static_cast<std::uint8_t>(kind));
  w.cstr(name);
  w.end_message();
}

void write_flush(byte_buffer& out) {
  ByteWriter w(out);
  w.begin_message('H');
  w.end_message();
}

}  // namespace pgr::protocol
