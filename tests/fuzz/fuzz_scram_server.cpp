// Fuzzes ScramServer with client-first and client-final messages. Mode byte: bit 0 replays
// an honest client-first so the input is only the client-final (seeds carry a valid proof);
// bit 1 uses the mock verifier; bit 2 makes the connection TLS (channel-binding data set) and
// bit 3 says the client selected SCRAM-SHA-256-PLUS. Otherwise the input is "<client-first>\0<client-final>".
#include <string>
#include <variant>

#include "fuzz_support.hpp"
#include "protocol/base64.hpp"
#include "scram_fuzz_setup.hpp"

namespace {
using namespace pgr::protocol;
using pgr::fuzz::check;

void check_success(const ScramServer& server, const std::string& final_message) {
  check(final_message.starts_with("v="));
  const auto signature = base64_decode(std::string_view(final_message).substr(2));
  check(signature && signature->size() == 32);
  // Passing means the recovered ClientKey is the real one: it must log in to a backend that
  // holds the same verifier, as pgrouter will do with it.
  const auto& v = server.verifier();
  ScramServer backend(v, "backendnonce");
  auto proxy = ScramClient::from_keys({server.client_key(), v.server_key, v.salt, v.iterations},
                                      "proxynonce");
  const auto first = backend.handle_client_first(proxy.client_first());
  const auto final_msg = proxy.handle_server_first(std::get<std::string>(first));
  const auto verdict = backend.handle_client_final(std::get<std::string>(final_msg));
  check(std::holds_alternative<std::string>(verdict));
  check(!proxy.handle_server_final(std::get<std::string>(verdict)).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  bytes_view data(bytes, size);
  const auto mode = pgr::fuzz::take_byte(data);
  const auto input = as_chars(data);
  const ScramVerifier verifier =
      (mode & 2) != 0 ? scram_mock_verifier("someone", "secret") : pgr::fuzz::fuzz_verifier();
  ScramServer server(verifier, std::string(pgr::fuzz::k_server_nonce));
  const std::string binding(32, '\x5a');
  const bool tls = (mode & 4) != 0;
  const bool plus = (mode & 8) != 0;
  if (tls) server.set_channel_binding(binding, plus);

  std::string client_first;
  std::string_view client_final;
  if ((mode & 1) != 0) {
    auto honest = ScramClient::from_password(std::string(pgr::fuzz::k_password),
                                             std::string(pgr::fuzz::k_client_nonce));
    if (tls) honest.set_channel_binding(plus ? std::optional<std::string>(binding) : std::nullopt);
    client_first = honest.client_first();
    client_final = input;
  } else {
    const auto [first, rest] = pgr::fuzz::split_once(input, '\0');
    client_first = first;
    client_final = rest;
  }

  const auto server_first = server.handle_client_first(client_first);
  if (std::holds_alternative<ScramError>(server_first)) {
    check(!std::get<ScramError>(server_first).bad_password);
    check(std::holds_alternative<ScramError>(server.handle_client_final(client_final)));
    return 0;
  }
  const auto result = server.handle_client_final(client_final);
  if (const auto* ok = std::get_if<std::string>(&result)) {
    check((mode & 2) == 0);  // nothing passes the mock verifier
    check_success(server, *ok);
  }
  // Whatever happened, the exchange is over.
  check(std::holds_alternative<ScramError>(server.handle_client_final(client_final)));
  check(std::holds_alternative<ScramError>(server.handle_client_first(client_first)));
  return 0;
}
