// pgrouter's configuration: an immutable, validated value built from a TOML file.
// Pure apart from reading the files it names (the config, auth_file, password files): no
// Asio. Every key, its type and its default are declared in one table (config_keys.cpp), and
// every error names the file, the line and the key.
//
// Thread rules: a Config is built on the main thread and then shared read-only
// (shared_ptr<const Config>) with workers; nothing mutates it after load.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgr::conf {

enum class LogLevel { error, warn, info, debug };
enum class AuthMethod { trust, md5, scram_sha_256 };

std::string_view to_string(LogLevel level);
std::string_view to_string(AuthMethod method);

struct ListenAddress {
  std::string host;  // numeric IPv4/IPv6 address or "localhost"
  std::uint16_t port = 0;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

struct ProxyConfig {
  std::vector<ListenAddress> listen{{"127.0.0.1", 5432}};
  // Sessions accepted here use only standbys (Patroni's replica port); empty: no such port.
  std::vector<ListenAddress> read_only_listen;
  int workers = 0;  // 0 in the file is invalid; the default is the number of cores
  int max_client_connections = 1000;
  LogLevel log_level = LogLevel::info;
  std::chrono::milliseconds client_login_timeout{10'000};
  std::chrono::milliseconds backend_connect_timeout{5'000};
  std::uint32_t max_message_size = 0x3fffffff;  // bytes; "64MB" style strings or integers
  int max_user_connections = 0;  // per user name, 0: no limit
  int max_db_connections = 0;    // per database name, 0: no limit
  int max_pending_logins = 0;    // clients still in startup/authentication at once, 0: no limit

  friend bool operator==(const ProxyConfig&, const ProxyConfig&) = default;
};

// One pg_hba.conf line (conf/hba.hpp parses and matches them).
enum class HbaType : std::uint8_t { local, host, hostssl, hostnossl };
enum class HbaMethod : std::uint8_t { trust, reject, md5, scram_sha_256, cert };
struct HbaRule {
  int line = 0;
  HbaType type = HbaType::host;
  bool any_database = false;           // "all"
  bool same_user_database = false;     // "sameuser": the database named like the user
  std::vector<std::string> databases;  // other names
  bool any_user = false;               // "all"
  std::vector<std::string> users;
  bool any_address = false;            // "all"
  bool samehost = false;               // "samehost": one of the addresses this host listens on
  std::array<std::uint8_t, 16> address{};  // IPv4 as ::ffff:a.b.c.d
  std::array<std::uint8_t, 16> mask{};
  HbaMethod method = HbaMethod::reject;

  friend bool operator==(const HbaRule&, const HbaRule&) = default;
};

struct AuthConfig {
  AuthMethod method = AuthMethod::scram_sha_256;
  std::optional<std::string> auth_file;  // path as resolved (relative to the config file)
  // user -> secret (SCRAM-SHA-256$... verifier, md5... hash, or plain text), from auth_file
  std::map<std::string, std::string> users;
  std::optional<std::string> auth_user;
  std::optional<std::string> auth_password;  // from auth_password or auth_password_file
  std::string auth_query = "SELECT usename, passwd FROM pg_shadow WHERE usename = $1";
  std::optional<std::string> hba_file;  // resolved path; pg_hba.conf rules checked before auth
  std::vector<HbaRule> hba;             // parsed from hba_file (empty: no hba_file)

  friend bool operator==(const AuthConfig&, const AuthConfig&) = default;
};

// TLS settings in libpq's terms, derived from [tls] (server_mode and its files) for
// pgrouter's own libpq connections: health probes and failover's admin connections.
struct LibpqTls {
  std::string sslmode = "disable";
  std::string min_protocol = "TLSv1.2";
  std::optional<std::string> sslrootcert;  // paths
  std::optional<std::string> sslcert;
  std::optional<std::string> sslkey;
  friend bool operator==(const LibpqTls&, const LibpqTls&) = default;
};

struct HealthCheckConfig {
  std::chrono::milliseconds period{2'000};
  std::chrono::milliseconds timeout{2'000};
  int max_retries = 0;
  std::chrono::milliseconds retry_delay{1'000};
  std::string user = "postgres";
  std::optional<std::string> password;  // from password or password_file
  std::string database = "postgres";
  LibpqTls tls;  // not a key: derived from [tls] at load

  friend bool operator==(const HealthCheckConfig&, const HealthCheckConfig&) = default;
};

enum class LoadBalanceMode { statement, session };
enum class TransactionReads { until_write, primary };
std::string_view to_string(LoadBalanceMode mode);
std::string_view to_string(TransactionReads reads);

struct LoadBalanceConfig {
  bool enabled = true;  // false: everything goes to the primary
  LoadBalanceMode mode = LoadBalanceMode::statement;  // choose a reader per statement or once
  bool primary_reads = true;  // the primary shares reads with standbys, by its weight
  std::optional<std::chrono::milliseconds> max_lag;  // standbys further behind get no reads
  std::optional<std::uint64_t> max_lag_bytes;
  bool read_your_writes = true;
  TransactionReads transaction_reads = TransactionReads::until_write;
  std::vector<std::string> write_functions;  // extra functions that make a statement a write
  friend bool operator==(const LoadBalanceConfig&, const LoadBalanceConfig&) = default;
};

// [pool]: how sessions share backend connections.
//   none: a session opens its own connections and closes them at its end;
//   session: a connection serves one session for its life, then is reset and reused;
//   transaction: a connection is lent for one transaction (or autocommit statement).
enum class PoolMode : std::uint8_t { none, session, transaction };
std::string_view to_string(PoolMode mode);

struct PoolConfig {
  PoolMode mode = PoolMode::session;
  int max_backend_connections = 0;  // per node, across workers; 0: no limit
  int min_idle = 0;                 // per pool (node, user, database, startup parameters)
  std::chrono::milliseconds idle_timeout{600'000};
  std::chrono::milliseconds max_lifetime{3'600'000};
  std::optional<std::chrono::milliseconds> connect_timeout;  // nullopt: proxy.backend_connect_timeout
  std::chrono::milliseconds query_wait_timeout{120'000};
  std::string server_reset_query = "DISCARD ALL";
  int max_prepared_statements = 100;  // per backend connection (transaction mode)
  friend bool operator==(const PoolConfig&, const PoolConfig&) = default;
};

enum class FailoverMode { builtin, command, manual };
std::string_view to_string(FailoverMode mode);

struct FailoverConfig {
  FailoverMode mode = FailoverMode::builtin;
  std::string failover_command;        // pgpool-II placeholders; required in command mode
  std::string follow_primary_command;  // "" : repointing is left to failover_command
  std::string rewind_command;          // "" : diverged standbys are only reported
  std::chrono::milliseconds command_timeout{60'000};
  std::chrono::milliseconds wait_timeout{30'000};
  std::chrono::milliseconds search_primary_timeout{300'000};
  std::optional<std::uint64_t> max_lag_on_failover;  // bytes
  bool auto_failback = false;
  std::optional<std::string> state_file;  // resolved against the config file's directory
  std::optional<std::string> user;        // nullopt: health_check.user
  std::optional<std::string> password;    // from password or password_file; nullopt: health_check's
  friend bool operator==(const FailoverConfig&, const FailoverConfig&) = default;
};

// [tls]: TLS towards clients (pgrouter as the server) and towards backends (as a client).
enum class ClientTlsMode : std::uint8_t { disable, allow, require };
enum class ClientCertMode : std::uint8_t { none, verify_ca, verify_full };
enum class ServerTlsMode : std::uint8_t { disable, prefer, require, verify_ca, verify_full };
enum class TlsVersion : std::uint8_t { tls1_2, tls1_3 };

// A PEM file a key names: its resolved path and its content, read at load, so a reload sees
// a renewed certificate even under the same name. The content may be a private key: never
// logged.
struct PemFile {
  std::string path;
  std::string content;
  friend bool operator==(const PemFile&, const PemFile&) = default;
};

struct TlsConfig {
  ClientTlsMode client_mode = ClientTlsMode::disable;
  ClientCertMode client_cert = ClientCertMode::none;
  std::optional<PemFile> cert_file;
  std::optional<PemFile> key_file;
  std::optional<PemFile> ca_file;
  TlsVersion min_protocol = TlsVersion::tls1_2;
  std::string ciphers = "HIGH:!aNULL:!MD5";
  ServerTlsMode server_mode = ServerTlsMode::disable;
  std::optional<PemFile> server_ca_file;
  std::optional<PemFile> server_cert_file;
  std::optional<PemFile> server_key_file;

  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// [admin]: the operator's interfaces. Every one is off unless configured.
struct AdminConfig {
  std::optional<ListenAddress> pcp_listen;     // pgpool-II PCP protocol (pcp_* programs)
  std::optional<std::string> pcp_socket_dir;   // also a Unix socket there, as pgpool's
  std::optional<std::string> pcp_users_file;   // resolved path; pcp.conf format
  std::map<std::string, std::string> pcp_users;  // user -> md5 hex of the password
  std::optional<ListenAddress> http_listen;    // /primary /replica /health /cluster /metrics
  std::optional<std::string> admin_socket;     // Unix socket for pgrouterctl (resolved path)

  friend bool operator==(const AdminConfig&, const AdminConfig&) = default;
};

struct BackendConfig {
  std::string name;
  std::string host;
  std::uint16_t port = 5432;
  double weight = 1.0;
  std::optional<std::string> data_directory;
  bool named = false;  // `name` was written in the file (else it is node<position>)
  // A node slot a reload emptied (conf/backend_slots.hpp): kept so node indexes stay stable;
  // it is never probed nor routed to. A loaded file never has one.
  bool removed = false;

  friend bool operator==(const BackendConfig&, const BackendConfig&) = default;
};

// Equality (all structs) lets a reload tell "nothing changed" from "apply this".
struct Config {
  std::string source_path;
  ProxyConfig proxy;
  AuthConfig auth;
  HealthCheckConfig health_check;
  LoadBalanceConfig load_balance;
  PoolConfig pool;
  FailoverConfig failover;
  AdminConfig admin;
  TlsConfig tls;
  // As loaded: the file's order. As applied (after a reload that added or removed backends):
  // node slots, the index of each node for its life (conf/backend_slots.hpp).
  std::vector<BackendConfig> backends;

  friend bool operator==(const Config&, const Config&) = default;
};

struct ConfigError {
  std::string file;
  int line = 0;     // 0 when the problem has no single line (e.g. a missing section)
  std::string key;  // dotted: "proxy.listen", "backends[1].port"
  std::string problem;
  // "FILE:LINE: key: problem" (LINE omitted when 0; "key: " omitted when key is empty, as
  // for TOML syntax errors and unreadable files)
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<ConfigError> errors;
};

LoadResult load_config_file(const std::string& path);
// `name` stands in for the file name in errors; relative paths resolve against `base_dir`.
LoadResult load_config_text(std::string_view text, const std::string& name,
                            const std::string& base_dir);

// "250ms", "1s", "2m", "1h" (also "1.5s"); nullopt when malformed or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// "512", "64kB", "16MB", "1GB" (1024-based, as PostgreSQL's memory units); nullopt if bad.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace pgr::conf
