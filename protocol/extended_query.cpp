// Extended-query message heads (see extended_query.hpp).
#include "protocol/extended_query.hpp"

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
