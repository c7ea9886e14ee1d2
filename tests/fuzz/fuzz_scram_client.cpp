// Fuzzes ScramClient with server-first and server-final messages. Mode byte: bit 0 logs in
// from keys (as pgrouter does with recovered keys), otherwise from the password. The input is
// "<server-first>\0<server-final>"; seeds carry a valid exchange for the shared identity.
#include <charconv>
#include <string>
#include <variant>

#include "fuzz_support.hpp"
#include "protocol/base64.hpp"
#include "scram_fuzz_setup.hpp"

namespace {
using namespace pgr::protocol;
using pgr::fuzz::check;

// Keys as pgrouter holds them after a client logged in: recovered by a ScramServer.
const ScramClientKeys& fuzz_keys() {
  static const ScramClientKeys keys = [] {
    const auto& v = pgr::fuzz::fuzz_verifier();
    ScramServer server(v, std::string(pgr::fuzz::k_server_nonce));
    auto client = ScramClient::from_password(std::string(pgr::fuzz::k_password),
                                             std::string(pgr::fuzz::k_client_nonce));
    const auto first = server.handle_client_first(client.client_first());
    const auto final_msg = client.handle_server_first(std::get<std::string>(first));
    const auto verdict = server.handle_client_final(std::get<std::string>(final_msg));
    check(!client.handle_server_final(std::get<std::string>(verdict)).has_value());
    return ScramClientKeys{server.client_key(), v.server_key, v.salt, v.iterations};
  }();
  return keys;
}

// PBKDF2 runs the server's iteration count: keep from-password runs cheap.
bool cheap_iterations(std::string_view server_first) {
  const auto at = server_first.find(",i=");
  if (at == std::string_view::npos) return true;  // rejected before PBKDF2
  const auto digits = server_first.substr(at + 3);
  int iterations = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), iterations);
  return ec != std::errc{} || iterations <= 64;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  bytes_view data(bytes, size);
  const auto mode = pgr::fuzz::take_byte(data);
  const auto [server_first, server_final] = pgr::fuzz::split_once(as_chars(data), '\0');
  const bool from_keys = (mode & 1) != 0;
  if (!from_keys && !cheap_iterations(server_first)) return 0;

  auto client = from_keys
                    ? ScramClient::from_keys(fuzz_keys(), std::string(pgr::fuzz::k_client_nonce))
                    : ScramClient::from_password(std::string(pgr::fuzz::k_password),
                                                 std::string(pgr::fuzz::k_client_nonce));
  // Bit 1: a TLS connection; bit 2: the server offered SCRAM-SHA-256-PLUS (binding data).
  const bool tls = (mode & 2) != 0;
  const bool plus = (mode & 4) != 0;
  if (tls) client.set_channel_binding(plus ? std::optional<std::string>(std::string(32, '\x5a')) : std::nullopt);
  const std::string gs2 = !tls ? "n,," : plus ? "p=tls-server-end-point,," : "y,,";
  check(client.client_first() == gs2 + "n=,r=" + std::string(pgr::fuzz::k_client_nonce));
  const auto client_final = client.handle_server_first(server_first);
  if (const auto* error = std::get_if<ScramError>(&client_final)) {
    check(!error->bad_password);
    check(client.handle_server_final(server_final).has_value());
    return 0;
  }
  const auto& message = std::get<std::string>(client_final);
  check(message.starts_with("c=" + base64_encode(as_bytes(gs2 + (tls && plus ? std::string(32, '\x5a') : ""))) +
                            ",r=" + std::string(pgr::fuzz::k_client_nonce)));
  const auto verdict = client.handle_server_final(server_final);
  if (!verdict) check(server_final.starts_with("v="));
  check(client.handle_server_final(server_final).has_value());  // the exchange is over
  return 0;
}
