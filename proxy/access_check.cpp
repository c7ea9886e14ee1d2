// Access decisions before authentication (see access_check.hpp).
#include "proxy/access_check.hpp"

#include "conf/hba.hpp"

namespace pgr::proxy {

namespace {

namespace sqlstate = protocol::sqlstate;

std::string connection_words(const AccessFacts& f) {
  return "host \"" + f.host + "\", user \"" + f.user + "\", database \"" + f.database + "\", " +
         (f.tls ? "SSL encryption" : "no encryption");
}

SessionError refuse(std::string message) {
  return SessionError::make(sqlstate::invalid_authorization_specification, std::move(message));
}

bool certificate_names_user(const AccessFacts& f) {
  return f.tls && f.certificate_verified && f.cert_cn && *f.cert_cn == f.user;
}

}  // namespace

std::variant<conf::AuthMethod, SessionError> check_access(const conf::Config& config, const AccessFacts& facts) {
  if (config.tls.client_mode == conf::ClientTlsMode::require && !facts.tls) {
    return refuse("TLS is required for connections to pgrouter; " + connection_words(facts));
  }
  if (facts.tls && config.tls.client_cert == conf::ClientCertMode::verify_full && !certificate_names_user(facts)) {
    return refuse("certificate validation (clientcert=verify-full) failed for user \"" + facts.user + "\"");
  }
  if (!config.auth.hba_file) return config.auth.method;
  conf::HbaRequest request;
  request.tls = facts.tls;
  request.address = facts.address;
  request.local_address = facts.local_address;
  request.database = facts.database;
  request.user = facts.user;
  const conf::HbaRule* rule = conf::match_hba(config.auth.hba, request);
  if (rule == nullptr) return refuse("no pg_hba.conf entry for " + connection_words(facts));
  switch (rule->method) {
    case conf::HbaMethod::reject:
      return refuse("pg_hba.conf rejects connection for " + connection_words(facts));
    case conf::HbaMethod::cert:
      if (!certificate_names_user(facts)) {
        return refuse("certificate authentication failed for user \"" + facts.user + "\"");
      }
      return conf::AuthMethod::trust;
    case conf::HbaMethod::trust:
      return conf::AuthMethod::trust;
    case conf::HbaMethod::md5:
      return conf::AuthMethod::md5;
    case conf::HbaMethod::scram_sha_256:
      return conf::AuthMethod::scram_sha_256;
  }
  return refuse("no pg_hba.conf entry for " + connection_words(facts));
}

}  // namespace pgr::proxy
