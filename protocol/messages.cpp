// Builders and parsers for the few typed messages pgrouter produces or reads itself
// (see messages.hpp). Parsers are strict: a message must fill its body exactly.
#include "protocol/messages.hpp"

#include <algorithm>

namespace pgr::protocol {
namespace {

// Runs a builder body between begin_message/end_message.
template <typename Body>
void message(byte_buffer& out, char type, Body&& body) {
  ByteWriter w(out);
  w.begin_message(type);
  body(w);
  w.end_message();
}

void write_error_fields(byte_buffer& out, char type, const ErrorFields& fields) {
  message(out, type, [&](ByteWriter& w) {
    // 'S' may be localized by a real server; 'V' never is. We send the same text in both.
    w.u8('S');
    w.cstr(fields.severity);
    w.u8('V');
    w.cstr(fields.severity);
    w.u8('C');
    w.cstr(fields.sqlstate);
    w.u8('M');
    w.cstr(fields.message);
    if (!fields.detail.empty()) {
      w.u8('D');
      w.cstr(fields.detail);
    }
    if (!fields.hint.empty()) {
      w.u8('H');
      w.cstr(fields.hint);
    }
    w.u8(0);
  });
}

void write_authentication(byte_buffer& out, std::int32_t code, bytes_view payload) {
  message(out, 'R', [&](ByteWriter& w) {
    w.i32(code);
    w.bytes(payload);
  });
}

// A body that is exactly one NUL-terminated string.
std::optional<std::string_view> parse_single_cstr(bytes_view body) {
  ByteReader r(body);
  const auto s = r.cstr();
  if (!r.at_end()) return std::nullopt;
  return s;
}

}  // namespace

std::optional<MessageView> view_message(bytes_view framed) {
  if (framed.size() < 5) return std::nullopt;
  ByteReader r(framed);
  const auto type = static_cast<char>(r.u8());
  const auto length = r.u32();
  if (length < 4 || std::size_t{length} != framed.size() - 1) return std::nullopt;
  return MessageView{type, r.rest()};
}

// ---- ErrorResponse / NoticeResponse ---------------------------------------------------

void write_error_response(byte_buffer& out, const ErrorFields& error) {
  write_error_fields(out, 'E', error);
}

void write_notice_response(byte_buffer& out, const ErrorFields& notice) {
  write_error_fields(out, 'N', notice);
}

std::optional<ErrorFields> parse_error_response(bytes_view body) {
  ByteReader r(body);
  ErrorFields fields;
  fields.severity.clear();
  bool have_raw_severity = false;
  for (;;) {
    const auto code = static_cast<char>(r.u8());
    if (!r.ok()) return std::nullopt;
    if (code == 0) break;
    const auto value = r.cstr();
    if (!r.ok()) return std::nullopt;
    switch (code) {
      case 'S':
        if (!have_raw_severity) fields.severity = value;
        break;
      case 'V':  // never localized, so it wins over 'S'
        fields.severity = value;
        have_raw_severity = true;
        break;
      case 'C':
        fields.sqlstate = value;
        break;
      case 'M':
        fields.message = value;
        break;
      case 'D':
        fields.detail = value;
        break;
      case 'H':
        fields.hint = value;
        break;
      default:
        break;  // fields we don't use, and future ones
    }
  }
  if (!r.at_end()) return std::nullopt;
  return fields;
}

// ---- Authentication ('R') -----------------------------------------------------------

std::optional<AuthenticationRequest> parse_authentication(bytes_view body) {
  ByteReader r(body);
  AuthenticationRequest req;
  req.code = r.i32();
  if (!r.ok()) return std::nullopt;
  switch (req.code) {
    case auth_code::ok:
    case auth_code::cleartext_password:
      if (!r.at_end()) return std::nullopt;
      break;
    case auth_code::md5_password: {
      const auto salt = r.bytes(4);
      if (!r.at_end()) return std::nullopt;
      std::copy(salt.begin(), salt.end(), req.md5_salt.begin());
      break;
    }
    case auth_code::sasl:
      for (;;) {
        const auto mechanism = r.cstr();
        if (!r.ok()) return std::nullopt;
        if (mechanism.empty()) break;
        req.mechanisms.emplace_back(mechanism);
      }
      if (!r.at_end()) return std::nullopt;
      break;
    case auth_code::sasl_continue:
    case auth_code::sasl_final:
      req.data = as_chars(r.rest());
      break;
    default:
      break;  // GSS/SSPI and unknown methods: the code is all the proxy needs
  }
  return req;
}

void write_authentication_ok(byte_buffer& out) { write_authentication(out, auth_code::ok, {}); }

void write_authentication_cleartext(byte_buffer& out) {
  write_authentication(out, auth_code::cleartext_password, {});
}

void write_authentication_md5(byte_buffer& out, const std::array<std::uint8_t, 4>& salt) {
  write_authentication(out, auth_code::md5_password, salt);
}

void write_authentication_sasl(byte_buffer& out, const std::vector<std::string>& mechanisms) {
  message(out, 'R', [&](ByteWriter& w) {
    w.i32(auth_code::sasl);
    for (const auto& m : mechanisms) w.cstr(m);
    w.u8(0);
  });
}

void write_authentication_sasl_continue(byte_buffer& out, std::string_view data) {
  write_authentication(out, auth_code::sasl_continue, as_bytes(data));
}

void write_authentication_sasl_final(byte_buffer& out, std::string_view data) {
  write_authentication(out, auth_code::sasl_final, as_bytes(data));
}

// ---- Password family ('p') -------------------------------------------------------------

std::optional<SaslInitialResponse> parse_sasl_initial_response(bytes_view body) {
  ByteReader r(body);
  SaslInitialResponse resp;
  resp.mechanism = r.cstr();
  const auto length = r.i32();
  if (!r.ok() || length < -1) return std::nullopt;
  if (length >= 0) resp.data = as_chars(r.bytes(static_cast<std::size_t>(length)));
  if (!r.at_end()) return std::nullopt;
  return resp;
}

std::optional<std::string> parse_password_message(bytes_view body) {
  const auto s = parse_single_cstr(body);
  if (!s) return std::nullopt;
  return std::string(*s);
}

void write_password_message(byte_buffer& out, std::string_view password) {
  message(out, 'p', [&](ByteWriter& w) { w.cstr(password); });
}

void write_sasl_initial_response(byte_buffer& out, std::string_view mechanism,
                                 std::string_view data) {
  message(out, 'p', [&](ByteWriter& w) {
    w.cstr(mechanism);
    w.i32(static_cast<std::int32_t>(data.size()));
    w.chars(data);
  });
}

void write_sasl_response(byte_buffer& out, std::string_view data) {
  message(out, 'p', [&](ByteWriter& w) { w.chars(data); });
}

// ---- Session start-up and status --------------------------------------------------------

std::optional<ParameterStatus> parse_parameter_status(bytes_view body) {
  ByteReader r(body);
  ParameterStatus status;
  status.name = r.cstr();
  status.value = r.cstr();
  if (!r.at_end()) return std::nullopt;
  return status;
}

void write_parameter_status(byte_buffer& out, std::string_view name, std::string_view value) {
  message(out, 'S', [&](ByteWriter& w) {
    w.cstr(name);
    w.cstr(value);
  });
}

std::optional<CancelRequest> parse_backend_key_data(bytes_view body) {
  ByteReader r(body);
  CancelRequest key;
  key.process_id = r.i32();
  key.secret_key = r.i32();
  if (!r.at_end()) return std::nullopt;
  return key;
}

void write_backend_key_data(byte_buffer& out, const CancelRequest& key) {
  message(out, 'K', [&](ByteWriter& w) {
    w.i32(key.process_id);
    w.i32(key.secret_key);
  });
}

std::optional<char> parse_ready_for_query(bytes_view body) {
  if (body.size() != 1) return std::nullopt;
  const auto status = static_cast<char>(body[0]);
  if (status != 'I' && status != 'T' && status != 'E') return std::nullopt;
  return status;
}

void write_ready_for_query(byte_buffer& out, char status) {
  message(out, 'Z', [&](ByteWriter& w) { w.u8(static_cast<std::uint8_t>(status)); });
}

// ---- Queries -----------------------------------------------------------------------------

std::optional<std::string_view> parse_query(bytes_view body) { return parse_single_cstr(body); }

void write_query(byte_buffer& out, std::string_view sql) {
  message(out, 'Q', [&](ByteWriter& w) { w.cstr(sql); });
}

void write_terminate(byte_buffer& out) {
  message(out, 'X', [](ByteWriter&) {});
}

void write_sync(byte_buffer& out) {
  message(out, 'S', [](ByteWriter&) {});
}

void write_exec_params(byte_buffer& out, std::string_view sql,
                       const std::vector<std::optional<std::string>>& params) {
  message(out, 'P', [&](ByteWriter& w) {
    w.cstr("");  // unnamed statement
    w.cstr(sql);
    w.i16(0);  // no parameter types: the server infers them
  });
  message(out, 'B', [&](ByteWriter& w) {
    w.cstr("");  // unnamed portal
    w.cstr("");  // unnamed statement
    w.i16(0);    // no parameter format codes: all text
    w.i16(static_cast<std::int16_t>(params.size()));
    for (const auto& p : params) {
      if (!p) {
        w.i32(-1);
        continue;
      }
      w.i32(static_cast<std::int32_t>(p->size()));
      w.chars(*p);
    }
    // libpq always sends one result format code (PQsendQueryGuts): text.
    w.i16(1);
    w.i16(0);
  });
  message(out, 'D', [](ByteWriter& w) {
    w.u8('P');
    w.cstr("");
  });
  message(out, 'E', [](ByteWriter& w) {
    w.cstr("");
    w.i32(0);  // no row limit
  });
  write_sync(out);
}

// ---- Result sets -------------------------------------------------------------------------

void write_row_description(byte_buffer& out, const std::vector<std::string>& columns) {
  constexpr std::int32_t text_oid = 25;
  message(out, 'T', [&](ByteWriter& w) {
    w.i16(static_cast<std::int16_t>(columns.size()));
    for (const auto& name : columns) {
      w.cstr(name);
      w.i32(0);  // table oid
      w.i16(0);  // column attribute number
      w.i32(text_oid);
      w.i16(-1);  // typlen: varlena
      w.i32(-1);  // typmod
      w.i16(0);   // text format
    }
  });
}

void write_data_row(byte_buffer& out, const std::vector<std::optional<std::string>>& fields) {
  message(out, 'D', [&](ByteWriter& w) {
    w.i16(static_cast<std::int16_t>(fields.size()));
    for (const auto& f : fields) {
      if (!f) {
        w.i32(-1);
        continue;
      }
      w.i32(static_cast<std::int32_t>(f->size()));
      w.chars(*f);
    }
  });
}

void write_command_complete(byte_buffer& out, std::string_view tag) {
  message(out, 'C', [&](ByteWriter& w) { w.cstr(tag); });
}

std::optional<std::vector<std::optional<std::string_view>>> parse_data_row(bytes_view body) {
  ByteReader r(body);
  const auto count = r.i16();
  if (!r.ok() || count < 0) return std::nullopt;
  std::vector<std::optional<std::string_view>> fields;
  // Each field needs at least its 4-byte length, so a count the body can't hold fails before
  // we reserve anything.
  if (static_cast<std::size_t>(count) * 4 > r.remaining()) return std::nullopt;
  fields.reserve(static_cast<std::size_t>(count));
  for (std::int16_t i = 0; i < count; ++i) {
    const auto length = r.i32();
    if (!r.ok() || length < -1) return std::nullopt;
    if (length == -1) {
      fields.emplace_back(std::nullopt);
      continue;
    }
    const auto bytes = r.bytes(static_cast<std::size_t>(length));
    if (!r.ok()) return std::nullopt;
    fields.emplace_back(as_chars(bytes));
  }
  if (!r.at_end()) return std::nullopt;
  return fields;
}

std::optional<std::string_view> parse_command_complete(bytes_view body) {
  return parse_single_cstr(body);
}

}  // namespace pgr::protocol
