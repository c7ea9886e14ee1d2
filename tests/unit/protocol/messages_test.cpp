// Typed message builders and parsers: build then parse back, byte-exact checks against
// hand-written bytes, and rejection of malformed bodies.
#include "protocol/messages.hpp"

#include <gtest/gtest.h>

#include "protocol/frame_scanner.hpp"
#include "test_support.hpp"

namespace pgr::protocol {
namespace {
using namespace std::literals;
using test::bytes_of;
using test::frame;
using test::to_string;

// The single message in `out`, checked to frame correctly.
MessageView only_message(const byte_buffer& out, char type) {
  const auto view = view_message(out);
  EXPECT_TRUE(view.has_value());
  if (!view) return {};
  EXPECT_EQ(view->type, type);
  return *view;
}

TEST(ViewMessage, SplitsFramedMessages) {
  const auto q = bytes_of(frame('Q', "x\0"sv));
  const auto v = view_message(q);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->type, 'Q');
  EXPECT_EQ(as_chars(v->body), "x\0"sv);
  EXPECT_FALSE(view_message(bytes_of("Q\0\0\0\x05x\0"sv)));  // length disagrees
  EXPECT_FALSE(view_message(bytes_of("Q\0\0\0"sv)));
  EXPECT_FALSE(view_message(bytes_of("Q\0\0\0\x03"sv)));
  EXPECT_TRUE(view_message(bytes_of("S\0\0\0\x04"sv)));
}

TEST(ErrorResponse, IsByteExact) {
  byte_buffer out;
  write_error_response(out, {"FATAL", "28P01", "bad", "", ""});
  EXPECT_EQ(to_string(out),
            "E\0\0\0\x1f"
            "SFATAL\0VFATAL\0C28P01\0Mbad\0\0"sv);
}

TEST(ErrorResponse, RoundTripsWithDetailAndHint) {
  const ErrorFields fields{"ERROR", "08P01", "protocol violation", "the detail", "a hint"};
  byte_buffer out;
  write_error_response(out, fields);
  const auto parsed = parse_error_response(only_message(out, 'E').body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->severity, "ERROR");
  EXPECT_EQ(parsed->sqlstate, "08P01");
  EXPECT_EQ(parsed->message, "protocol violation");
  EXPECT_EQ(parsed->detail, "the detail");
  EXPECT_EQ(parsed->hint, "a hint");

  out.clear();
  write_notice_response(out, {"NOTICE", "00000", "note", "", ""});
  const auto notice = parse_error_response(only_message(out, 'N').body);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->severity, "NOTICE");
  EXPECT_TRUE(notice->detail.empty());
}

TEST(ErrorResponse, ParsesServerStyleFields) {
  // Localized 'S', raw 'V', and fields we skip (position, file, line, routine).
  const auto body =
      "SFEHLER\0VERROR\0C42601\0Msyntax error\0P8\0Fscan.l\0L1188\0Rscanner_yyerror\0\0"sv;
  const auto parsed = parse_error_response(as_bytes(body));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->severity, "ERROR");
  EXPECT_EQ(parsed->sqlstate, "42601");
  EXPECT_EQ(parsed->message, "syntax error");

  const auto old_server = parse_error_response(as_bytes("SFATAL\0C57P01\0Mbye\0\0"sv));
  ASSERT_TRUE(old_server);
  EXPECT_EQ(old_server->severity, "FATAL");
}

TEST(ErrorResponse, RejectsMalformedBodies) {
  for (auto body : {""sv, "SERROR"sv, "SERROR\0"sv, "SERROR\0\0x"sv, "S"sv}) {
    EXPECT_FALSE(parse_error_response(as_bytes(body))) << body;
  }
  EXPECT_TRUE(parse_error_response(as_bytes("\0"sv)));
}

TEST(Authentication, BuildersAndParser) {
  byte_buffer out;
  write_authentication_ok(out);
  EXPECT_EQ(to_string(out), "R\0\0\0\x08\0\0\0\0"sv);
  EXPECT_EQ(parse_authentication(only_message(out, 'R').body)->code, auth_code::ok);

  out.clear();
  write_authentication_cleartext(out);
  EXPECT_EQ(parse_authentication(only_message(out, 'R').body)->code, auth_code::cleartext_password);

  out.clear();
  write_authentication_md5(out, {0x01, 0x00, 0xfe, 0xff});
  EXPECT_EQ(to_string(out), "R\0\0\0\x0c\0\0\0\x05\x01\0\xfe\xff"sv);
  const auto md5 = parse_authentication(only_message(out, 'R').body);
  ASSERT_TRUE(md5);
  EXPECT_EQ(md5->code, auth_code::md5_password);
  EXPECT_EQ(md5->md5_salt, (std::array<std::uint8_t, 4>{0x01, 0x00, 0xfe, 0xff}));
}

