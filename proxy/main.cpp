// pgrouter's entry point: arguments, config loading, process limits, then the Server.
#include <signal.h>
#include <sys/resource.h>

#include <cstring>
#include <iostream>
#include <string_view>

#include "conf/config.hpp"
#include "pgrouter_version.hpp"
#include "proxy/server.hpp"
#include "support/log.hpp"

namespace {

constexpr std::string_view k_usage =
    "usage: pgrouter --config FILE        run in the foreground\n"
    "       pgrouter --check-config FILE  validate FILE; print FILE:LINE: key: problem per error\n"
    "       pgrouter --version\n";

pgr::log::Level to_log_level(pgr::conf::LogLevel level) {
  switch (level) {
    case pgr::conf::LogLevel::error: return pgr::log::Level::error;
    case pgr::conf::LogLevel::warn: return pgr::log::Level::warn;
    case pgr::conf::LogLevel::info: return pgr::log::Level::info;
    case pgr::conf::LogLevel::debug: return pgr::log::Level::debug;
  }
  return pgr::log::Level::info;
}

// Each client costs two descriptors (client and backend): take all the kernel allows.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

pgr::conf::LoadResult load_or_report(const std::string& path) {
  auto result = pgr::conf::load_config_file(path);
  for (const auto& error : result.errors) std::cerr << error.to_string() << '\n';
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc >= 2 ? argv[1] : "";
  if (command == "--version" && argc == 2) {
    std::cout << "pgrouter " << pgr::k_version << " (" << pgr::k_git_sha << ")\n";
    return 0;
  }
  if ((command == "--check-config" || command == "--config") && argc == 3) {
    const auto loaded = load_or_report(argv[2]);
    if (!loaded.config) return 1;
    if (command == "--check-config") {
      std::cout << argv[2] << ": ok\n";
      return 0;
    }
    pgr::log::set_level(to_log_level(loaded.config->proxy.log_level));
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    pgr::log::info("pgrouter ", pgr::k_version, " (", pgr::k_git_sha, ") starting with ", argv[2]);
    pgr::proxy::Server server(loaded.config);
    return server.run();
  }
  std::cerr << k_usage;
  return 2;
}
