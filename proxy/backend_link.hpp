// One backend connection of a client session, and the replies the session still expects on
// it. A session holds at most one link per node, opened lazily; every request it sends
// produces one ResponseGroup, ended by ReadyForQuery. Groups are visible (the client's own
// units: replies are relayed) or silent (settings replay, side transactions, closes of stale
// statements: replies are dropped, errors logged).
//
// Thread rules: owned by one session, on its worker.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "health/cluster_view.hpp"
#include "protocol/frame_scanner.hpp"
#include "protocol/messages.hpp"
#include "protocol/startup.hpp"
#include "proxy/asio.hpp"
#include "proxy/pool_budget.hpp"
#include "proxy/ring_queue.hpp"
#include "proxy/route_planner.hpp"
#include "proxy/socket_events.hpp"
#include "proxy/stream_buffer.hpp"

namespace pgr::proxy {

struct ResponseGroup {
  enum class Purpose : std::uint8_t { client, replay, side_begin, side_end };
  Purpose purpose = Purpose::client;
  bool sealed = false;     // its Query/Sync/FunctionCall went out: a ReadyForQuery ends it
  bool saw_error = false;
  std::string first_error;  // silent groups: for the log
  std::string last_tag;     // the last CommandComplete tag
  // Replies to Parse (Close) messages pgrouter injected into this group must not reach the
  // client. Each Parse (Close) sent gets an ordinal; replies come back in the same order.
  struct InjectedReplies {
    std::uint32_t sent = 0;
    std::uint32_t seen = 0;
    std::vector<std::uint32_t> injected;  // ordinals of the injected ones (usually empty)

    void note_sent(bool by_pgrouter) {
      if (by_pgrouter) injected.push_back(sent);
      ++sent;
    }
    // For the next reply: true when it answers an injected message (drop it).
    bool next_is_injected() {
      const auto ordinal = seen++;
      return std::find(injected.begin(), injected.end(), ordinal) != injected.end();
    }
  };
  InjectedReplies parses;
  InjectedReplies closes;
  // Client groups.
  bool wrote = false;                 // RouteDecision::writes
  bool ends_transaction = false;
  std::vector<std::string> settings;  // session-state SQL to record if the group succeeds
  bool deallocates_all = false;
  // Statements Parsed on the link in this group: if the group fails, whether they exist
  // there is unknown (an error skips the rest of the unit). A unit of the extended protocol
  // usually Parses one (short-named) statement: held in place, not allocated per request.
  boost::container::small_vector<std::string, 1> parsed;
  std::uint64_t statement_clock_start = 0;  // the link's statement clock when it was sent

  bool visible() const { return purpose == Purpose::client; }
};

// A statement prepared on a backend connection: what it is (a hash of its query and parameter
// types; 0: unknown, re-Parse before use) and when it was last used (for the pooled
// connection's bounded cache).
struct LinkStatement {
  std::uint64_t content = 0;
  std::uint64_t last_used = 0;
};

// Counts a connection as lent out (to a session, or to its reset) in its pool's figures for as
// long as it is set; any path that drops the connection uncounts it.
class LentMark {
 public:
  LentMark() = default;
  LentMark(const LentMark&) = delete;
  LentMark& operator=(const LentMark&) = delete;
  ~LentMark() { clear(); }
  void set(std::shared_ptr<int> counter) {
    clear();
    counter_ = std::move(counter);
    ++*counter_;
  }
  void clear() {
    if (counter_) --*counter_;
    counter_.reset();
  }

 private:
  std::shared_ptr<int> counter_;
};

struct BackendLink {
  std::size_t node = 0;
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  health::NodeRole role_at_open = health::NodeRole::unknown;
  Transport socket;
  std::shared_ptr<Readiness> ready = std::make_shared<Readiness>();
  StreamBuffer in;
  protocol::FrameScanner scanner;
  protocol::byte_buffer out;
  std::size_t out_begin = 0;
  protocol::CancelRequest backend_key;
  RingQueue<ResponseGroup> groups;
  std::uint64_t applied_settings = 0;  // SettingsLog id applied here (0: fresh)
  std::map<std::string, LinkStatement, std::less<>> statements;  // by the name on the server
  std::uint64_t statement_clock = 0;
  bool side_open = false;              // a silent read-only transaction is open here
  std::uint32_t syncs_since_execute = 0;  // see the COPY note in session_loop.cpp
  std::optional<protocol::ErrorFields> fatal;  // a FATAL the backend sent before closing
  bool eof = false;
  bool streaming_to_client = false;  // a message from here is half-way to the client
  char transaction_status = 'I';     // from the last ReadyForQuery
  // A session changed this connection's state (SET, PREPARE, a pin): reset it before another
  // session gets it.
  bool dirty = false;

  // Pooling (backend_pool.hpp): the right to exist under [pool] max_backend_connections, the
  // pool it belongs to, and the ParameterStatus its login produced (a client logging in on it
  // later gets them).
  PoolTicket ticket;
  LentMark lent;
  std::string pool_key;
  protocol::byte_buffer login_status;
  std::chrono::steady_clock::time_point opened_at = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point idle_since = opened_at;

  // The scanner delivers whole every message pgrouter reads (DataRow and CopyData stream).
  explicit BackendLink(Transport s) : socket(std::move(s)), scanner(scanner_options()) {
    for (const char t : {'Z', 'E', 'C', '1', '3', 'G', 'S', 'A', 'N', 'I', 'W'}) scanner.deliver_whole(t);
  }
  BackendLink(const BackendLink&) = delete;
  BackendLink& operator=(const BackendLink&) = delete;
  ~BackendLink() { count_closed(); }

  // The node's open-link gauge (NodeRouteCounters::links) counts this link until it closes.
  void count_open(std::atomic<std::int64_t>& gauge) {
    count_closed();
    gauge.fetch_add(1, std::memory_order_relaxed);
    open_gauge_ = &gauge;
  }
  void count_closed() {
    if (open_gauge_ != nullptr) open_gauge_->fetch_sub(1, std::memory_order_relaxed);
    open_gauge_ = nullptr;
  }

  std::size_t visible_outstanding() const {
    std::size_t n = 0;
    for (const auto& g : groups) n += g.visible() ? 1U : 0U;
    return n;
  }
  std::size_t pending_out() const { return out.size() - out_begin; }

 private:
  static protocol::FrameScanner::Options scanner_options() {
    protocol::FrameScanner::Options o;
    o.direction = protocol::Direction::backend;
    o.max_message_length = protocol::k_large_message_limit;
    o.reject_unknown_types = false;
    return o;
  }
  std::atomic<std::int64_t>* open_gauge_ = nullptr;
};

}  // namespace pgr::proxy