TEST(Authentication, SaslFamily) {
  byte_buffer out;
  write_authentication_sasl(out, {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"});
  const auto sasl = parse_authentication(only_message(out, 'R').body);
  ASSERT_TRUE(sasl);
  EXPECT_EQ(sasl->code, auth_code::sasl);
  EXPECT_EQ(sasl->mechanisms, (std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}));

  out.clear();
  write_authentication_sasl_continue(out, "r=abc,s=c2FsdA==,i=4096");
  const auto cont = parse_authentication(only_message(out, 'R').body);
  EXPECT_EQ(cont->code, auth_code::sasl_continue);
  EXPECT_EQ(cont->data, "r=abc,s=c2FsdA==,i=4096");

  out.clear();
  write_authentication_sasl_final(out, "v=xyz");
  const auto fin = parse_authentication(only_message(out, 'R').body);
  EXPECT_EQ(fin->code, auth_code::sasl_final);
  EXPECT_EQ(fin->data, "v=xyz");
}

TEST(Authentication, RejectsMalformedBodies) {
  for (auto body : {""sv, "\0\0\0"sv, "\0\0\0\0x"sv, "\0\0\0\x05\x01\x02\x03"sv,
                    "\0\0\0\x05\x01\x02\x03\x04\x05"sv, "\0\0\0\x0aSCRAM-SHA-256\0"sv,
                    "\0\0\0\x0aSCRAM-SHA-256"sv, "\0\0\0\x0a\0x"sv, "\0\0\0\x03x"sv}) {
    EXPECT_FALSE(parse_authentication(as_bytes(body)));
  }
  // GSS continuation carries data we don't decode; the code alone is returned.
  const auto gss = parse_authentication(as_bytes("\0\0\0\x08token"sv));
  ASSERT_TRUE(gss);
  EXPECT_EQ(gss->code, auth_code::gss_continue);
}

TEST(PasswordFamily, SaslInitialResponseIsByteExact) {
  byte_buffer out;
  write_sasl_initial_response(out, "SCRAM-SHA-256", "n,,n=,r=abc");
  EXPECT_EQ(to_string(out),
            "p\0\0\0\x21"
            "SCRAM-SHA-256\0\0\0\0\x0bn,,n=,r=abc"sv);
  const auto parsed = parse_sasl_initial_response(only_message(out, 'p').body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(parsed->data, "n,,n=,r=abc");
}

TEST(PasswordFamily, SaslInitialResponseEdgeCases) {
  const auto no_data = parse_sasl_initial_response(as_bytes("SCRAM-SHA-256\0\xff\xff\xff\xff"sv));
  ASSERT_TRUE(no_data);
  EXPECT_TRUE(no_data->data.empty());
  const auto empty = parse_sasl_initial_response(as_bytes("M\0\0\0\0\0"sv));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->mechanism, "M");
  for (auto body : {""sv, "M"sv, "M\0"sv, "M\0\0\0\0\x02x"sv, "M\0\0\0\0\x01xy"sv,
                    "M\0\xff\xff\xff\xfe"sv, "M\0\xff\xff\xff\xffx"sv, "M\0\x7f\xff\xff\xffx"sv}) {
    EXPECT_FALSE(parse_sasl_initial_response(as_bytes(body)));
  }
}

TEST(PasswordFamily, PasswordAndSaslResponse) {
  byte_buffer out;
  write_password_message(out, "md5c1007ebbc6ecc151a46d7e2af0f47b66");
  EXPECT_EQ(parse_password_message(only_message(out, 'p').body),
            "md5c1007ebbc6ecc151a46d7e2af0f47b66");
  EXPECT_FALSE(parse_password_message(as_bytes("abc"sv)));
  EXPECT_FALSE(parse_password_message(as_bytes("abc\0d"sv)));
  EXPECT_FALSE(parse_password_message(as_bytes(""sv)));

  out.clear();
  write_sasl_response(out, "c=biws,r=abc,p=xyz");
  EXPECT_EQ(to_string(out),
            "p\0\0\0\x16"
            "c=biws,r=abc,p=xyz"sv);
  EXPECT_EQ(parse_sasl_response(only_message(out, 'p').body), "c=biws,r=abc,p=xyz");
}

TEST(SessionStart, ParameterStatus) {
  byte_buffer out;
  write_parameter_status(out, "server_version", "15.5");
  EXPECT_EQ(to_string(out),
            "S\0\0\0\x18server_version\0"
            "15.5\0"sv);
  const auto p = parse_parameter_status(only_message(out, 'S').body);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "server_version");
  EXPECT_EQ(p->value, "15.5");
  EXPECT_FALSE(parse_parameter_status(as_bytes("a\0"sv)));
  EXPECT_FALSE(parse_parameter_status(as_bytes("a\0b\0c"sv)));
}

