// libpq keywords for pgrouter's own connections (probes, failover) from [tls]: sslmode,
// ssl_min_protocol_version, sslrootcert, sslcert, sslkey. The strings stay owned by `tls`.
#pragma once

#include <vector>

#include "conf/config.hpp"

namespace pgr::health {

inline void append_libpq_tls(const conf::LibpqTls& tls, std::vector<const char*>& keys,
                             std::vector<const char*>& values) {
  keys.push_back("sslmode");
  values.push_back(tls.sslmode.c_str());
  if (tls.sslmode == "disable") return;
  keys.push_back("ssl_min_protocol_version");
  values.push_back(tls.min_protocol.c_str());
  if (tls.sslrootcert) {
    keys.push_back("sslrootcert");
    values.push_back(tls.sslrootcert->c_str());
  }
  if (tls.sslcert) {
    keys.push_back("sslcert");
    values.push_back(tls.sslcert->c_str());
  }
  if (tls.sslkey) {
    keys.push_back("sslkey");
    values.push_back(tls.sslkey->c_str());
  }
}

}  // namespace pgr::health
