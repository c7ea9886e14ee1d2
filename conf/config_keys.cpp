// The table of every configuration key: section, name, type, default, doc and reader. Add a
// key here (and a member in config.hpp) and the loader, docs and tests pick it up.
#include "conf/config_keys.hpp"

#include <array>

#include "conf/config.hpp"
#include "conf/key_reader.hpp"

namespace pgr::conf {

namespace {

using detail::Field;

template <typename T, typename U>
void store(const std::optional<T>& value, U& target) {
  if (value) target = static_cast<U>(*value);
}

// clang-format off
const std::array k_keys{
  // [proxy]
  KeyDef{Section::proxy, "listen", KeyType::addresses, R"(["127.0.0.1:5432"])", false,
    "Client-facing addresses, \"host:port\" or \"[ipv6]:port\"; the host is a numeric address "
    "or localhost. At least one.",
    [](const Field& f, Config& c) {
      store(detail::read_listen_addresses(f, false), c.proxy.listen);
    }},
  KeyDef{Section::proxy, "read_only_listen", KeyType::addresses, "[]", false,
    "Addresses for read-only sessions, like Patroni's replica port: they use only standbys, "
    "so a write gets SQLSTATE 25006 from the standby. Same syntax as listen; none may also be "
    "in listen. Default: none.",
    [](const Field& f, Config& c) {
      store(detail::read_listen_addresses(f, true), c.proxy.read_only_listen);
    }},
  KeyDef{Section::proxy, "workers", KeyType::integer, "", false,
    "Worker threads, 1..256. Default: the number of CPU cores (at most 256).",
    [](const Field& f, Config& c) { store(detail::read_integer(f, 1, 256), c.proxy.workers); }},
  KeyDef{Section::proxy, "max_client_connections", KeyType::integer, "1000", false,
    "Client connections accepted at once, 1..1000000.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 1, 1'000'000), c.proxy.max_client_connections);
    }},
  KeyDef{Section::proxy, "log_level", KeyType::choice, R"("info")", false,
    "One of error, warn, info, debug.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_log_level_names)) {
        c.proxy.log_level = static_cast<LogLevel>(*i);
      }
    }},
  KeyDef{Section::proxy, "client_login_timeout", KeyType::duration, R"("10s")", false,
    "A client that has not finished authenticating by then is closed.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.proxy.client_login_timeout);
    }},
  KeyDef{Section::proxy, "backend_connect_timeout", KeyType::duration, R"("5s")", false,
    "Time to connect and log in to a backend.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.proxy.backend_connect_timeout);
    }},
  KeyDef{Section::proxy, "max_message_size", KeyType::size, R"("1GB")", false,
    "Largest client message accepted, 1kB..1GB; \"1GB\" means 1GB - 1 byte, PostgreSQL's "
    "own limit.",
    [](const Field& f, Config& c) {
      store(detail::read_message_size(f), c.proxy.max_message_size);
    }},
  KeyDef{Section::proxy, "max_user_connections", KeyType::integer, "0", false,
    "Client connections one user name may hold at once (53300 beyond), 0..1000000; 0: no "
    "limit.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 0, 1'000'000), c.proxy.max_user_connections);
    }},
  KeyDef{Section::proxy, "max_db_connections", KeyType::integer, "0", false,
    "Client connections to one database name at once (53300 beyond), 0..1000000; 0: no limit.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 0, 1'000'000), c.proxy.max_db_connections);
    }},
  KeyDef{Section::proxy, "max_pending_logins", KeyType::integer, "0", false,
    "Clients still in startup or authentication at once; the next one gets 53300. Bounds "
    "what slow or idle unauthenticated clients can hold. 0..1000000; 0: no limit.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 0, 1'000'000), c.proxy.max_pending_logins);
    }},

  // [auth]
  KeyDef{Section::auth, "method", KeyType::choice, R"("scram-sha-256")", false,
    "How clients authenticate: scram-sha-256, md5 or trust.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_auth_method_names)) {
        c.auth.method = static_cast<AuthMethod>(*i);
      }
    }},
  KeyDef{Section::auth, "auth_file", KeyType::path, "", false,
    "File of \"user\" \"secret\" lines (PgBouncer's userlist.txt format). Optional.",
    [](const Field& f, Config& c) { detail::read_auth_file(f, c.auth); }},
  KeyDef{Section::auth, "auth_user", KeyType::string, "", false,
    "User that looks secrets up on the primary with auth_query. Optional.",
    [](const Field& f, Config& c) { store(detail::read_nonempty_string(f), c.auth.auth_user); }},
  KeyDef{Section::auth, "auth_password", KeyType::secret, "", false,
    "auth_user's password. Needs auth_user; not with auth_password_file.",
    [](const Field& f, Config& c) { store(detail::read_string(f), c.auth.auth_password); }},
  KeyDef{Section::auth, "auth_password_file", KeyType::path, "", false,
    "File holding auth_user's password (trailing newlines trimmed). Not with auth_password.",
    [](const Field& f, Config& c) { store(detail::read_secret_file(f), c.auth.auth_password); }},
  KeyDef{Section::auth, "auth_password_env", KeyType::string, "", false,
    "Name of an environment variable holding auth_user's password (read at load and reload). "
    "Not with auth_password or auth_password_file.",
    [](const Field& f, Config& c) { store(detail::read_secret_env(f), c.auth.auth_password); }},
  KeyDef{Section::auth, "hba_file", KeyType::path, "", false,
    "Access rules in pg_hba.conf syntax, checked before authentication (see Access rules). "
    "A client no line matches gets 28000. Re-read on reload. Default: none (method applies "
    "to everyone).",
    [](const Field& f, Config& c) { detail::read_hba_file(f, c.auth); }},
  KeyDef{Section::auth, "auth_query", KeyType::string,
    R"("SELECT usename, passwd FROM pg_shadow WHERE usename = $1")", false,
    "Query run as auth_user to fetch a user's secret; $1 is the user name.",
    [](const Field& f, Config& c) {
      const auto query = detail::read_nonempty_string(f);
      if (query && query->find("$1") == std::string::npos) {
        f.error("must use $1 for the user name");
        return;
      }
      store(query, c.auth.auth_query);
    }},

  // [health_check]
  KeyDef{Section::health_check, "period", KeyType::duration, R"("2s")", false,
    "Time between two probes of a backend.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.health_check.period);
    }},
  KeyDef{Section::health_check, "timeout", KeyType::duration, R"("2s")", false,
    "A probe that takes longer fails.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.health_check.timeout);
    }},
  KeyDef{Section::health_check, "max_retries", KeyType::integer, "0", false,
    "Failed probes retried before a backend is marked down, 0..100.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 0, 100), c.health_check.max_retries);
    }},
  KeyDef{Section::health_check, "retry_delay", KeyType::duration, R"("1s")", false,
    "Pause before a retry; \"0s\" retries at once.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, true), c.health_check.retry_delay);
    }},
  KeyDef{Section::health_check, "user", KeyType::string, R"("postgres")", false,
    "User the probes log in as.",
    [](const Field& f, Config& c) { store(detail::read_nonempty_string(f), c.health_check.user); }},
  KeyDef{Section::health_check, "password", KeyType::secret, "", false,
    "Password of the probe user. Not with password_file.",
    [](const Field& f, Config& c) { store(detail::read_string(f), c.health_check.password); }},
  KeyDef{Section::health_check, "password_file", KeyType::path, "", false,
    "File holding the probe user's password (trailing newlines trimmed). Not with password.",
    [](const Field& f, Config& c) { store(detail::read_secret_file(f), c.health_check.password); }},
  KeyDef{Section::health_check, "password_env", KeyType::string, "", false,
    "Name of an environment variable holding the probe user's password. Not with password or "
    "password_file.",
    [](const Field& f, Config& c) { store(detail::read_secret_env(f), c.health_check.password); }},
  KeyDef{Section::health_check, "database", KeyType::string, R"("postgres")", false,
    "Database the probes connect to.",
    [](const Field& f, Config& c) {
      store(detail::read_nonempty_string(f), c.health_check.database);
    }},

  // [load_balance]
  KeyDef{Section::load_balance, "enabled", KeyType::boolean, "true", false,
    "Spread reads over the backends; false sends everything to the primary.",
    [](const Field& f, Config& c) { store(detail::read_bool(f), c.load_balance.enabled); }},
  KeyDef{Section::load_balance, "mode", KeyType::choice, R"("statement")", false,
    "statement: choose a backend for each read; session: choose one per session and keep it.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_load_balance_mode_names)) {
        c.load_balance.mode = static_cast<LoadBalanceMode>(*i);
      }
    }},
  KeyDef{Section::load_balance, "primary_reads", KeyType::boolean, "true", false,
    "The primary takes a share of the reads too, by its weight; false leaves reads to the "
    "standbys.",
    [](const Field& f, Config& c) { store(detail::read_bool(f), c.load_balance.primary_reads); }},
  KeyDef{Section::load_balance, "max_lag", KeyType::duration, "", false,
    "Standbys whose replay is further behind than this get no reads; more than 0. Default: "
    "no limit.",
    [](const Field& f, Config& c) {
      const auto lag = detail::read_duration(f, true);
      if (lag && lag->count() == 0) {
        f.error("must be greater than 0 (leave the key out for no limit)");
        return;
      }
      if (lag) c.load_balance.max_lag = lag;
    }},
  KeyDef{Section::load_balance, "max_lag_bytes", KeyType::size, "", false,
    "Standbys more than this much WAL behind the primary get no reads; more than 0. Default: "
    "no limit.",
    [](const Field& f, Config& c) {
      const auto bytes = detail::read_size(f);
      if (bytes && *bytes == 0) {
        f.error("must be greater than 0 (leave the key out for no limit)");
        return;
      }
      if (bytes) c.load_balance.max_lag_bytes = bytes;
    }},
  KeyDef{Section::load_balance, "read_your_writes", KeyType::boolean, "true", false,
    "A session's reads after its own write see that write: they do not go to a standby that "
    "has not replayed it.",
    [](const Field& f, Config& c) {
      store(detail::read_bool(f), c.load_balance.read_your_writes);
    }},
  KeyDef{Section::load_balance, "transaction_reads", KeyType::choice, R"("until_write")", false,
    "Reads in an explicit transaction. until_write: balanced until the transaction's first "
    "write, then the rest of it goes to the primary; primary: the whole transaction goes to the "
    "primary.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_transaction_reads_names)) {
        c.load_balance.transaction_reads = static_cast<TransactionReads>(*i);
      }
    }},
  KeyDef{Section::load_balance, "write_functions", KeyType::strings, "[]", false,
    "Functions whose call makes a statement a write, on top of the built-in ones (nextval, "
    "setval, advisory locks, ...): \"name\" (any schema) or \"schema.name\" (that schema, "
    "or unqualified); unquoted identifiers, compared case-insensitively.",
    [](const Field& f, Config& c) {
      store(detail::read_function_names(f), c.load_balance.write_functions);
    }},

  // [pool]
  KeyDef{Section::pool, "mode", KeyType::choice, R"("session")", false,
    "none: a session opens its own backend connections and closes them at its end; session: "
    "a connection serves one client session for its life, then is reset with "
    "server_reset_query and kept for the next session with the same user, database and "
    "startup parameters; transaction: a connection is lent for one transaction (or one "
    "autocommit statement) and returned at ReadyForQuery 'I'. Restart only.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_pool_mode_names)) {
        c.pool.mode = static_cast<PoolMode>(*i);
      }
    }},
  KeyDef{Section::pool, "max_backend_connections", KeyType::integer, "0", false,
    "Backend connections pgrouter keeps to each node, across all workers (health checks and "
    "failover connections aside), 0..100000; 0: no limit. A client needing one more waits "
    "(query_wait_timeout).",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 0, 100'000), c.pool.max_backend_connections);
    }},
  KeyDef{Section::pool, "min_idle", KeyType::integer, "0", false,
    "Idle connections kept open per pool (node, user, database) once it has been used, "
    "0..1000, within max_backend_connections.",
    [](const Field& f, Config& c) { store(detail::read_integer(f, 0, 1000), c.pool.min_idle); }},
  KeyDef{Section::pool, "idle_timeout", KeyType::duration, R"("10m")", false,
    "An idle pooled connection unused this long is closed (min_idle aside).",
    [](const Field& f, Config& c) { store(detail::read_duration(f, false), c.pool.idle_timeout); }},
  KeyDef{Section::pool, "max_lifetime", KeyType::duration, R"("1h")", false,
    "A connection older than this is closed when it is next returned idle.",
    [](const Field& f, Config& c) { store(detail::read_duration(f, false), c.pool.max_lifetime); }},
  KeyDef{Section::pool, "connect_timeout", KeyType::duration, "", false,
    "Time to connect and log in a new pooled connection. Default: proxy.backend_connect_timeout.",
    [](const Field& f, Config& c) {
      if (const auto d = detail::read_duration(f, false)) c.pool.connect_timeout = d;
    }},
  KeyDef{Section::pool, "query_wait_timeout", KeyType::duration, R"("120s")", false,
    "How long a client waits in the queue for a backend connection when the node's "
    "max_backend_connections are all in use; then SQLSTATE 53300.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.pool.query_wait_timeout);
    }},
  KeyDef{Section::pool, "server_reset_query", KeyType::string, R"("DISCARD ALL")", false,
    "Run on a connection before another session gets it (session mode; transaction mode "
    "when a session changed its state); \"\" runs nothing.",
    [](const Field& f, Config& c) { store(detail::read_string(f), c.pool.server_reset_query); }},
  KeyDef{Section::pool, "max_prepared_statements", KeyType::integer, "100", false,
    "Transaction mode: prepared statements kept on each backend connection, 1..100000; the "
    "least recently used beyond that are closed.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 1, 100'000), c.pool.max_prepared_statements);
    }},

  // [failover]
  KeyDef{Section::failover, "mode", KeyType::choice, R"("builtin")", false,
    "builtin: pgrouter promotes a standby with pg_promote() and repoints the others; command: "
    "failover_command promotes and follow_primary_command repoints; manual: the failed primary "
    "is only detached and an operator takes over.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_failover_mode_names)) {
        c.failover.mode = static_cast<FailoverMode>(*i);
      }
    }},
  KeyDef{Section::failover, "failover_command", KeyType::string, R"("")", false,
    "Shell command that promotes a standby, with pgpool-II's placeholders, each value "
    "shell-quoted (%d %h %p %D: the failed node; %m %H %r %R: the node to promote; %P %N %S: "
    "the old primary; %%: a %). Required when mode is command.",
    [](const Field& f, Config& c) { store(detail::read_string(f), c.failover.failover_command); }},
  KeyDef{Section::failover, "follow_primary_command", KeyType::string, R"("")", false,
    "Command mode: run for each standby to repoint it at the new primary (same placeholders; "
    "%d %h %p %D: that standby). Empty: failover_command does the repointing.",
    [](const Field& f, Config& c) {
      store(detail::read_string(f), c.failover.follow_primary_command);
    }},
  KeyDef{Section::failover, "rewind_command", KeyType::string, R"("")", false,
    "Run for each standby that diverged from the new primary (e.g. pg_rewind; same "
    "placeholders). Empty: diverged standbys are only reported.",
    [](const Field& f, Config& c) { store(detail::read_string(f), c.failover.rewind_command); }},
  KeyDef{Section::failover, "command_timeout", KeyType::duration, R"("60s")", false,
    "Time each command gets; after it the command counts as failed.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.failover.command_timeout);
    }},
  KeyDef{Section::failover, "wait_timeout", KeyType::duration, R"("30s")", false,
    "Builtin mode: time for pg_promote() and for the promoted node to accept writes. All "
    "modes: time repointed standbys get to stream from the new primary.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.failover.wait_timeout);
    }},
  KeyDef{Section::failover, "search_primary_timeout", KeyType::duration, R"("5m")", false,
    "Command mode: how long to look for the new primary once failover_command has succeeded.",
    [](const Field& f, Config& c) {
      store(detail::read_duration(f, false), c.failover.search_primary_timeout);
    }},
  KeyDef{Section::failover, "max_lag_on_failover", KeyType::size, "", false,
    "Standbys more than this much WAL behind the failed primary's last known position are not "
    "promoted (Patroni's maximum_lag_on_failover); 0 allows only a standby with everything. "
    "Default: no limit.",
    [](const Field& f, Config& c) {
      if (const auto bytes = detail::read_size(f)) c.failover.max_lag_on_failover = bytes;
    }},
  KeyDef{Section::failover, "auto_failback", KeyType::boolean, "false", false,
    "Fenced and diverged nodes that come back following the primary return to service by "
    "themselves; false: an operator attaches them.",
    [](const Field& f, Config& c) { store(detail::read_bool(f), c.failover.auto_failback); }},
  KeyDef{Section::failover, "state_file", KeyType::path, "", false,
    "File in which pgrouter keeps the primary, the timeline and the fenced and diverged nodes "
    "across restarts; it need not exist yet. Optional: without it a restart forgets them.",
    [](const Field& f, Config& c) {
      store(detail::read_resolved_path(f), c.failover.state_file);
    }},
  KeyDef{Section::failover, "user", KeyType::string, "", false,
    "User that failover logs in as (pg_promote(), ALTER SYSTEM). Default: health_check.user.",
    [](const Field& f, Config& c) { store(detail::read_nonempty_string(f), c.failover.user); }},
  KeyDef{Section::failover, "password", KeyType::secret, "", false,
    "Password of the failover user. Not with password_file. Default: health_check's password.",
    [](const Field& f, Config& c) { store(detail::read_string(f), c.failover.password); }},
  KeyDef{Section::failover, "password_file", KeyType::path, "", false,
    "File holding the failover user's password (trailing newlines trimmed). Not with password.",
    [](const Field& f, Config& c) { store(detail::read_secret_file(f), c.failover.password); }},
  KeyDef{Section::failover, "password_env", KeyType::string, "", false,
    "Name of an environment variable holding the failover user's password. Not with password "
    "or password_file.",
    [](const Field& f, Config& c) { store(detail::read_secret_env(f), c.failover.password); }},

  // [admin]
  KeyDef{Section::admin, "pcp_listen", KeyType::string, "", false,
    "\"host:port\" on which pgrouter speaks pgpool-II 4.3's PCP protocol, so the pcp_* "
    "programs (pcp_node_info, pcp_attach_node, pcp_promote_node...) work unchanged. Needs "
    "pcp_users_file. Default: off.",
    [](const Field& f, Config& c) { store(detail::read_listen_address(f), c.admin.pcp_listen); }},
  KeyDef{Section::admin, "pcp_socket_dir", KeyType::path, "", false,
    "Directory in which pgrouter also listens for PCP on a Unix socket, .s.PGSQL.<pcp_listen's "
    "port>, as pgpool-II's pcp_socket_dir (pcp_* -h DIR). Needs pcp_listen. Default: none.",
    [](const Field& f, Config& c) { store(detail::read_resolved_path(f), c.admin.pcp_socket_dir); }},
  KeyDef{Section::admin, "pcp_users_file", KeyType::path, "", false,
    "pgpool-II's pcp.conf format: \"user:md5-of-the-password\" per line (pg_md5 output), "
    "# comments. Re-read on reload.",
    [](const Field& f, Config& c) { detail::read_pcp_users_file(f, c.admin); }},
  KeyDef{Section::admin, "http_listen", KeyType::string, "", false,
    "\"host:port\" of the HTTP endpoints: /primary, /replica (?lag=16MB), /health, /cluster "
    "(JSON) and /metrics (Prometheus). Default: off.",
    [](const Field& f, Config& c) { store(detail::read_listen_address(f), c.admin.http_listen); }},
  KeyDef{Section::admin, "admin_socket", KeyType::path, "", false,
    "Unix socket path pgrouterctl talks to (list, attach, detach, promote, reload, stop). "
    "Default: off.",
    [](const Field& f, Config& c) { store(detail::read_resolved_path(f), c.admin.admin_socket); }},

  // [tls]
  KeyDef{Section::tls, "client_mode", KeyType::choice, R"("disable")", false,
    "TLS towards clients. disable: SSLRequest is answered N; allow: TLS offered, plaintext "
    "accepted; require: plaintext clients get 28000. Needs cert_file and key_file unless "
    "disable.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_client_tls_mode_names)) {
        c.tls.client_mode = static_cast<ClientTlsMode>(*i);
      }
    }},
  KeyDef{Section::tls, "client_cert", KeyType::choice, R"("none")", false,
    "Client certificates. none: not asked for; verify-ca: a TLS client must present one "
    "signed by ca_file; verify-full: also its CN must equal the user name. Needs ca_file "
    "unless none.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_client_cert_mode_names)) {
        c.tls.client_cert = static_cast<ClientCertMode>(*i);
      }
    }},
  KeyDef{Section::tls, "cert_file", KeyType::path, "", false,
    "pgrouter's certificate (PEM, chain allowed) shown to clients. Re-read on reload.",
    [](const Field& f, Config& c) { store(detail::read_pem_file(f), c.tls.cert_file); }},
  KeyDef{Section::tls, "key_file", KeyType::path, "", false,
    "The private key of cert_file (PEM, unencrypted). Re-read on reload.",
    [](const Field& f, Config& c) { store(detail::read_pem_file(f), c.tls.key_file); }},
  KeyDef{Section::tls, "ca_file", KeyType::path, "", false,
    "CA certificates (PEM) that client certificates must chain to.",
    [](const Field& f, Config& c) { store(detail::read_pem_file(f), c.tls.ca_file); }},
  KeyDef{Section::tls, "min_protocol", KeyType::choice, R"("TLSv1.2")", false,
    "Oldest TLS version accepted, both ways: TLSv1.2 or TLSv1.3.",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_tls_version_names)) {
        c.tls.min_protocol = static_cast<TlsVersion>(*i);
      }
    }},
  KeyDef{Section::tls, "ciphers", KeyType::string, R"("HIGH:!aNULL:!MD5")", false,
    "OpenSSL cipher list for TLS 1.2, both ways (TLS 1.3 suites are OpenSSL's defaults).",
    [](const Field& f, Config& c) { store(detail::read_nonempty_string(f), c.tls.ciphers); }},
  KeyDef{Section::tls, "server_mode", KeyType::choice, R"("disable")", false,
    "TLS towards backends and in health probes, as libpq's sslmode: disable, prefer (TLS if "
    "the backend offers it), require (no certificate check), verify-ca (signed by "
    "server_ca_file), verify-full (and the host name matches the backend's host).",
    [](const Field& f, Config& c) {
      if (const auto i = detail::read_choice(f, detail::k_server_tls_mode_names)) {
        c.tls.server_mode = static_cast<ServerTlsMode>(*i);
      }
    }},
  KeyDef{Section::tls, "server_ca_file", KeyType::path, "", false,
    "CA certificates (PEM) backends' certificates must chain to; needed by verify-ca and "
    "verify-full.",
    [](const Field& f, Config& c) { store(detail::read_pem_file(f), c.tls.server_ca_file); }},
  KeyDef{Section::tls, "server_cert_file", KeyType::path, "", false,
    "Certificate pgrouter presents to backends that ask for one (PEM). Needs server_key_file.",
    [](const Field& f, Config& c) { store(detail::read_pem_file(f), c.tls.server_cert_file); }},
  KeyDef{Section::tls, "server_key_file", KeyType::path, "", false,
    "The private key of server_cert_file (PEM, unencrypted).",
    [](const Field& f, Config& c) { store(detail::read_pem_file(f), c.tls.server_key_file); }},

  // [[backends]]
  KeyDef{Section::backends, "name", KeyType::string, "", false,
    "Unique name: 1 to 63 characters from A-Z a-z 0-9 _ . - (in logs, metrics and admin "
    "output). Default: node0, node1, ... by position.",
    [](const Field& f, Config& c) {
      store(detail::read_backend_name(f), c.backends.back().name);
      c.backends.back().named = true;
    }},
  KeyDef{Section::backends, "host", KeyType::string, "", true,
    "Host name or address of the PostgreSQL server. Required; host:port must be unique.",
    [](const Field& f, Config& c) {
      store(detail::read_nonempty_string(f), c.backends.back().host);
    }},
  KeyDef{Section::backends, "port", KeyType::integer, "5432", false,
    "Port, 1..65535.",
    [](const Field& f, Config& c) {
      store(detail::read_integer(f, 1, 65535), c.backends.back().port);
    }},
  KeyDef{Section::backends, "weight", KeyType::number, "1.0", false,
    "Share of read traffic, >= 0 (0 takes none); an integer or a float.",
    [](const Field& f, Config& c) { store(detail::read_weight(f), c.backends.back().weight); }},
  KeyDef{Section::backends, "data_directory", KeyType::string, "", false,
    "The server's data directory, kept as written. Optional.",
    [](const Field& f, Config& c) {
      store(detail::read_nonempty_string(f), c.backends.back().data_directory);
    }},
};
// clang-format on

}  // namespace

std::string_view to_string(Section section) {
  switch (section) {
    case Section::proxy:
      return "proxy";
    case Section::auth:
      return "auth";
    case Section::health_check:
      return "health_check";
    case Section::load_balance:
      return "load_balance";
    case Section::pool:
      return "pool";
    case Section::failover:
      return "failover";
    case Section::admin:
      return "admin";
    case Section::tls:
      return "tls";
    case Section::backends:
      return "backends";
  }
  return "?";
}

std::string_view to_string(KeyType type) {
  switch (type) {
    case KeyType::string:
      return "string";
    case KeyType::secret:
      return "string (secret)";
    case KeyType::path:
      return "string (path)";
    case KeyType::boolean:
      return "boolean";
    case KeyType::integer:
      return "integer";
    case KeyType::number:
      return "number";
    case KeyType::duration:
      return "duration";
    case KeyType::size:
      return "size";
    case KeyType::choice:
      return "string (choice)";
    case KeyType::strings:
      return "array of strings";
    case KeyType::addresses:
      return "array of strings";
  }
  return "?";
}

std::span<const KeyDef> config_keys() { return k_keys; }

const KeyDef* find_key(Section section, std::string_view name) {
  for (const auto& key : k_keys) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

}  // namespace pgr::conf