TEST(SessionStart, BackendKeyData) {
  byte_buffer out;
  write_backend_key_data(out, {4242, -7});
  EXPECT_EQ(to_string(out), "K\0\0\0\x0c\0\0\x10\x92\xff\xff\xff\xf9"sv);
  const auto key = parse_backend_key_data(only_message(out, 'K').body);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->process_id, 4242);
  EXPECT_EQ(key->secret_key, -7);
  EXPECT_FALSE(parse_backend_key_data(as_bytes("1234567"sv)));
  EXPECT_FALSE(parse_backend_key_data(as_bytes("123456789"sv)));
}

TEST(SessionStart, ReadyForQuery) {
  for (char status : {'I', 'T', 'E'}) {
    byte_buffer out;
    write_ready_for_query(out, status);
    EXPECT_EQ(to_string(out), "Z\0\0\0\x05"s + status);
    EXPECT_EQ(parse_ready_for_query(only_message(out, 'Z').body), status);
  }
  EXPECT_FALSE(parse_ready_for_query(as_bytes("X"sv)));
  EXPECT_FALSE(parse_ready_for_query(as_bytes(""sv)));
  EXPECT_FALSE(parse_ready_for_query(as_bytes("II"sv)));
}

TEST(Queries, SimpleQuerySyncTerminate) {
  byte_buffer out;
  write_query(out, "select 1");
  EXPECT_EQ(to_string(out), "Q\0\0\0\x0dselect 1\0"sv);
  EXPECT_EQ(parse_query(only_message(out, 'Q').body), "select 1");
  EXPECT_FALSE(parse_query(as_bytes("select 1"sv)));
  EXPECT_FALSE(parse_query(as_bytes("a\0b\0"sv)));

  out.clear();
  write_sync(out);
  write_terminate(out);
  EXPECT_EQ(to_string(out), "S\0\0\0\x04X\0\0\0\x04"sv);
}

TEST(Queries, ExecParamsIsWhatLibpqSends) {
  byte_buffer out;
  write_exec_params(out, "select $1, $2", {std::string("ab"), std::nullopt});
  const auto expected = "P\0\0\0\x15\0select $1, $2\0\0\0"s +
                        "B\0\0\0\x18\0\0\0\0\0\x02\0\0\0\x02"
                        "ab\xff\xff\xff\xff\0\x01\0\0"s +
                        "D\0\0\0\x06P\0"s + "E\0\0\0\x09\0\0\0\0\0"s + "S\0\0\0\x04"s;
  EXPECT_EQ(to_string(out), expected);

  // And it frames as five frontend messages.
  FrameScanner scanner({});
  bytes_view rest(out);
  std::string types;
  while (!rest.empty()) {
    const auto e = scanner.next(rest);
    ASSERT_EQ(e.kind, FrameEvent::Kind::message);
    types += e.type;
    rest = rest.subspan(e.consumed);
  }
  EXPECT_EQ(types, "PBDES");
}

TEST(ResultSets, RowDescriptionIsTextColumns) {
  byte_buffer out;
  write_row_description(out, {"name", "value"});
  const auto column = [](std::string_view name) {
    return std::string(name) + "\0\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0"s;
  };
  const auto body = "\0\x02"s + column("name") + column("value");
  EXPECT_EQ(to_string(out), frame('T', body));
}

TEST(ResultSets, DataRowRoundTrip) {
  byte_buffer out;
  write_data_row(out, {std::string("1"), std::nullopt, std::string("")});
  EXPECT_EQ(to_string(out),
            "D\0\0\0\x13\0\x03\0\0\0\x01"
            "1\xff\xff\xff\xff\0\0\0\0"sv);
  const auto row = parse_data_row(only_message(out, 'D').body);
  ASSERT_TRUE(row);
  ASSERT_EQ(row->size(), 3u);
  EXPECT_EQ((*row)[0], "1");
  EXPECT_EQ((*row)[1], std::nullopt);
  EXPECT_EQ((*row)[2], "");
}

TEST(ResultSets, DataRowRejectsMalformedBodies) {
  for (auto body : {""sv, "\0"sv, "\xff\xff"sv, "\0\x01"sv, "\0\x01\0\0\0\x02x"sv,
                    "\0\x01\xff\xff\xff\xfe"sv, "\0\x01\0\0\0\0x"sv, "\x7f\xff\0\0\0\0"sv}) {
    EXPECT_FALSE(parse_data_row(as_bytes(body)));
  }
  EXPECT_TRUE(parse_data_row(as_bytes("\0\0"sv)));
}

TEST(ResultSets, CommandComplete) {
  byte_buffer out;
  write_command_complete(out, "SHOW");
  EXPECT_EQ(to_string(out), "C\0\0\0\x09SHOW\0"sv);
  EXPECT_EQ(parse_command_complete(only_message(out, 'C').body), "SHOW");
  EXPECT_FALSE(parse_command_complete(as_bytes("SHOW"sv)));
}

}  // namespace
}  // namespace pgr::protocol
