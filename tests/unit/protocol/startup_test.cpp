// Startup phase: length peeking, decoding every packet kind and every error the server
// raises, byte-exact builders, and NegotiateProtocolVersion.
#include "protocol/startup.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace pgr::protocol {
namespace {
using namespace std::literals;
using test::be32;
using test::bytes_of;

// What psql 15 sends: user, database, application_name, client_encoding (hand-written).
constexpr auto k_psql_startup =
    "\0\0\0\x4a\0\x03\0\0"
    "user\0app\0database\0app\0application_name\0psql\0client_encoding\0UTF8\0\0"sv;

std::string startup_with(std::uint32_t code, std::string_view params) {
  return be32(static_cast<std::uint32_t>(8 + params.size())) + be32(code) + std::string(params);
}

StartupError expect_error(std::string_view packet) {
  const auto result = decode_startup(as_bytes(packet));
  EXPECT_TRUE(std::holds_alternative<StartupError>(result));
  if (!std::holds_alternative<StartupError>(result)) return {};
  return std::get<StartupError>(result);
}

StartupMessage expect_startup(std::string_view packet) {
  const auto result = decode_startup(as_bytes(packet));
  if (const auto* error = std::get_if<StartupError>(&result)) {
    ADD_FAILURE() << error->sqlstate << " " << error->message;
    return {};
  }
  const auto& p = std::get<StartupPacket>(result);
  EXPECT_TRUE(std::holds_alternative<StartupMessage>(p));
  return std::holds_alternative<StartupMessage>(p) ? std::get<StartupMessage>(p) : StartupMessage{};
}

TEST(PeekStartupLength, NeedsFourBytes) {
  EXPECT_EQ(peek_startup_length(as_bytes(""sv)), std::nullopt);
  EXPECT_EQ(peek_startup_length(as_bytes("\0\0\0"sv)), std::nullopt);
}

TEST(PeekStartupLength, AcceptsEightToTenThousand) {
  for (std::uint32_t length : {8u, 16u, 74u, 10000u}) {
    const auto r = peek_startup_length(as_bytes(be32(length)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->length, length);
    EXPECT_FALSE(r->error.has_value());
  }
}

TEST(PeekStartupLength, RejectsOtherLengths) {
  for (std::uint32_t length : {0u, 3u, 7u, 10001u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    const auto r = peek_startup_length(as_bytes(be32(length) + "rest"));
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->error.has_value()) << length;
    EXPECT_EQ(r->error->sqlstate, "08P01");
    EXPECT_EQ(r->error->message, "invalid length of startup packet");
  }
}

TEST(DecodeStartup, PsqlStartupMessage) {
  const auto s = expect_startup(k_psql_startup);
  EXPECT_EQ(s.major, 3);
  EXPECT_EQ(s.minor, 0);
  ASSERT_EQ(s.parameters.size(), 4u);
  EXPECT_EQ(s.parameters[0], (std::pair<std::string, std::string>{"user", "app"}));
  EXPECT_EQ(*s.find("database"), "app");
  EXPECT_EQ(*s.find("application_name"), "psql");
  EXPECT_EQ(*s.find("client_encoding"), "UTF8");
  EXPECT_EQ(s.find("options"), nullptr);
  EXPECT_FALSE(s.needs_negotiation());
}

TEST(DecodeStartup, SslAndGssRequests) {
  const auto ssl = decode_startup(as_bytes("\0\0\0\x08\x04\xd2\x16\x2f"sv));
  EXPECT_TRUE(std::holds_alternative<SslRequest>(std::get<StartupPacket>(ssl)));
  const auto gss = decode_startup(as_bytes("\0\0\0\x08\x04\xd2\x16\x30"sv));
  EXPECT_TRUE(std::holds_alternative<GssEncRequest>(std::get<StartupPacket>(gss)));
  EXPECT_EQ(expect_error(startup_with(k_ssl_request_code, "\0\0\0\0"sv)).sqlstate, "08P01");
}

TEST(DecodeStartup, CancelRequest) {
  const auto packet = "\0\0\0\x10\x04\xd2\x16\x2e\0\0\x30\x39\xde\xad\xbe\xef"sv;
  const auto result = decode_startup(as_bytes(packet));
  const auto& cancel = std::get<CancelRequest>(std::get<StartupPacket>(result));
  EXPECT_EQ(cancel.process_id, 12345);
  EXPECT_EQ(cancel.secret_key, static_cast<std::int32_t>(0xdeadbeefu));

  const auto short_cancel = expect_error(startup_with(k_cancel_request_code, "\0\0\0\x01"sv));
  EXPECT_EQ(short_cancel.sqlstate, "08P01");
  EXPECT_EQ(expect_error(startup_with(k_cancel_request_code, std::string(12, 'x'))).sqlstate,
            "08P01");
}

TEST(DecodeStartup, LengthMustMatchAndBeInRange) {
  EXPECT_EQ(expect_error("\0\0\0"sv).sqlstate, "08P01");
  EXPECT_EQ(expect_error(be32(3) + "\0\0\0\0"s).sqlstate, "08P01");
  EXPECT_EQ(expect_error(be32(10001) + std::string(9997, '\0')).sqlstate, "08P01");
  EXPECT_EQ(expect_error(be32(0x7fffffff) + be32(k_protocol_3_0)).sqlstate, "08P01");
  // Declared length disagreeing with the bytes given.
  EXPECT_EQ(expect_error(be32(20) + std::string(k_psql_startup.substr(4))).message,
            "invalid length of startup packet");
}

TEST(DecodeStartup, UnsupportedMajorVersion) {
  const auto v4 = expect_error(startup_with(4u << 16, "user\0app\0\0"sv));
  EXPECT_EQ(v4.sqlstate, "0A000");
  EXPECT_EQ(v4.message, "unsupported frontend protocol 4.0: server supports 3.0 to 3.0");
  const auto v2 = expect_error(startup_with(2u << 16, "user\0app\0\0"sv));
  EXPECT_EQ(v2.message, "unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
  const auto v1234 = expect_error(startup_with(0x04d21631u, ""sv));
  EXPECT_EQ(v1234.message, "unsupported frontend protocol 1234.5681: server supports 3.0 to 3.0");
}

TEST(DecodeStartup, NewerMinorAndProtocolOptionsNeedNegotiation) {
  const auto s = expect_startup(startup_with(
      (3u << 16) | 1u, "user\0app\0_pq_.compression\0on\0_pq_.other\0x\0database\0db\0\0"sv));
  EXPECT_EQ(s.minor, 1);
  EXPECT_EQ(s.protocol_options, (std::vector<std::string>{"_pq_.compression", "_pq_.other"}));
  EXPECT_EQ(s.parameters.size(), 2u);
  EXPECT_EQ(s.find("_pq_.compression"), nullptr);
  EXPECT_TRUE(s.needs_negotiation());

  const auto only_option = expect_startup(startup_with(k_protocol_3_0, "user\0u\0_pq_.x\0\0\0"sv));
  EXPECT_TRUE(only_option.needs_negotiation());
  const auto minor_only = expect_startup(startup_with((3u << 16) | 2u, "user\0u\0\0"sv));
  EXPECT_TRUE(minor_only.needs_negotiation());
  EXPECT_TRUE(minor_only.protocol_options.empty());
}

TEST(DecodeStartup, LayoutErrors) {
  const std::string layout = "invalid startup packet layout: expected terminator as last byte";
  for (auto params : {""sv, "user\0app\0"sv, "user\0app\0\0\0"sv, "user\0app\0\0x"sv, "user\0"sv,
                      "user"sv, "user\0app"sv}) {
    const auto e = expect_error(startup_with(k_protocol_3_0, params));
    EXPECT_EQ(e.sqlstate, "08P01");
    EXPECT_EQ(e.message, layout);
  }
}

TEST(DecodeStartup, UserIsRequired) {
  for (auto params : {"\0"sv, "database\0db\0\0"sv, "user\0\0\0"sv}) {
    const auto e = expect_error(startup_with(k_protocol_3_0, params));
    EXPECT_EQ(e.sqlstate, "28000");
    EXPECT_EQ(e.message, "no PostgreSQL user name specified in startup packet");
  }
}

TEST(DecodeStartup, LaterDuplicateWins) {
  const auto s = expect_startup(startup_with(k_protocol_3_0, "user\0a\0user\0b\0\0"sv));
  EXPECT_EQ(*s.find("user"), "b");
  EXPECT_EQ(s.parameters.size(), 2u);
}

TEST(StartupBuilders, StartupMessageIsByteExact) {
  byte_buffer out;
  write_startup_message(out, {{"user", "app"},
                              {"database", "app"},
                              {"application_name", "psql"},
                              {"client_encoding", "UTF8"}});
  EXPECT_EQ(test::to_string(out), k_psql_startup);
  EXPECT_EQ(expect_startup(test::to_string(out)).parameters.size(), 4u);
}

TEST(StartupBuilders, CancelAndSslRequestsAreByteExact) {
  byte_buffer out;
  write_cancel_request(out, CancelRequest{12345, static_cast<std::int32_t>(0xdeadbeefu)});
  EXPECT_EQ(test::to_string(out), "\0\0\0\x10\x04\xd2\x16\x2e\0\0\x30\x39\xde\xad\xbe\xef"sv);
  out.clear();
  write_ssl_request(out);
  EXPECT_EQ(test::to_string(out), "\0\0\0\x08\x04\xd2\x16\x2f"sv);
}

TEST(StartupBuilders, NegotiateProtocolVersion) {
  StartupMessage s;
  s.minor = 2;
  s.protocol_options = {"_pq_.a", "_pq_.bc"};
  byte_buffer out;
  write_negotiate_protocol_version(out, s);
  // 'v', length, newest version supported (3.0, as the server encodes it), count, names.
  EXPECT_EQ(test::to_string(out), "v\0\0\0\x1b\0\x03\0\0\0\0\0\x02_pq_.a\0_pq_.bc\0"sv);
}

}  // namespace
}  // namespace pgr::protocol
