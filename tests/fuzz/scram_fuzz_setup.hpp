// The fixed SCRAM identities the SCRAM fuzzers and make_corpus.py share, so that seeds can
// carry valid proofs and signatures and the fuzzers reach past the checks.
#pragma once

#include <string_view>

#include "protocol/scram.hpp"

namespace pgr::fuzz {

inline constexpr std::string_view k_password = "pencil";
inline constexpr std::string_view k_salt = "pgrouter-fuzz-salt";  // raw bytes
inline constexpr int k_iterations = 4096;
inline constexpr std::string_view k_client_nonce = "fuzzclientnonce";
inline constexpr std::string_view k_server_nonce = "fuzzservernonce";

inline const protocol::ScramVerifier& fuzz_verifier() {
  static const auto verifier =
      protocol::scram_verifier_from_password(k_password, k_salt, k_iterations);
  return verifier;
}

}  // namespace pgr::fuzz
