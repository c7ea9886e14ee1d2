// TLS contexts from [tls]: what builds, and errors that name the key (never the key's
// content); the RFC 5929 digest choice for tls-server-end-point.
#include "proxy/tls_context.hpp"

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

namespace pgr::proxy {
namespace {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A self-signed EC certificate for `cn`.
KeyPair make_pair(const char* cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* cb = BIO_new(BIO_s_mem());
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, cert);
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  KeyPair out{bio_text(cb), bio_text(kb)};
  BIO_free(cb);
  BIO_free(kb);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

conf::PemFile pem(std::string path, std::string content) { return conf::PemFile{std::move(path), std::move(content)}; }

conf::TlsConfig client_side(const KeyPair& pair) {
  conf::TlsConfig c;
  c.client_mode = conf::ClientTlsMode::require;
  c.cert_file = pem("/etc/pgrouter/server.crt", pair.cert_pem);
  c.key_file = pem("/etc/pgrouter/server.key", pair.key_pem);
  return c;
}

TEST(TlsContext, DisabledBuildsNothing) {
  const auto built = make_tls_contexts(conf::TlsConfig{});
  ASSERT_TRUE(built.contexts) << built.error;
  EXPECT_FALSE(built.contexts->clients);
  EXPECT_FALSE(built.contexts->backends);
}

TEST(TlsContext, BuildsBothSides) {
  const auto pair = make_pair("localhost");
  auto c = client_side(pair);
  c.ca_file = pem("/ca.crt", pair.cert_pem);
  c.client_cert = conf::ClientCertMode::verify_ca;
  c.server_mode = conf::ServerTlsMode::verify_full;
  c.server_ca_file = pem("/server-ca.crt", pair.cert_pem);
  c.min_protocol = conf::TlsVersion::tls1_3;
  const auto built = make_tls_contexts(c);
  ASSERT_TRUE(built.contexts) << built.error;
  ASSERT_TRUE(built.contexts->clients);
  ASSERT_TRUE(built.contexts->backends);
  EXPECT_TRUE(built.contexts->client_certs_requested);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(built.contexts->clients.get()), TLS1_3_VERSION);
  EXPECT_NE(SSL_CTX_get_options(built.contexts->clients.get()) & SSL_OP_NO_RENEGOTIATION, 0U);
  EXPECT_EQ(SSL_CTX_get_verify_mode(built.contexts->backends.get()), SSL_VERIFY_PEER);
}

TEST(TlsContext, DefaultFloorIsTls12) {
  const auto built = make_tls_contexts(client_side(make_pair("x")));
  ASSERT_TRUE(built.contexts) << built.error;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(built.contexts->clients.get()), TLS1_2_VERSION);
}

TEST(TlsContext, KeyNotMatchingTheCertificate) {
  auto c = client_side(make_pair("a"));
  const auto other = make_pair("b");
  c.key_file->content = other.key_pem;
  const auto built = make_tls_contexts(c);
  EXPECT_FALSE(built.contexts);
  EXPECT_EQ(built.error, "tls.key_file: /etc/pgrouter/server.key: does not match tls.cert_file");
}

TEST(TlsContext, UnreadableKeyNeverQuoted) {
  auto c = client_side(make_pair("a"));
  c.key_file->content = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGtleQ==\n-----END PRIVATE KEY-----\n";
  const auto built = make_tls_contexts(c);
  EXPECT_FALSE(built.contexts);
  EXPECT_NE(built.error.find("tls.key_file: /etc/pgrouter/server.key: no usable private key"), std::string::npos)
      << built.error;
  EXPECT_EQ(built.error.find("c2VjcmV0"), std::string::npos);
}

TEST(TlsContext, CertificateFileWithoutACertificate) {
  auto c = client_side(make_pair("a"));
  c.cert_file->content = "-----BEGIN NOTHING-----\n-----END NOTHING-----\n";
  const auto built = make_tls_contexts(c);
  EXPECT_EQ(built.error, "tls.cert_file: /etc/pgrouter/server.crt: no certificate in the file");
}

TEST(TlsContext, BadCipherList) {
  auto c = client_side(make_pair("a"));
  c.ciphers = "NOT-A-CIPHER";
  EXPECT_EQ(make_tls_contexts(c).error, "tls.ciphers: no usable cipher in the list");
}

TEST(TlsContext, VerifyWithoutServerCa) {
  conf::TlsConfig c;
  c.server_mode = conf::ServerTlsMode::verify_ca;
  EXPECT_EQ(make_tls_contexts(c).error, "tls.server_ca_file: required when server_mode is verify-ca or verify-full");
}

TEST(TlsContext, ChannelBindingDigest) {
  EXPECT_EQ(channel_binding_digest_nid(NID_md5), NID_sha256);
  EXPECT_EQ(channel_binding_digest_nid(NID_sha1), NID_sha256);
  EXPECT_EQ(channel_binding_digest_nid(NID_sha256), NID_sha256);
  EXPECT_EQ(channel_binding_digest_nid(NID_sha384), NID_sha384);
  EXPECT_EQ(channel_binding_digest_nid(NID_sha512), NID_sha512);
  EXPECT_EQ(channel_binding_digest_nid(NID_undef), NID_undef);
}

}  // namespace
}  // namespace pgr::proxy
