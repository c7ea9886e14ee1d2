// The [tls] and hba_file readers: PEM files read at load (so a reload sees renewed
// certificates), the hba file parsed into rules, and the rules between [tls] keys.
#include "conf/hba.hpp"
#include "conf/key_reader.hpp"

namespace pgr::conf::detail {

namespace {

const TomlValue* tls_value(const TomlValue& root, const char* key) {
  const auto& sections = root.as_table();
  const auto it = sections.find("tls");
  if (it == sections.end() || !it->second.is_table()) return nullptr;
  const auto& table = it->second.as_table();
  const auto found = table.find(key);
  return found == table.end() ? nullptr : &found->second;
}

int line_or_zero(const TomlValue* value) { return value ? line_of(*value) : 0; }

}  // namespace

std::optional<PemFile> read_pem_file(const Field& f) {
  const auto path = read_nonempty_string(f);
  if (!path) return std::nullopt;
  PemFile pem;
  pem.path = f.ctx.resolve_path(*path);
  auto file = read_text_file(pem.path);
  if (!file.ok) {
    f.error("cannot read " + quote_path(pem.path) + ": " + file.error);
    return std::nullopt;
  }
  if (file.text.find("-----BEGIN ") == std::string::npos) {
    f.error(quote_path(pem.path) + " is not a PEM file (no -----BEGIN line)");
    return std::nullopt;
  }
  pem.content = std::move(file.text);
  return pem;
}

void read_hba_file(const Field& f, AuthConfig& auth) {
  const auto path = read_nonempty_string(f);
  if (!path) return;
  std::string resolved = f.ctx.resolve_path(*path);
  auto file = read_text_file(resolved);
  if (!file.ok) {
    f.error("cannot read " + quote_path(resolved) + ": " + file.error);
    return;
  }
  auto parsed = parse_hba(file.text, resolved);
  for (auto& error : parsed.errors) f.ctx.add_foreign(f.line(), std::move(error));
  auth.hba_file = std::move(resolved);
  auth.hba = std::move(parsed.rules);
}

void finish_tls(const TomlValue& root, LoadContext& ctx, Config& config) {
  const TlsConfig& tls = config.tls;
  const auto need = [&](bool wanted, const auto& file, const char* mode_key, const char* file_key,
                        const std::string& why) {
    if (!wanted || file || ctx.has_error_at(std::string("tls.") + file_key) ||
        ctx.has_error_at(std::string("tls.") + mode_key)) {
      return;
    }
    ctx.add(line_or_zero(tls_value(root, mode_key)), std::string("tls.") + file_key, "required " + why);
  };
  const bool client_tls = tls.client_mode != ClientTlsMode::disable;
  need(client_tls, tls.cert_file, "client_mode", "cert_file", "when client_mode is not disable");
  need(client_tls, tls.key_file, "client_mode", "key_file", "when client_mode is not disable");
  need(tls.client_cert != ClientCertMode::none, tls.ca_file, "client_cert", "ca_file",
       "when client_cert is verify-ca or verify-full");
  const bool verify = tls.server_mode == ServerTlsMode::verify_ca || tls.server_mode == ServerTlsMode::verify_full;
  need(verify, tls.server_ca_file, "server_mode", "server_ca_file",
       "when server_mode is verify-ca or verify-full");
  need(tls.server_cert_file.has_value(), tls.server_key_file, "server_cert_file", "server_key_file",
       "with server_cert_file");
  need(tls.server_key_file.has_value(), tls.server_cert_file, "server_key_file", "server_cert_file",
       "with server_key_file");

  LibpqTls& libpq = config.health_check.tls;
  libpq.sslmode = std::string(k_server_tls_mode_names.at(static_cast<std::size_t>(tls.server_mode)));
  libpq.min_protocol = std::string(k_tls_version_names.at(static_cast<std::size_t>(tls.min_protocol)));
  // Only the verifying modes get the CA: libpq's require would verify whenever it has one.
  if (verify && tls.server_ca_file) libpq.sslrootcert = tls.server_ca_file->path;
  if (tls.server_cert_file) libpq.sslcert = tls.server_cert_file->path;
  if (tls.server_key_file) libpq.sslkey = tls.server_key_file->path;
}

}  // namespace pgr::conf::detail
