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

#include <memory>

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

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace pgr::coordinator
