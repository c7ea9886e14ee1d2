// Building SSL_CTXs from [tls] (see tls_context.hpp).
#include "proxy/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

namespace pgr::proxy {

namespace {

constexpr unsigned char k_alpn_postgresql[] = "\x0apostgresql";

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

std::string ssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "OpenSSL error " + std::to_string(code);
}

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::vector<X509Ptr> read_certificates(const conf::PemFile& pem) {
  std::vector<X509Ptr> out;
  auto bio = memory_bio(pem.content);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(cert);
  ERR_clear_error();  // the end of the file reads as an error
  return out;
}

std::string problem(std::string_view key, const conf::PemFile& pem, std::string_view what) {
  return "tls." + std::string(key) + ": " + pem.path + ": " + std::string(what);
}

// Common to both directions: protocol floor, ciphers, no renegotiation, no compression.
std::string configure_common(SSL_CTX* ctx, const conf::TlsConfig& c) {
  const int floor = c.min_protocol == conf::TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, floor) != 1) return "tls.min_protocol: " + ssl_reason();
  if (SSL_CTX_set_cipher_list(ctx, c.ciphers.c_str()) != 1) return "tls.ciphers: no usable cipher in the list";
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return {};
}

std::string use_certificate(SSL_CTX* ctx, const conf::PemFile& cert_pem, std::string_view cert_key,
                            const conf::PemFile& key_pem, std::string_view key_key) {
  auto certs = read_certificates(cert_pem);
  if (certs.empty()) return problem(cert_key, cert_pem, "no certificate in the file");
  if (SSL_CTX_use_certificate(ctx, certs[0].get()) != 1) return problem(cert_key, cert_pem, ssl_reason());
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, certs[i].get()) != 1) return problem(cert_key, cert_pem, ssl_reason());
  }
  auto bio = memory_bio(key_pem.content);
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return problem(key_key, key_pem, "no usable private key in the file (encrypted keys are not supported)");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return problem(key_key, key_pem, "does not match tls." + std::string(cert_key));
  }
  return {};
}

std::string use_ca(SSL_CTX* ctx, const conf::PemFile& pem, std::string_view key, bool list_for_clients) {
  auto certs = read_certificates(pem);
  if (certs.empty()) return problem(key, pem, "no certificate in the file");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = list_for_clients ? sk_X509_NAME_new_null() : nullptr;
  for (const auto& cert : certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      ERR_clear_error();  // a duplicate is harmless
    }
    if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert.get())));
  }
  if (names) SSL_CTX_set_client_CA_list(ctx, names);
  return {};
}

// ALPN towards clients: "postgresql" when offered; a client offering only other protocols
// is refused (as PostgreSQL 17); none offered: no ALPN (direct TLS then fails its own check).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, k_alpn_postgresql, sizeof k_alpn_postgresql - 1, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

std::string build_client_side(const conf::TlsConfig& c, TlsContexts& out) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return "tls: cannot create an OpenSSL context: " + ssl_reason();
  if (auto err = configure_common(ctx.get(), c); !err.empty()) return err;
  if (!c.cert_file || !c.key_file) return "tls.cert_file: required when client_mode is not disable";
  if (auto err = use_certificate(ctx.get(), *c.cert_file, "cert_file", *c.key_file, "key_file"); !err.empty()) {
    return err;
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  if (c.ca_file) {
    if (auto err = use_ca(ctx.get(), *c.ca_file, "ca_file", true); !err.empty()) return err;
    const bool required = c.client_cert != conf::ClientCertMode::none;
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    out.client_certs_requested = true;
  }
  out.clients = std::move(ctx);
  return {};
}

std::string build_backend_side(const conf::TlsConfig& c, TlsContexts& out) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return "tls: cannot create an OpenSSL context: " + ssl_reason();
  if (auto err = configure_common(ctx.get(), c); !err.empty()) return err;
  SSL_CTX_set_alpn_protos(ctx.get(), k_alpn_postgresql, sizeof k_alpn_postgresql - 1);
  const bool verify = c.server_mode == conf::ServerTlsMode::verify_ca || c.server_mode == conf::ServerTlsMode::verify_full;
  if (verify) {
    if (!c.server_ca_file) return "tls.server_ca_file: required when server_mode is verify-ca or verify-full";
    if (auto err = use_ca(ctx.get(), *c.server_ca_file, "server_ca_file", false); !err.empty()) return err;
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (c.server_cert_file && c.server_key_file) {
    if (auto err = use_certificate(ctx.get(), *c.server_cert_file, "server_cert_file", *c.server_key_file,
                                   "server_key_file");
        !err.empty()) {
      return err;
    }
  }
  out.backends = std::move(ctx);
  return {};
}

}  // namespace

TlsBuild make_tls_contexts(const conf::TlsConfig& config) {
  ERR_clear_error();
  auto contexts = std::make_shared<TlsContexts>();
  if (config.client_mode != conf::ClientTlsMode::disable) {
    if (auto err = build_client_side(config, *contexts); !err.empty()) return {nullptr, std::move(err)};
  }
  if (config.server_mode != conf::ServerTlsMode::disable) {
    if (auto err = build_backend_side(config, *contexts); !err.empty()) return {nullptr, std::move(err)};
  }
  return {std::move(contexts), {}};
}

std::optional<std::string> tls_server_end_point(X509* certificate) {
  if (certificate == nullptr) return std::nullopt;
  int md_nid = NID_undef;
  if (X509_get_signature_info(certificate, &md_nid, nullptr, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  const EVP_MD* md = EVP_get_digestbynid(channel_binding_digest_nid(md_nid));
  if (md == nullptr) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, md, digest, &length) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

int channel_binding_digest_nid(int signature_md_nid) {
  if (signature_md_nid == NID_md5 || signature_md_nid == NID_sha1) return NID_sha256;
  if (signature_md_nid == NID_undef) return NID_undef;
  return signature_md_nid;
}

}  // namespace pgr::proxy
