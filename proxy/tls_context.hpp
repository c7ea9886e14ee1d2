// The OpenSSL contexts built from [tls]: one for clients (pgrouter as the TLS server), one for
// backends (pgrouter as the TLS client). Built at start and on each reload that changes [tls];
// sessions take the current pair when they start TLS and keep it, so a reload (renewed
// certificates) affects new connections only and open sessions carry on.
//
// Thread rules: built on main; an immutable TlsContexts is shared by workers (an SSL_CTX is
// safe to use from several threads once set up).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace pgr::proxy {

struct TlsContexts {
  std::shared_ptr<SSL_CTX> clients;   // null: client_mode = disable
  std::shared_ptr<SSL_CTX> backends;  // null: server_mode = disable
  bool client_certs_requested = false;  // ca_file set: clients are asked for a certificate
};

struct TlsBuild {
  std::shared_ptr<const TlsContexts> contexts;  // null when error is set
  std::string error;  // "tls.key_file: ..." — names the key; never file contents
};

[[nodiscard]] TlsBuild make_tls_contexts(const conf::TlsConfig& config);

// RFC 5929 tls-server-end-point: the digest for a certificate signed with `signature_md_nid`
// (MD5 and SHA-1 become SHA-256; anything else stays); NID_undef when unusable.
[[nodiscard]] int channel_binding_digest_nid(int signature_md_nid);

// tls-server-end-point channel-binding data for a server certificate: its hash with the
// digest RFC 5929 names; nullopt when the signature's digest is unknown.
[[nodiscard]] std::optional<std::string> tls_server_end_point(X509* certificate);

// The current contexts; workers read, main publishes.
class TlsSlot {
 public:
  std::shared_ptr<const TlsContexts> get() const { return current_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const TlsContexts> contexts) {
    current_.store(std::move(contexts), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const TlsContexts>> current_;
};

}  // namespace pgr::proxy
