// Fuzzes every typed-message parser on the same body, plus view_message on the whole input.
// Whatever a parser accepts must rebuild with the matching builder and parse back equal.
#include <algorithm>

#include "fuzz_support.hpp"
#include "protocol/extended_query.hpp"
#include "protocol/messages.hpp"

namespace {
using namespace pgr::protocol;
using pgr::fuzz::check;

// The body of the one message `build` appended, checked to frame as `type`.
template <typename Build>
byte_buffer rebuild(char type, Build&& build) {
  byte_buffer out;
  build(out);
  const auto view = view_message(out);
  check(view.has_value() && view->type == type);
  return byte_buffer(view->body.begin(), view->body.end());
}

void fuzz_error_response(bytes_view body) {
  const auto e = parse_error_response(body);
  if (!e) return;
  const auto again =
      parse_error_response(rebuild('E', [&](auto& o) { write_error_response(o, *e); }));
  check(again && again->severity == e->severity && again->sqlstate == e->sqlstate &&
        again->message == e->message && again->detail == e->detail && again->hint == e->hint);
}

void fuzz_authentication(bytes_view body) {
  const auto a = parse_authentication(body);
  if (!a) return;
  byte_buffer again;
  switch (a->code) {
    case auth_code::ok:
      again = rebuild('R', [](auto& o) { write_authentication_ok(o); });
      break;
    case auth_code::md5_password:
      again = rebuild('R', [&](auto& o) { write_authentication_md5(o, a->md5_salt); });
      break;
    case auth_code::sasl:
      again = rebuild('R', [&](auto& o) { write_authentication_sasl(o, a->mechanisms); });
      break;
    case auth_code::sasl_continue:
      again = rebuild('R', [&](auto& o) { write_authentication_sasl_continue(o, a->data); });
      break;
    case auth_code::sasl_final:
      again = rebuild('R', [&](auto& o) { write_authentication_sasl_final(o, a->data); });
      break;
    default:
      return;
  }
  const auto b = parse_authentication(again);
  check(b && b->code == a->code && b->md5_salt == a->md5_salt && b->mechanisms == a->mechanisms &&
        b->data == a->data);
}

void fuzz_password_family(bytes_view body) {
  if (const auto s = parse_sasl_initial_response(body)) {
    const auto again = parse_sasl_initial_response(
        rebuild('p', [&](auto& o) { write_sasl_initial_response(o, s->mechanism, s->data); }));
    check(again && again->mechanism == s->mechanism && again->data == s->data);
  }
  if (const auto p = parse_password_message(body)) {
    const auto again =
        parse_password_message(rebuild('p', [&](auto& o) { write_password_message(o, *p); }));
    check(again == p);
  }
  const auto r = parse_sasl_response(body);
  check(r.size() == body.size());
}

void fuzz_session_messages(bytes_view body) {
  if (const auto p = parse_parameter_status(body)) {
    const auto again = parse_parameter_status(
        rebuild('S', [&](auto& o) { write_parameter_status(o, p->name, p->value); }));
    check(again && again->name == p->name && again->value == p->value);
  }
  if (const auto k = parse_backend_key_data(body)) {
    const auto again =
        parse_backend_key_data(rebuild('K', [&](auto& o) { write_backend_key_data(o, *k); }));
    check(again && again->process_id == k->process_id && again->secret_key == k->secret_key);
  }
  if (const auto z = parse_ready_for_query(body)) {
    check(parse_ready_for_query(rebuild('Z', [&](auto& o) { write_ready_for_query(o, *z); })) == z);
  }
}

void fuzz_query_messages(bytes_view body) {
  if (const auto q = parse_query(body)) {
    check(parse_query(rebuild('Q', [&](auto& o) { write_query(o, *q); })) == q);
  }
  if (const auto c = parse_command_complete(body)) {
    check(parse_command_complete(rebuild('C', [&](auto& o) { write_command_complete(o, *c); })) ==
          c);
  }
  if (const auto row = parse_data_row(body)) {
    std::vector<std::optional<std::string>> fields;
    for (const auto& f : *row)
      fields.emplace_back(f ? std::optional<std::string>(*f) : std::nullopt);
    const auto rebuilt = rebuild('D', [&](auto& o) { write_data_row(o, fields); });
    check(parse_data_row(rebuilt) == row && rebuilt.size() == body.size());
  }
}

}  // namespace

// Transaction pooling renames statements inside Parse, Bind, Describe and Close: whatever a
// rename accepts must frame as one message of the same type whose head parses back with the
// new name and the rest of the message unchanged.
void fuzz_statement_renames(bytes_view body) {
  for (const char type : {'P', 'B', 'D', 'C'}) {
    byte_buffer framed;
    ByteWriter w(framed);
    w.begin_message(type);
    w.bytes(body);
    w.end_message();
    byte_buffer out;
    bool ok = false;
    if (type == 'P') ok = write_parse_renamed(out, framed, "pgr_x");
    else if (type == 'B') ok = write_bind_renamed(out, framed, "pgr_x");
    else ok = write_target_renamed(out, framed, "pgr_x");
    if (!ok) {
      check(out.empty());
      continue;
    }
    const auto view = view_message(out);
    check(view.has_value() && view->type == type && view->body.size() + 5 == out.size());
    if (type == 'P') {
      const auto before = parse_parse_head(body);
      const auto after = parse_parse_head(view->body);
      check(before && after && after->statement == "pgr_x" && after->sql == before->sql);
      const auto a = parse_definition(body);
      const auto b = parse_definition(view->body);
      check(a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()));
    } else if (type == 'B') {
      const auto before = parse_bind_head(body);
      const auto after = parse_bind_head(view->body);
      check(before && after && after->statement == "pgr_x" && after->portal == before->portal);
    } else {
      const auto after = parse_target_ref(view->body);
      check(after && after->kind == 'S' && after->name == "pgr_x");
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const bytes_view data(bytes, size);
  if (const auto view = view_message(data)) {
    check(view->body.size() + 5 == size && view->body.data() == bytes + 5);
  }
  fuzz_error_response(data);
  fuzz_authentication(data);
  fuzz_password_family(data);
  fuzz_session_messages(data);
  fuzz_query_messages(data);
  fuzz_statement_renames(data);
  return 0;
}
