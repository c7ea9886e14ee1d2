// The failover coordinator, on the main thread: it decides the primary (start-up search,
// failover when probes confirm it down), drives one FailoverPlan at a time through its I/O
// (pg_promote, the operator's commands, TIMELINE_HISTORY, ALTER SYSTEM primary_conninfo,
// waiting for followers to stream), judges every node that answers against the current
// primary and timeline (fenced, diverged, following, attached), persists all of it to the
// state file, and imposes it on the health checker's view through a ViewOverlay.
//
// Thread rules: construct, start(), stop() on the main thread, which also runs every
// callback. Single-flight by construction: one failover coroutine at most, all on main.
// Its coroutines share ownership of the state, so destroying the Coordinator while one is
// suspended is safe (they end at their next resumption).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "conf/config.hpp"
#include "health/health_checker.hpp"

namespace pgr::coordinator {

class Coordinator {
 public:
  // `health` must outlive stop() (Server owns both and stops this first).
  Coordinator(boost::asio::any_io_executor main_executor,
              std::shared_ptr<const conf::Config> config, health::HealthChecker& health);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Loads the state file and installs the observer and the overlay: call before
  // health.start(). Returns false when the state file exists but cannot be used (logged).
  void start();
  // Cancels a running failover and background jobs; after it no callback acts.
  void stop();

  // -- operator requests (admin interfaces), main thread --------------------------------------
  struct Result {
    bool ok = false;
    std::string message;
  };
  using Done = std::function<void(Result)>;
  // Holds a node out of service at once (published down, recorded "detached"); refused for
  // the primary and while a failover runs.
  [[nodiscard]] Result detach(std::size_t node);
  // Judges the node again and re-attaches it only if it follows the current primary; until it
  // does it stays out ("following"), and the answer says why.
  [[nodiscard]] Result attach(std::size_t node);
  // Runs the failover machinery with `node` as the only candidate. The current primary, if
  // it answers, is first made read-only (ALTER SYSTEM default_transaction_read_only, its
  // client sessions ended); with `switchover` the candidate must also replay everything the
  // old primary wrote before it is promoted (else nothing changes). The old primary ends
  // fenced; rewind_command, if set, is run for it. `done` runs when it is over.
  void promote(std::size_t node, bool switchover, Done done);
  // A reload that keeps the same backends: failover settings take effect from the next action.
  void set_config(std::shared_ptr<const conf::Config> config);

  struct FailoverRecord {
    std::int64_t at = 0;  // unix seconds
    std::int64_t took_ms = 0;
    bool promoted = false;
    std::string summary;
  };
  struct Stats {
    std::uint64_t failovers = 0;
    bool running = false;
    std::vector<FailoverRecord> recent;  // newest last, at most 10
  };
  [[nodiscard]] Stats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace pgr::coordinator
