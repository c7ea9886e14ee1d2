// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it, in both roles, on OpenSSL.
//
// Server role: pgrouter checks a client against a stored verifier and, from the client's
// proof, recovers ClientKey (ClientProof XOR HMAC(StoredKey, AuthMessage)) — the key that lets
// it log in to backends holding the same verifier without knowing the password. ClientKey is
// password-equivalent: it lives in memory only and is never logged.
// Client role: pgrouter logs in to a backend, from a plain password or from recovered keys.
// Channel binding (SCRAM-SHA-256-PLUS, tls-server-end-point, RFC 5929) per TLS leg: each role
// is given its leg's binding data (the hash of the server certificate of that connection) and
// puts it in, or checks it against, the c= attribute; AuthMessage covers it either way.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/byte_io.hpp"

namespace pgr::protocol {

inline constexpr std::string_view k_scram_sha_256 = "SCRAM-SHA-256";
inline constexpr std::string_view k_scram_sha_256_plus = "SCRAM-SHA-256-PLUS";
inline constexpr std::string_view k_tls_server_end_point = "tls-server-end-point";
using scram_key = std::array<std::uint8_t, 32>;

// "SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>" as in pg_authid.
struct ScramVerifier {
  int iterations = 0;
  std::string salt;  // raw bytes
  scram_key stored_key{};
  scram_key server_key{};
};
std::optional<ScramVerifier> parse_scram_verifier(std::string_view secret);
std::string format_scram_verifier(const ScramVerifier& verifier);
// The verifier PostgreSQL would store for this password (no SASLprep: ASCII passwords only
// are guaranteed to match the server's normalisation).
ScramVerifier scram_verifier_from_password(std::string_view password, std::string_view salt,
                                           int iterations);
// A deterministic fake verifier for an unknown user, so that the exchange (salt, iterations)
// and the failure look the same as for a wrong password; `secret` is a per-process random.
ScramVerifier scram_mock_verifier(std::string_view user, std::string_view secret);

// 18 random bytes, base64-encoded (printable, no commas), from OpenSSL's RAND_bytes.
std::string scram_random_nonce();

struct ScramError {
  std::string message;        // for the log and the client
  bool bad_password = false;  // true: the proof was wrong (28P01); false: malformed (08P01)
};

class ScramServer {
 public:
  ScramServer(ScramVerifier verifier, std::string server_nonce);

  // The connection is TLS and this is its tls-server-end-point data: a client that selected
  // `plus` must bind to it; one that says it could bind but thinks the server cannot ("y")
  // is refused (a downgrade). Without a call, "p" is refused.
  void set_channel_binding(std::string data, bool plus_selected) {
    binding_data_ = std::move(data);
    plus_selected_ = plus_selected;
  }

  // client-first-message -> server-first-message
  std::variant<std::string, ScramError> handle_client_first(std::string_view message);
  // client-final-message -> server-final-message ("v=..."); afterwards client_key() is valid
  std::variant<std::string, ScramError> handle_client_final(std::string_view message);

  const scram_key& client_key() const { return client_key_; }
  const ScramVerifier& verifier() const { return verifier_; }

 private:
  ScramVerifier verifier_;
  std::string server_nonce_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string combined_nonce_;
  std::string gs2_header_;
  std::optional<std::string> binding_data_;
  bool plus_selected_ = false;
  scram_key client_key_{};
  int step_ = 0;
};

// What pgrouter needs to answer a backend's SCRAM challenge without the password.
// The backend's verifier must have the same salt and iterations (it does when the secret came
// from that cluster's pg_authid or from the same auth_file line).
struct ScramClientKeys {
  scram_key client_key{};
  scram_key server_key{};
  std::string salt;  // raw
  int iterations = 0;
  bool operator==(const ScramClientKeys&) const = default;
};

class ScramClient {
 public:
  static ScramClient from_password(std::string password, std::string client_nonce);
  static ScramClient from_keys(ScramClientKeys keys, std::string client_nonce);

  // Before client_first(): the connection is TLS. With binding data (the server offered
  // SCRAM-SHA-256-PLUS) the exchange binds to it ("p=tls-server-end-point"); without, it says
  // "y" (the client could bind, the server did not offer it).
  void set_channel_binding(std::optional<std::string> data) {
    tls_ = true;
    binding_data_ = std::move(data);
  }
  std::string client_first() const;  // "<gs2 header>n=,r=<nonce>"
  // server-first-message -> client-final-message
  std::variant<std::string, ScramError> handle_server_first(std::string_view message);
  // server-final-message: nullopt when the server proved it knows the verifier
  std::optional<ScramError> handle_server_final(std::string_view message);

 private:
  ScramClient() = default;
  std::optional<std::string> password_;
  std::optional<ScramClientKeys> keys_;
  std::string gs2_header() const;
  std::string client_nonce_;
  bool tls_ = false;
  std::optional<std::string> binding_data_;
  std::string auth_message_;
  scram_key server_key_{};
  int step_ = 0;
};

}  // namespace pgr::protocol
