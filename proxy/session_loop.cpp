// The routed session loop (see session_loop.hpp).
//
// COPY note: in the extended protocol a server ignores Sync while it is in copy-in mode, and
// libpq sends one Sync after Execute (before the data) and another after CopyDone. So the
// Syncs a link received since its last Execute are not answered once the client ends the
// copy; the loop un-counts them then, or it would wait for ReadyForQuery that never comes.
#include "proxy/session_loop.hpp"

#include <algorithm>

#include <boost/container/small_vector.hpp>

#include "protocol/extended_query.hpp"
#include "protocol/messages.hpp"
#include "protocol/secure_random.hpp"
#include "protocol/sqlstate.hpp"
#include "proxy/show_commands.hpp"
#include "proxy/worker.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {
namespace sqlstate = protocol::sqlstate;
using Kind = protocol::FrameEvent::Kind;
using Purpose = ResponseGroup::Purpose;

constexpr std::size_t k_read_chunk = k_read_buffer_size;
// Back-pressure: stop reading from a side while what it sends cannot be written on.
constexpr std::size_t k_max_pending_out = 256 * 1024;
// An extended unit whose Sync has not arrived within this many buffered bytes is routed as it
// is (to the primary, since the rest is unknown).
constexpr std::size_t k_max_lookahead = 256 * 1024;
constexpr auto k_primary_poll = std::chrono::milliseconds(50);

protocol::FrameScanner::Options client_scanner_options(std::uint32_t max_message) {
  protocol::FrameScanner::Options o;
  o.direction = protocol::Direction::frontend;
  o.max_message_length = max_message;
  o.reject_unknown_types = true;
  return o;
}

void deliver_client_whole(protocol::FrameScanner& scanner) {
  // Everything a router must look into arrives whole; CopyData may stream.
  for (const char t : {'Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'F', 'X', 'c', 'f'}) scanner.deliver_whole(t);
}

bool is_fatal(const protocol::ErrorFields& e) { return e.severity == "FATAL" || e.severity == "PANIC"; }

// Combines the facts of one more statement of a unit into the unit's.
void merge(UnitFacts& into, const UnitFacts& more) {
  into.route = std::max(into.route, more.route);
  into.kind = std::max(into.kind, more.kind);
  if (more.begins_transaction) {
    into.begins_transaction = true;
    into.ends_transaction = false;
  } else if (more.ends_transaction) {
    into.ends_transaction = !into.begins_transaction;
    into.begins_transaction = false;
  }
  into.read_only_transaction = into.read_only_transaction || more.read_only_transaction;
  into.serializable_or_repeatable_read = into.serializable_or_repeatable_read || more.serializable_or_repeatable_read;
  into.serializable = into.serializable || more.serializable;
  into.savepoint = into.savepoint || more.savepoint;
  into.pins_to_primary = into.pins_to_primary || more.pins_to_primary;
  into.session_state = into.session_state || more.session_state;
  into.hint_standby = into.hint_standby && more.hint_standby;
  if (!into.required_node) into.required_node = more.required_node;
}

std::string_view sql_of(protocol::bytes_view body) {
  auto sql = protocol::as_chars(body);
  if (!sql.empty() && sql.back() == '\0') sql.remove_suffix(1);
  return sql;
}
}  // namespace

SessionLoop::SessionLoop(Worker& worker, Transport& client, StreamBuffer& client_buffer, SessionIdentity identity,
                         SessionStats& stats)
    : worker_(worker),
      client_(client),
      client_in_(client_buffer),
      identity_(std::move(identity)),
      stats_(stats),
      waker_(worker.context().get_executor(), worker.poller()),
      client_scanner_(client_scanner_options(worker.shared().config->proxy.max_message_size)),
      random_(protocol::secure_random_value<std::uint64_t>()) {
  deliver_client_whole(client_scanner_);
  const auto& config = *worker_.shared().config;
  grow_nodes(std::max(config.backends.size(), worker_.view()->nodes.size()));
  write_functions_ = config.load_balance.write_functions;
  classifier_options_.write_functions = write_functions_;
  pool_mode_ = config.pool.mode;
  prepared_.use_pooled_names(pool_mode_ == conf::PoolMode::transaction);
}

// The client outlives the loop: its readiness must not reach this loop's Waker any more (its
// links, owned here, leave the poller's set as they close).
SessionLoop::~SessionLoop() { client_.unwatch(); }

void SessionLoop::on_view_changed() {
  bool wake = any_visible_outstanding();
  const auto& view = *worker_.view();
  for (std::size_t i = 0; !wake && i < links_.size() && i < view.nodes.size(); ++i) {
    wake = links_[i] && view.nodes[i].removed;
  }
  if (wake) waker_.wake();
}

void SessionLoop::grow_nodes(std::size_t nodes) {
  if (nodes <= links_.size()) return;
  links_.resize(nodes);
  pool_keys_.resize(nodes);
  excluded_.resize(nodes, false);
  excluded_at_.resize(nodes);
  drain_until_.resize(nodes);
}

void SessionLoop::count_link_open(BackendLink& link) {
  auto& counters = worker_.shared().route_counters;
  if (link.node < counters.size()) link.count_open(counters[link.node].links);
}

void SessionLoop::shutdown() {
  shutting_down_ = true;
  waker_.wake();
}

RoutingPolicy SessionLoop::policy() const {
  const auto& lb = worker_.shared().config->load_balance;
  RoutingPolicy p;
  p.enabled = lb.enabled;
  p.session_reader = lb.mode == conf::LoadBalanceMode::session;
  p.reads_in_transactions = lb.transaction_reads == conf::TransactionReads::until_write;
  p.read_your_writes = lb.read_your_writes;
  p.read_only_port = identity_.read_only_port;
  p.reads.primary_reads = lb.primary_reads;
  p.reads.max_lag = lb.max_lag;
  p.reads.max_lag_bytes = lb.max_lag_bytes;
  return p;
}

protocol::Classification SessionLoop::classify(std::string_view sql) {
  return worker_.classifications().classify(sql, classifier_options_);
}

void SessionLoop::adopt(std::unique_ptr<BackendLink> link) {
  const auto node = link->node;
  client_status_ = link->transaction_status;
  cancel_node_ = node;
  routing_.last_node = node;
  grow_nodes(node + 1);
  count_link_open(*link);
  links_[node] = std::move(link);
}

void SessionLoop::end(SessionEnd how, std::string reason, std::optional<SessionError> tell) {
  if (ended_) return;
  ended_ = true;
  outcome_ = std::make_unique<LoopOutcome>(LoopOutcome{how, std::move(reason), std::move(tell)});
}


// ---- the loop ----------------------------------------------------------------------------

awaitable<void> SessionLoop::run() {
  co_await asio::this_coro::throw_if_cancelled(false);
  // The setup and the teardown are out of this body: their locals would otherwise sit in the
  // frame for the whole session (216 bytes with them out, 336 in).
  begin();
  while (!ended_) {
    if (shutting_down_) {
      end(SessionEnd::client_closed, "pgrouter shutting down",
          SessionError::make(sqlstate::admin_shutdown, "terminating connection due to administrator command"));
      break;
    }
    note_view_change();
    bool progress = true;
    while (progress && !ended_) {
      progress = false;
      if (client_ready_->readable && client_out_.size() - client_out_begin_ < k_max_pending_out) {
        progress = read_client() || progress;
      }
      for (std::size_t i = 0; i < links_.size() && !ended_; ++i) {
        auto* link = links_[i].get();
        if (link == nullptr) continue;
        if (link->ready->readable && client_out_.size() - client_out_begin_ < k_max_pending_out) {
          progress = read_link(*link) || progress;
        }
        if (link_for(i) != nullptr) progress = process_link_input(*links_[i]) || progress;
      }
      if (ended_) break;
      progress = process_client_input() || progress;
      if (open_link_for_ && !ended_) {
        // The unit needs a connection this session does not hold: the pool may make it wait,
        // so the wait is here and process_client_input stays a plain call (no coroutine frame
        // per turn of the loop). It then takes the unit up again.
        const auto node = *std::exchange(open_link_for_, std::nullopt);
        co_await ensure_link(node);
        link_attempted_ = true;
        progress = true;
      }
      if (ended_) break;
      progress = flush_client() || progress;
      for (std::size_t i = 0; i < links_.size(); ++i) {
        if (auto* link = links_[i].get()) progress = flush_link(*link) || progress;
      }
    }
    if (ended_) break;
    // After the replies just read, idle links to removed nodes close now; a failed one has
    // answers for the client: go round again to send them.
    if (draining_ && drain_removed_links()) continue;
    if (pool_mode_ == conf::PoolMode::transaction) release_idle_links();
    arm_waits();
    park_buffers();
    const auto deadline = wake_at_.value_or(std::chrono::steady_clock::time_point::max());
    wake_at_.reset();
    if (!waker_.take_pending()) co_await waker_.sleep(deadline);
    take_write_buffer();
  }
  co_await wind_down();
}

void SessionLoop::begin() {
  error_code ec;
  client_.non_blocking(true, ec);
  // TLS may hold decrypted bytes that never make the descriptor readable: try a read first.
  client_ready_->readable = client_.is_tls();
  for (auto& link : links_) {
    if (link) link->socket.non_blocking(true, ec);
    if (link) link->ready->readable = link->socket.is_tls();
  }
  // Bytes the client sent right after its login stay in the login's small buffer.
  park_buffers();
  take_write_buffer();
}

// The client is told (if its stream allows), then every wait comes back before the sockets'
// states go away.
awaitable<void> SessionLoop::wind_down() {
  error_code ec;
  flush_client();
  client_.cancel(ec);
  for (std::size_t i = 0; i < links_.size(); ++i) {
    auto& link = links_[i];
    if (!link) continue;
    // An idle connection in a clean state goes back to the pool (reset first in session
    // mode, or when this session changed its state).
    if (releasable(*link) && link->pending_out() == 0 && !shutting_down_) {
      release_link(i, pool_mode_ == conf::PoolMode::session || link->dirty);
      continue;
    }
    // Work still in flight for a client that is gone: cancel it, or a long query runs on
    // (PostgreSQL notices a closed client only when it next writes to it).
    if (!link->groups.empty() && !link->eof) cancel_abandoned_work(*link);
    link->socket.close(ec);
    link->count_closed();
  }
  for (auto& link : retired_) link->socket.close(ec);
  park_buffers();
  waker_.begin_drain();
  while (waker_.outstanding() > 0) {
    if (!waker_.take_pending()) co_await waker_.sleep();
  }
}

void SessionLoop::cancel_abandoned_work(const BackendLink& link) {
  const auto timeout = worker_.shared().config->proxy.backend_connect_timeout;
  asio::co_spawn(
      client_.get_executor(),
      [endpoint = BackendEndpoint{link.name, link.host, link.port}, key = link.backend_key, timeout,
       tag = identity_.tag]() -> awaitable<void> {
        const std::string error = co_await send_cancel_request(endpoint, key, timeout);
        if (error.empty()) {
          log::debug(tag, ": cancelled the work left on ", endpoint.name, " (backend pid ", key.process_id, ")");
        } else {
          log::debug(tag, ": could not cancel the work left on ", endpoint.name, ": ", error);
        }
      },
      asio::detached);
}

void SessionLoop::arm_waits() {
  const bool client_room = client_out_.size() - client_out_begin_ < k_max_pending_out;
  bool links_room = true;
  for (auto& link : links_) {
    if (link && link->pending_out() >= k_max_pending_out) links_room = false;
  }
  if (!client_eof_ && links_room) waker_.arm_read(client_, client_ready_);
  if (client_out_.size() > client_out_begin_ && !client_ready_->writable) waker_.arm_write(client_, client_ready_);
  for (auto& link : links_) {
    if (!link) continue;
    if (client_room && !link->eof) waker_.arm_read(link->socket, link->ready);
    if (link->pending_out() > 0 && !link->ready->writable) waker_.arm_write(link->socket, link->ready);
  }
  // Retired links are closed (out of the poller's set): nothing refers to them any more.
  retired_.clear();
}

// A sleeping session holds no empty buffer (see BufferCache): 10,000 idle clients would
// otherwise hold 16 KB or more each.
void SessionLoop::park_buffers() {
  if (client_in_.begin == client_in_.end && !client_in_.data.empty()) {
    worker_.read_buffers().give(client_in_.data);
    client_in_.begin = client_in_.end = 0;
  }
  if (client_out_begin_ == client_out_.size() && client_out_.capacity() > 0) {
    client_out_.clear();
    worker_.write_buffers().give(client_out_);
    client_out_begin_ = 0;
  }
}

void SessionLoop::take_write_buffer() {
  if (client_out_.capacity() == 0) {
    client_out_ = worker_.write_buffers().take();
    client_out_.clear();
  }
}

bool SessionLoop::read_client() {
  error_code ec;
  if (client_in_.data.empty()) {
    client_in_.data = worker_.read_buffers().take();
    client_in_.begin = client_in_.end = 0;
    if (client_in_.data.size() < k_read_chunk) client_in_.data.resize(k_read_chunk);
  }
  const auto wanted = client_scanner_.next(client_in_.unread()).wanted;
  const auto status = read_available(client_, client_in_, *client_ready_, wanted, k_read_chunk, ec);
  if (status == IoStatus::closed) {
    client_eof_ = true;
    client_ready_->readable = false;
    return true;
  }
  return status == IoStatus::progress;
}

bool SessionLoop::read_link(BackendLink& link) {
  error_code ec;
  const auto wanted = link.scanner.next(link.in.unread()).wanted;
  const auto status = read_available(link.socket, link.in, *link.ready, wanted, k_read_chunk, ec);
  if (status == IoStatus::closed) {
    link.eof = true;
    link.ready->readable = false;
    return true;
  }
  return status == IoStatus::progress;
}

bool SessionLoop::flush_client() {
  if (client_out_.size() == client_out_begin_) return false;
  const auto before = client_out_begin_ + client_out_.size();
  error_code ec;
  const auto pending = client_out_.size() - client_out_begin_;
  if (!write_available(client_, client_out_, client_out_begin_, *client_ready_, ec)) {
    client_out_.clear();
    client_out_begin_ = 0;
    end(SessionEnd::client_closed, "client disconnected");
    return true;
  }
  const auto left = client_out_.size() - client_out_begin_;
  stats_.backend_bytes += pending - left;
  worker_.counters().add_to_client(pending - left);
  return before != client_out_begin_ + client_out_.size();
}

bool SessionLoop::flush_link(BackendLink& link) {
  if (link.pending_out() == 0) return false;
  const auto pending = link.pending_out();
  error_code ec;
  if (!write_available(link.socket, link.out, link.out_begin, *link.ready, ec)) {
    link.eof = true;  // process_link_input fails it
    return true;
  }
  stats_.client_bytes += pending - link.pending_out();
  worker_.counters().add_to_server(pending - link.pending_out());
  return pending != link.pending_out();
}

void SessionLoop::note_view_change() {
  const auto& view = *worker_.view();
  if (view.generation == view_generation_) return;
  view_generation_ = view.generation;
  grow_nodes(view.nodes.size());
  for (std::size_t i = 0; i < excluded_.size() && i < view.nodes.size(); ++i) {
    // A node excluded after a failure comes back once a probe newer than the failure saw it up.
    if (excluded_[i] && view.nodes[i].status == health::NodeStatus::up && view.nodes[i].last_probe > excluded_at_[i]) {
      excluded_[i] = false;
    }
  }
  for (std::size_t i = 0; i < links_.size() && i < view.nodes.size(); ++i) {
    auto* link = links_[i].get();
    if (link != nullptr && !link->groups.empty() && view.nodes[i].removed) {
      // A node a reload removed is not failing: what runs there may finish (up to
      // wait_timeout, see drain_removed_links), and its link then closes.
      if (!drain_until_[i]) drain_until_[i] = std::chrono::steady_clock::now() + worker_.shared().config->failover.wait_timeout;
      draining_ = true;
      continue;
    }
    if (link != nullptr && link->visible_outstanding() > 0 && view.nodes[i].status == health::NodeStatus::down) {
      // A hung or cut-off node (SIGSTOP, a network cut) never answers: once probes took it out
      // of service (and failover moved on), what is in flight there fails now.
      fail_link(i, "server " + link->name + " was taken out of service while a statement ran there");
      continue;
    }
    if (link == nullptr || !link->groups.empty()) continue;
    const auto& node = view.nodes[i];
    // An idle link to a node that went down or changed role (a promoted standby, a fenced
    // old primary) is closed quietly; the next unit opens a fresh one where the view says.
    if (node.status == health::NodeStatus::down || node.role != link->role_at_open) {
      close_idle_link(i, node.removed ? std::string("node now removed from the configuration")
                                      : "node now " + std::string(health::to_string(node.role)) + ", " +
                                            std::string(health::to_string(node.status)));
    }
  }
}

void SessionLoop::close_idle_link(std::size_t node, std::string_view why) {
  auto& link = links_[node];
  log::info(identity_.tag, ": closing idle link to ", link->name, " (", why, ")");
  forget_node(routing_, node);
  error_code ec;
  link->socket.close(ec);
  link->count_closed();
  retired_.push_back(std::move(link));
  if (copy_link_ == node) copy_link_.reset();
  drain_until_[node].reset();
}

// Links to nodes a reload removed while they had replies to come: closed once idle, failed if
// still busy at their deadline (a hung server must not hold the session forever).
bool SessionLoop::drain_removed_links() {
  const auto& view = *worker_.view();
  const auto now = std::chrono::steady_clock::now();
  draining_ = false;
  bool changed = false;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (!drain_until_[i]) continue;
    const auto* link = links_[i].get();
    if (link == nullptr || i >= view.nodes.size() || !view.nodes[i].removed) {
      drain_until_[i].reset();  // it failed meanwhile, or a reload brought the node back
    } else if (link->groups.empty()) {
      close_idle_link(i, "node now removed from the configuration");
      changed = true;
    } else if (now >= *drain_until_[i]) {
      drain_until_[i].reset();
      fail_link(i, "server " + link->name + " was removed from the configuration and did not answer within wait_timeout");
      changed = true;
    } else {
      draining_ = true;
      wake_at_ = wake_at_ ? std::min(*wake_at_, *drain_until_[i]) : *drain_until_[i];
    }
  }
  return changed;
}

// ---- backend replies -----------------------------------------------------------------------

bool SessionLoop::process_link_input(BackendLink& link) {
  bool progress = false;
  const std::size_t node = link.node;
  for (;;) {
    if (client_out_.size() - client_out_begin_ >= k_max_pending_out) return progress;
    const auto unread = link.in.unread();
    const auto event = link.scanner.next(unread);
    if (event.kind == Kind::need_more) {
      if (link.eof) {
        fail_link(node, link.fatal ? link.fatal->message : "server closed the connection unexpectedly");
        return true;
      }
      return progress;
    }
    if (event.kind == Kind::error) {
      fail_link(node, "invalid message from the server");
      return true;
    }
    progress = true;
    ResponseGroup* group = link.groups.empty() ? nullptr : &link.groups.front();
    if (event.kind == Kind::partial) {
      // A large streamed message (DataRow, CopyData, ...): always part of a group.
      if (group != nullptr && group->visible()) {
        client_out_.insert(client_out_.end(), unread.begin(), unread.begin() + static_cast<std::ptrdiff_t>(event.consumed));
        client_mid_message_ = !event.ends_message;
        link.streaming_to_client = !event.ends_message;
      }
      link.in.begin += event.consumed;
      continue;
    }
    const auto framed = unread.first(event.consumed);
    const auto body = framed.subspan(5);
    bool forward = group != nullptr && group->visible();
    switch (event.type) {
      case 'Z': {
        const auto status = protocol::parse_ready_for_query(body);
        if (!status || group == nullptr) {
          fail_link(node, "unexpected ReadyForQuery from the server");
          return true;
        }
        if (forward) {
          client_out_.insert(client_out_.end(), framed.begin(), framed.end());
          client_status_ = *status;
        }
        link.transaction_status = *status;
        link.in.begin += event.consumed;
        finish_group(link, *status);
        continue;
      }
      case 'E': {
        auto fields = protocol::parse_error_response(body);
        if (fields && is_fatal(*fields)) {
          // The server is closing this connection; the loop reports it when the EOF comes,
          // and only to units in flight here.
          log::info(identity_.tag, ": ", link.name, " sent FATAL ", fields->sqlstate, " ", fields->message);
          link.fatal = std::move(fields);
          forward = false;
          break;
        }
        if (fields && fields->sqlstate == sqlstate::read_only_sql_transaction && !identity_.read_only_port &&
            worker_.view()->primary == node) {
          // The primary refused a write as read-only: it may have been demoted. Only a probe
          // decides; this asks main for one now.
          if (const auto& report = worker_.shared().report_backend_failure) report(node, "25006 from the primary");
        }
        if (forward && fields) worker_.counters().count_error(fields->sqlstate);
        if (group != nullptr) {
          group->saw_error = true;
          if (!group->visible() && group->first_error.empty() && fields) {
            group->first_error = fields->sqlstate + " " + fields->message;
          }
        }
        break;
      }
      case '1':
        if (group != nullptr && group->parses.next_is_injected()) forward = false;
        break;
      case '3':
        if (group != nullptr && group->closes.next_is_injected()) forward = false;
        break;
      case 'C':
        if (group != nullptr) {
          if (const auto tag = protocol::parse_command_complete(body)) group->last_tag = std::string(*tag);
        }
        break;
      case 'A':
        forward = true;  // notifications are the session's, whichever group is running
        break;
      case 'N':
        if (group == nullptr) {
          // Between requests a server only warns about itself ("terminating connection due
          // to immediate shutdown"): about this link, not the client's session, which
          // survives it.
          if (const auto fields = protocol::parse_error_response(body)) {
            log::info(identity_.tag, ": ", link.name, " said ", fields->severity, " ", fields->sqlstate, " ", fields->message);
          }
          forward = false;
        }
        break;
      case 'S':
        // PostgreSQL 14+ reports in_hot_standby: "on" from the primary means it was demoted
        // (or replaced); ask main to re-probe it at once.
        if (const auto status = protocol::parse_parameter_status(body);
            status && status->name == "in_hot_standby" && status->value == "on" && worker_.view()->primary == node) {
          if (const auto& report = worker_.shared().report_backend_failure) report(node, "in_hot_standby=on");
        }
        // Outside the client's own units (a promoted standby's in_hot_standby, a reload
        // elsewhere) it describes a backend, not the session: not relayed.
        break;
      default:
        if (group == nullptr) {
          fail_link(node, "unexpected message from the server between requests");
          return true;
        }
        break;
    }
    if (forward) client_out_.insert(client_out_.end(), framed.begin(), framed.end());
    if (link_for(node) == nullptr) return true;  // failed above
    link.in.begin += event.consumed;
  }
}

bool SessionLoop::any_visible_outstanding() const {
  for (const auto& link : links_) {
    if (link && link->visible_outstanding() > 0) return true;
  }
  return false;
}

void SessionLoop::finish_group(BackendLink& link, char status) {
  ResponseGroup group = std::move(link.groups.front());
  link.groups.pop_front();
  if (group.saw_error) {
    // An error skips the rest of the unit: whether its Parses happened is unknown here.
    for (const auto& name : group.parsed) {
      if (const auto it = link.statements.find(name); it != link.statements.end()) it->second.content = 0;
    }
  }
  if (!group.visible()) {
    if (group.saw_error) {
      log::warn(identity_.tag, ": on ", link.name, ", pgrouter's own ",
                group.purpose == Purpose::replay ? "replay of a session setting" : "transaction statement",
                " failed: ", group.first_error);
    }
    if (group.purpose == Purpose::side_end) link.side_open = false;
    return;
  }
  const bool last = !any_visible_outstanding();
  // A unit that failed, or a transaction that ended in ROLLBACK, committed nothing.
  const bool committed = !group.saw_error && group.last_tag != "ROLLBACK";
  on_unit_finished(routing_, link.node, status, last, group.wrote, committed, std::chrono::system_clock::now());

  // Session settings: recorded only once they succeeded (and, inside a transaction, held
  // until it commits: SET is transactional).
  if (!group.saw_error && !group.settings.empty()) {
    link.dirty = true;
    if (status == 'I') {
      const bool current = link.applied_settings == settings_.last_id() || settings_.last_id() == 0;
      std::uint64_t id = 0;
      for (const auto& sql : group.settings) id = settings_.record(sql);
      if (current) link.applied_settings = id;
      if (group.deallocates_all) {
        prepared_.clear();
        link.statements.clear();
      }
    } else {
      for (const auto& sql : group.settings) settings_.hold(sql);
    }
  }
  if (group.ends_transaction || (status == 'I' && routing_.txn == TxnMode::none)) {
    if (status == 'I') {
      if (group.last_tag == "COMMIT") settings_.commit_held();
      else if (group.ends_transaction) settings_.drop_held();
      portals_.clear();
    }
  }
  if (status == 'I') close_side_transaction();
}

void SessionLoop::fail_link(std::size_t node, std::string_view reason) {
  auto owned = std::move(links_[node]);
  if (!owned) return;
  BackendLink& link = *owned;
  log::warn(identity_.tag, ": lost backend ", link.name, " (", reason, ")");
  if (const auto& report = worker_.shared().report_backend_failure) report(node, std::string(reason));
  excluded_[node] = true;
  excluded_at_[node] = std::chrono::system_clock::now();
  const bool lost_transaction = forget_node(routing_, node);
  if (lost_transaction) {
    // The client's transaction died with this link. Until the client ends it, nothing of it
    // may run elsewhere: a COMMIT on a fresh link would be "acknowledged" with nothing behind it.
    txn_lost_ = true;
    txn_lost_on_ = link.name;
  }

  if (link.streaming_to_client) {
    // Half a message is already with the client: its stream cannot be repaired.
    end(SessionEnd::backend_closed, "backend " + link.name + " failed in the middle of a reply");
  } else {
    protocol::ErrorFields error;
    error.sqlstate = link.fatal ? link.fatal->sqlstate : std::string(sqlstate::connection_failure);
    error.message = link.fatal ? link.fatal->message : "server closed the connection unexpectedly";
    error.detail = "pgrouter lost its connection to backend " + link.name + "; the session continues.";
    const char status = lost_transaction || routing_.txn != TxnMode::none ? 'E' : 'I';
    for (auto& group : link.groups) {
      if (!group.visible()) continue;
      if (group.wrote && routing_.unconfirmed_writes > 0) --routing_.unconfirmed_writes;
      protocol::write_error_response(client_out_, error);
      worker_.counters().count_error(error.sqlstate);
      if (group.sealed) {
        protocol::write_ready_for_query(client_out_, status);
        client_status_ = status;
      } else {
        discard_until_sync_ = true;  // the rest of this unit is dropped, its Sync answered
      }
    }
    if (status == 'E' && routing_.txn != TxnMode::none) routing_.txn_failed = true;
  }
  if (unit_link_ == node) unit_link_.reset();
  if (copy_link_ == node) copy_link_.reset();
  if (cancel_node_ == node) cancel_node_.reset();
  error_code ec;
  link.socket.close(ec);
  link.count_closed();
  retired_.push_back(std::move(owned));
}

// ---- client units --------------------------------------------------------------------------

bool SessionLoop::other_links_busy(std::size_t node) const {
  for (const auto& link : links_) {
    if (link && link->node != node && link->visible_outstanding() > 0) return true;
  }
  return false;
}

// Facts of the unit starting at the front of the client buffer. Extended units are looked at
// up to their Sync (or Flush); if it has not arrived yet, the caller reads more first.
SessionLoop::Gather SessionLoop::gather_facts(char first_type, UnitFacts& facts) {
  auto unread = client_in_.unread();
  if (first_type == 'Q') {
    const auto msg = protocol::view_message(unread.first(5 + protocol::ByteReader(unread.subspan(1, 4)).u32() - 4));
    facts = unit_facts(classify(sql_of(msg->body)));
    return Gather::ready;
  }
  if (first_type == 'F') {
    facts = UnitFacts{};
    facts.route = protocol::Route::primary;
    facts.kind = protocol::StatementKind::unknown;
    return Gather::ready;
  }
  // Extended: walk whole messages without consuming them.
  protocol::FrameScanner scanner(client_scanner_options(worker_.shared().config->proxy.max_message_size));
  deliver_client_whole(scanner);
  std::size_t at = 0;
  bool complete = false;
  bool any = false;
  UnitFacts combined;
  combined.hint_standby = true;
  // Statement -> what its SQL does, for the statements this unit Parses: names point into the
  // client's buffer, which nothing consumes before this returns. Units Parse one or two
  // statements, so a list searched in order beats a map (and allocates nothing).
  boost::container::small_vector<std::pair<std::string_view, UnitFacts>, 2> parsed_here;
  const auto parsed_here_find = [&](std::string_view statement) {
    return std::find_if(parsed_here.begin(), parsed_here.end(), [&](const auto& p) { return p.first == statement; });
  };
  const auto add = [&](const UnitFacts& f) {
    if (!any) {
      combined = f;
      any = true;
    } else {
      merge(combined, f);
    }
  };
  while (at < unread.size() && at < k_max_lookahead) {
    const auto event = scanner.next(unread.subspan(at));
    if (event.kind != Kind::message) break;  // need more, a streamed message, or an error
    const auto body = unread.subspan(at + 5, event.consumed - 5);
    at += event.consumed;
    const char type = event.type;
    if (type == 'P') {
      if (const auto head = protocol::parse_parse_head(body)) {
        auto it = parsed_here_find(head->statement);
        if (it == parsed_here.end()) it = parsed_here.emplace(parsed_here.end(), head->statement, UnitFacts{});
        const auto& bound = it->second = unit_facts(classify(head->sql));
        // A Parse alone prepares; what it would do decides nothing until it is bound, but a
        // unit of Parses only still has to run somewhere: let its SQL choose.
        auto f = bound;
        f.begins_transaction = f.ends_transaction = false;
        if (!any) add(f);
      }
    } else if (type == 'B') {
      if (const auto head = protocol::parse_bind_head(body)) {
        if (const auto it = parsed_here_find(head->statement); it != parsed_here.end()) {
          add(it->second);
        } else if (const auto* statement = prepared_.find(head->statement)) {
          add(unit_facts(statement->facts));
        } else {
          UnitFacts unknown;
          unknown.route = protocol::Route::primary;
          unknown.kind = protocol::StatementKind::unknown;
          add(unknown);
        }
      }
    } else if (type == 'E' || (type == 'D' || type == 'C')) {
      std::optional<std::string_view> portal;
      if (type == 'E') portal = protocol::parse_execute_portal(body);
      else if (const auto ref = protocol::parse_target_ref(body); ref && ref->kind == 'P') portal = ref->name;
      if (portal) {
        if (const auto it = portals_.find(*portal); it != portals_.end()) {
          UnitFacts f;
          f.required_node = it->second;
          add(f);
        }
      }
    } else if (type == 'Q' || type == 'F' || type == 'X') {
      complete = true;  // a new unit starts: this one ends here without a Sync
      break;
    }
    if (type == 'S' || type == 'H') {
      complete = true;
      break;
    }
  }
  if (!complete && at < k_max_lookahead && !client_eof_) return Gather::need_more;
  if (!complete) {
    // Not all of it is known: only the primary can be trusted with the rest.
    combined.route = protocol::Route::primary;
    combined.kind = protocol::StatementKind::unknown;
  }
  if (!any) {
    combined = UnitFacts{};
    combined.route = protocol::Route::either;
  }
  facts = combined;
  return Gather::ready;
}

const std::string& SessionLoop::pool_key_for(std::size_t node) {
  grow_nodes(node + 1);
  if (pool_keys_[node].empty()) pool_keys_[node] = pool_key(node, identity_.parameters);
  return pool_keys_[node];
}

awaitable<BackendLink*> SessionLoop::ensure_link(std::size_t node) {
  grow_nodes(node + 1);
  if (auto* link = link_for(node)) co_return link;
  pool_error_.reset();
  // Hold nothing idle while waiting: a session holding an idle link to one node while it waits
  // for another node's would deadlock with one doing the opposite.
  if (pool_mode_ == conf::PoolMode::transaction) release_idle_links();
  PoolRequest request{node, pool_key_for(node), &identity_.parameters, identity_.credentials.get(), identity_.tag};
  auto acquired = co_await worker_.pool().acquire(std::move(request));
  if (auto* failure = std::get_if<PoolFailure>(&acquired)) {
    const auto& name = worker_.view()->nodes[node].name;
    log::warn(identity_.tag, ": no connection to ", name, ": ", failure->error.sqlstate, " ", failure->error.message);
    if (!failure->node_failed) {
      // Not the node's fault (the pool's wait timed out, the backend refused this user):
      // the unit fails with that error.
      pool_error_ = std::make_unique<SessionError>(std::move(failure->error));
      co_return nullptr;
    }
    if (const auto& report = worker_.shared().report_backend_failure) report(node, failure->error.message);
    excluded_[node] = true;
    excluded_at_[node] = std::chrono::system_clock::now();
    forget_node(routing_, node);
    co_return nullptr;
  }
  co_return install_link(node, std::move(std::get<std::unique_ptr<BackendLink>>(acquired)));
}

BackendLink* SessionLoop::take_idle_link(std::size_t node) {
  auto link = worker_.pool().lend_idle(node, pool_key_for(node));
  return link ? install_link(node, std::move(link)) : nullptr;
}

BackendLink* SessionLoop::install_link(std::size_t node, std::unique_ptr<BackendLink> link) {
  error_code ec;
  link->socket.non_blocking(true, ec);
  // Its first watch has the kernel report what the socket holds (readiness_poller.hpp); only
  // TLS may hold bytes the descriptor does not show (see begin()).
  link->ready->readable = link->socket.is_tls();
  // Whatever sessions used it before, it holds none of this session's settings: a reused
  // connection was reset (or never changed), so the log replays from its reset point.
  link->applied_settings = 0;
  log::debug(identity_.tag, ": took a connection to ", link->name, " (backend pid ", link->backend_key.process_id, ")");
  count_link_open(*link);
  grow_nodes(node + 1);  // the view may have grown during the wait
  links_[node] = std::move(link);
  return links_[node].get();
}

// Transaction pooling: a link goes back to the pool once nothing of the session's is on it —
// no reply to come, no transaction open (the server said 'I'), no side transaction, no
// extended unit half sent, and the session not pinned (temp tables, LISTEN, WITH HOLD
// cursors, session advisory locks live on that one connection).
bool SessionLoop::releasable(const BackendLink& link) const {
  return link.groups.empty() && !link.eof && link.transaction_status == 'I' && !link.side_open &&
         link.in.unread().empty() && !link.streaming_to_client && unit_link_ != link.node;
}

void SessionLoop::release_idle_links() {
  // (A link holding the client's transaction is not 'I'; one holding its side transaction is
  // side_open: releasable() keeps both.)
  if (routing_.pinned || txn_lost_ || discard_until_sync_) return;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    const auto* link = links_[i].get();
    if (link == nullptr || !releasable(*link) || link->pending_out() > 0) continue;
    if (pending_ && pending_->decision.node == i) continue;  // about to be used
    release_link(i, link->dirty);
  }
}

void SessionLoop::release_link(std::size_t node, bool reset) {
  auto link = std::move(links_[node]);
  if (copy_link_ == node) copy_link_.reset();
  if (cancel_node_ == node) {
    // Between transactions the session holds no backend: a cancel must not reach the
    // connection's next user.
    if (!ended_) worker_.shared().cancel_registry.set_target(identity_.cancel_key, std::nullopt);
    cancel_node_.reset();
  }
  drain_until_[node].reset();
  worker_.pool().release(std::move(link), reset);
}

// Before a client unit runs on `link`: replay the settings it lacks and open the read-only
// side transaction if the plan asks for one. Their replies are dropped; they are pipelined
// with the unit (the server runs them in order), so they cost no extra round trip.
void SessionLoop::prepare_link(BackendLink& link, bool open_side) {
  const auto pending = settings_.pending_for(link.applied_settings);
  for (const auto* entry : pending) {
    protocol::write_query(link.out, entry->sql);
    ResponseGroup group;
    group.purpose = Purpose::replay;
    group.sealed = true;
    link.groups.push_back(std::move(group));
    if (SettingsLog::deallocates_all(entry->sql)) link.statements.clear();
  }
  if (!pending.empty()) {
    log::debug(identity_.tag, ": replaying ", pending.size(), " session setting(s) on ", link.name);
    link.dirty = true;
  }
  link.applied_settings = settings_.last_id();
  if (open_side && !link.side_open) {
    protocol::write_query(link.out, "BEGIN READ ONLY");
    ResponseGroup group;
    group.purpose = Purpose::side_begin;
    group.sealed = true;
    link.groups.push_back(std::move(group));
    link.side_open = true;
  }
}

// Once the client's transaction is over, every link still holding a read-only side
// transaction for it rolls that back (silently).
void SessionLoop::close_side_transaction() {
  if (routing_.txn != TxnMode::none) return;
  for (auto& link : links_) {
    if (!link || !link->side_open) continue;
    protocol::write_query(link->out, "ROLLBACK");
    ResponseGroup group;
    group.purpose = Purpose::side_end;
    group.sealed = true;
    link->groups.push_back(std::move(group));
    link->side_open = false;
  }
  routing_.txn_side.reset();
}

// Forwards one client message of a routed unit, re-Parsing on this link any statement it
// needs that the link does not have (or has in another version). With pooled names
// (transaction pooling) statements live on backends as "pgr_<hash>", shared by every client
// that prepares the same SQL, and the messages are rewritten to use those names.
void SessionLoop::forward_in_unit(BackendLink& link, char type, protocol::bytes_view framed, protocol::bytes_view body) {
  ResponseGroup& group = link.groups.back();
  const bool pooled = prepared_.pooled_names();
  const auto record = [&](const std::string& server_name, std::uint64_t content) {
    auto& entry = link.statements[server_name];
    entry.content = content;
    entry.last_used = ++link.statement_clock;
    group.parsed.push_back(server_name);
    if (pooled) trim_statement_cache(link, group);
  };
  // Makes `statement` exist on this link under its server name.
  const auto ensure = [&](const PreparedStatements::Statement& statement) {
    const auto it = link.statements.find(statement.server_name);
    if (it != link.statements.end() && it->second.content == statement.content) {
      it->second.last_used = ++link.statement_clock;
      return;
    }
    if (it != link.statements.end() && !statement.server_name.empty()) {
      protocol::write_close(link.out, 'S', statement.server_name);
      group.closes.note_sent(true);
    }
    if (pooled) {
      protocol::write_parse_renamed(link.out, statement.parse, statement.server_name);
    } else {
      link.out.insert(link.out.end(), statement.parse.begin(), statement.parse.end());
    }
    group.parses.note_sent(true);
    record(statement.server_name, statement.content);
  };
  // A statement the client refers to by `name`: ensured here; nullptr when the client has
  // no such statement.
  const auto use = [&](std::string_view name) -> const PreparedStatements::Statement* {
    const auto* statement = prepared_.find(name);
    if (statement == nullptr) {
      // The client closed it (on another link) but this link still has it under the
      // client's name: close it here too, so the client's Bind fails as on a single server.
      if (const auto it = link.statements.find(name); !pooled && it != link.statements.end()) {
        protocol::write_close(link.out, 'S', name);
        group.closes.note_sent(true);
        link.statements.erase(it);
      }
      return nullptr;
    }
    ensure(*statement);
    return statement;
  };
  switch (type) {
    case 'P': {
      const auto head = protocol::parse_parse_head(body);
      if (!head) break;  // malformed: the server answers it
      if (!pooled && !head->statement.empty() && link.statements.contains(head->statement) &&
          prepared_.find(head->statement) == nullptr) {
        // The client closed this name earlier (on another link): close the stale copy here.
        protocol::write_close(link.out, 'S', head->statement);
        group.closes.note_sent(true);
      }
      prepared_.parsed(head->statement, framed, head->sql, classifier_options_, &worker_.classifications());
      const auto& statement = *prepared_.find(head->statement);
      if (statement.facts.session_state) group.settings.emplace_back(head->sql);
      group.parses.note_sent(false);
      if (!pooled) {
        record(statement.server_name, statement.content);
        break;
      }
      if (!statement.server_name.empty() && link.statements.contains(statement.server_name)) {
        // Another client (or this one, earlier) left it here: this Parse replaces it.
        protocol::write_close(link.out, 'S', statement.server_name);
        group.closes.note_sent(true);
      }
      protocol::write_parse_renamed(link.out, framed, statement.server_name);
      record(statement.server_name, statement.content);
      return;
    }
    case 'B':
      if (const auto head = protocol::parse_bind_head(body)) {
        const auto* statement = use(head->statement);
        if (routing_.txn != TxnMode::none || !head->portal.empty()) portals_[std::string(head->portal)] = link.node;
        if (pooled && statement != nullptr) {
          protocol::write_bind_renamed(link.out, framed, statement->server_name);
          return;
        }
      }
      break;
    case 'D':
      if (const auto ref = protocol::parse_target_ref(body); ref && ref->kind == 'S') {
        const auto* statement = use(ref->name);
        if (pooled && statement != nullptr) {
          protocol::write_target_renamed(link.out, framed, statement->server_name);
          return;
        }
      }
      break;
    case 'C':
      if (const auto ref = protocol::parse_target_ref(body)) {
        if (ref->kind == 'S') {
          prepared_.closed(ref->name);
          group.closes.note_sent(false);
          if (pooled) {
            // The server's copy stays for other clients (the cache bounds it); the client
            // still gets its CloseComplete: closing a name that does not exist is no error.
            protocol::write_close(link.out, 'S', "pgrouter_no_statement");
            return;
          }
          link.statements.erase(std::string(ref->name));
          break;
        }
        portals_.erase(std::string(ref->name));
      }
      group.closes.note_sent(false);
      break;
    case 'E':
      link.syncs_since_execute = 0;
      break;
    case 'S':
      ++link.syncs_since_execute;
      group.sealed = true;
      break;
    default: break;
  }
  link.out.insert(link.out.end(), framed.begin(), framed.end());
}

void SessionLoop::trim_statement_cache(BackendLink& link, ResponseGroup& group) {
  const auto limit = static_cast<std::size_t>(std::max(1, worker_.shared().config->pool.max_prepared_statements));
  while (link.statements.size() > limit) {
    // The least recently used one this unit does not need.
    auto victim = link.statements.end();
    for (auto it = link.statements.begin(); it != link.statements.end(); ++it) {
      if (it->first.empty() || it->second.last_used > group.statement_clock_start) continue;
      if (victim == link.statements.end() || it->second.last_used < victim->second.last_used) victim = it;
    }
    if (victim == link.statements.end()) return;  // all in use by this unit: over the limit until it ends
    protocol::write_close(link.out, 'S', victim->first);
    group.closes.note_sent(true);
    link.statements.erase(victim);
  }
}

void SessionLoop::dispatch_unit(BackendLink& link, const PendingUnit& unit, char type, protocol::bytes_view framed,
                                protocol::bytes_view body) {
  const auto& d = unit.decision;
  auto& shared = worker_.shared();
  if (d.node < shared.route_counters.size()) {
    auto& counters = shared.route_counters[d.node];
    switch (d.kind) {
      case RouteKind::read: counters.reads.fetch_add(1, std::memory_order_relaxed); break;
      case RouteKind::write: counters.writes.fetch_add(1, std::memory_order_relaxed); break;
      case RouteKind::other: counters.others.fetch_add(1, std::memory_order_relaxed); break;
    }
  }
  log::debug(identity_.tag, ": route ", to_string(d.kind), " -> ", link.name, " (", d.reason, ")");
  if (cancel_node_ != d.node) {
    // Cancel requests go where the client's statements now run.
    shared.cancel_registry.set_target(identity_.cancel_key, CancelTarget{link.host, link.port, link.backend_key});
    cancel_node_ = d.node;
  }
  ResponseGroup group;
  group.purpose = Purpose::client;
  group.wrote = d.writes;
  group.ends_transaction = unit.facts.ends_transaction;
  group.statement_clock_start = link.statement_clock;
  link.groups.push_back(std::move(group));
  // Session state (SET, PREPARE, ...) or a pin changes the connection beyond this unit: it is
  // reset before another session gets it.
  if (unit.facts.session_state || unit.facts.pins_to_primary || routing_.pinned) link.dirty = true;
  copy_link_ = d.node;
  if (type == 'Q') {
    const auto sql = sql_of(body);
    auto& g = link.groups.back();
    if (unit.facts.session_state) {
      g.settings.emplace_back(sql);
      g.deallocates_all = SettingsLog::deallocates_all(sql);
    }
    g.sealed = true;
    link.statements.erase(std::string());  // a simple Query destroys the unnamed statement
    link.syncs_since_execute = 0;
    link.out.insert(link.out.end(), framed.begin(), framed.end());
    return;
  }
  if (type == 'F') {
    link.groups.back().sealed = true;
    link.out.insert(link.out.end(), framed.begin(), framed.end());
    return;
  }
  unit_link_ = d.node;
  forward_in_unit(link, type, framed, body);
  if (type == 'S') unit_link_.reset();
}

// Replies pgrouter makes itself, queued behind everything the client is still owed.
void SessionLoop::answer_locally(const protocol::byte_buffer& reply, bool then_ready) {
  client_out_.insert(client_out_.end(), reply.begin(), reply.end());
  if (then_ready) protocol::write_ready_for_query(client_out_, client_status_);
}

// The unit at the front of the client buffer cannot run anywhere: it gets an error (and, for
// an extended unit, everything up to its Sync is dropped and the Sync answered).
void SessionLoop::refuse_unit(std::string_view code, std::string message, std::string detail) {
  protocol::ErrorFields error;
  error.sqlstate = std::string(code);
  error.message = std::move(message);
  error.detail = std::move(detail);
  protocol::byte_buffer reply;
  protocol::write_error_response(reply, error);
  worker_.counters().count_error(error.sqlstate);
  const char type = static_cast<char>(client_in_.unread()[0]);
  const bool simple = type == 'Q' || type == 'F';
  answer_locally(reply, simple);
  if (!simple) discard_until_sync_ = true;
}

// The session's transaction was lost with its backend. ROLLBACK is answered as PostgreSQL
// would; COMMIT fails (its work is gone) and ends the transaction; anything else fails and
// leaves the client in a failed transaction, as after any error.
void SessionLoop::answer_in_lost_transaction(char type, protocol::bytes_view body, const UnitFacts& facts) {
  const bool ends = facts.ends_transaction && !facts.begins_transaction;
  const bool rollback = ends && type == 'Q' && SettingsLog::is_rollback(sql_of(body));
  if (rollback) {
    protocol::byte_buffer reply;
    protocol::write_command_complete(reply, "ROLLBACK");
    client_status_ = 'I';
    answer_locally(reply, true);
  } else {
    client_status_ = ends ? 'I' : 'E';
    refuse_unit(sqlstate::connection_failure,
                ends ? "the transaction was lost with the connection to server " + txn_lost_on_ + "; it was not committed"
                     : "the connection to server " + txn_lost_on_ + " holding this transaction was lost",
                ends ? "" : "End the transaction with ROLLBACK.");
  }
  if (ends) {
    txn_lost_ = false;
    log::info(identity_.tag, ": lost transaction ended by the client (", rollback ? "ROLLBACK" : "refused COMMIT", ")");
  }
}

// Transaction pooling: a unit of nothing but Parses and a Sync (libpq's PQprepare, pgbench -M
// prepared) from a session that holds no connection is answered here, and the statements are
// prepared on a connection when a Bind first needs them. Waiting for a connection just to
// prepare would deadlock a client that prepares on one connection while another of its
// connections holds a transaction open (pgbench runs many clients per thread and PQprepare
// blocks). The one difference a client can see: a statement with an error in its SQL fails
// at its first Bind instead of at the Parse.
bool SessionLoop::answer_parses_locally() {
  if (pool_mode_ != conf::PoolMode::transaction || routing_.txn != TxnMode::none || client_status_ != 'I' ||
      routing_.pinned || any_visible_outstanding()) {
    return false;
  }
  for (const auto& link : links_) {
    if (link) return false;  // a connection is at hand: let its server parse
  }
  const auto unread = client_in_.unread();
  protocol::FrameScanner scanner(client_scanner_options(worker_.shared().config->proxy.max_message_size));
  deliver_client_whole(scanner);
  std::size_t at = 0;
  std::vector<protocol::bytes_view> parses;
  for (;;) {
    const auto event = scanner.next(unread.subspan(at));
    if (event.kind != Kind::message) return false;  // incomplete (the caller waits) or not whole
    const auto body = unread.subspan(at + 5, event.consumed - 5);
    if (event.type == 'S') {
      at += event.consumed;
      break;
    }
    if (event.type != 'P') return false;
    const auto head = protocol::parse_parse_head(body);
    if (!head || (!head->statement.empty() && prepared_.find(head->statement) != nullptr)) return false;
    if (classify(head->sql).session_state) return false;
    parses.push_back(unread.subspan(at, event.consumed));
    at += event.consumed;
  }
  // All there: record each statement and answer as the server would (ParseComplete each).
  for (const auto framed : parses) {
    const auto head = protocol::parse_parse_head(framed.subspan(5));
    prepared_.parsed(head->statement, framed, head->sql, classifier_options_, &worker_.classifications());
    for (const std::uint8_t b : {std::uint8_t{'1'}, std::uint8_t{0}, std::uint8_t{0}, std::uint8_t{0}, std::uint8_t{4}}) {
      client_out_.push_back(b);
    }
  }
  protocol::write_ready_for_query(client_out_, client_status_);
  client_in_.begin += at;
  return true;
}

bool SessionLoop::answer_show(std::string_view sql) {
  const auto& shared = worker_.shared();
  const auto pools = shared.pool_rows ? shared.pool_rows() : std::vector<admin::PoolSnapshot>{};
  auto reply = answer_show_command(sql, *worker_.view(), shared.route_counters, routing_.last_node, pools,
                                   shared.config->pool);
  if (!reply) return false;
  answer_locally(*reply, true);
  return true;
}

bool SessionLoop::process_client_input() {
  bool progress = false;
  const auto& config = *worker_.shared().config;
  for (;;) {
    if (ended_) return progress;
    // Do not take more from the client while a backend cannot take it.
    for (auto& link : links_) {
      if (link && link->pending_out() >= k_max_pending_out) return progress;
    }
    const auto unread = client_in_.unread();
    const auto event = client_scanner_.next(unread);
    if (event.kind == Kind::need_more) {
      if (client_eof_) end(SessionEnd::client_closed, "client disconnected");
      return progress;
    }
    if (event.kind == Kind::error) {
      const std::string what(protocol::describe(event.error));
      end(SessionEnd::client_protocol_error, "client protocol violation: " + what,
          SessionError::make(sqlstate::protocol_violation, "invalid message from client: " + what));
      return true;
    }
    if (event.kind == Kind::partial) {
      // Streamed CopyData: it belongs to the copy in progress.
      if (copy_link_) {
        if (auto* link = link_for(*copy_link_)) link->out.insert(link->out.end(), unread.begin(), unread.begin() + static_cast<std::ptrdiff_t>(event.consumed));
      }
      client_in_.begin += event.consumed;
      progress = true;
      continue;
    }
    const char type = event.type;
    const auto framed = unread.first(event.consumed);
    const auto body = framed.subspan(5);

    if (type == 'X') {
      end(SessionEnd::client_terminated, "client terminated");
      return true;
    }
    if (type == 'd' || type == 'c' || type == 'f') {
      if (copy_link_) {
        if (auto* link = link_for(*copy_link_)) {
          link->out.insert(link->out.end(), framed.begin(), framed.end());
          if (type != 'd') {
            // See the COPY note at the top: those Syncs will not be answered.
            if (link->syncs_since_execute > 0 && !link->groups.empty()) {
              // The groups of the ignored Syncs merge into the copy's group: unseal the last
              // one so the Sync the client sends after CopyDone ends it.
              std::size_t n = link->syncs_since_execute;
              while (n > 0 && link->groups.size() > 1 && link->groups.back().visible() && link->groups.back().sealed &&
                     link->groups[link->groups.size() - 2].visible()) {
                link->groups.pop_back();
                --n;
              }
              if (n > 0 && link->groups.back().visible()) link->groups.back().sealed = false;
              unit_link_ = link->node;
              link->syncs_since_execute = 0;
            }
          }
        }
      }
      client_in_.begin += event.consumed;
      progress = true;
      continue;
    }
    if (discard_until_sync_) {
      if (type == 'S') {
        discard_until_sync_ = false;
        if (!any_visible_outstanding()) {
          protocol::write_ready_for_query(client_out_, client_status_);
        } else {
          // Owed after the replies still in flight: answer it when they are done.
          discard_until_sync_ = true;
          return progress;
        }
      }
      client_in_.begin += event.consumed;
      progress = true;
      continue;
    }
    if (unit_link_) {
      // The rest of an extended unit goes where its start went.
      auto* link = link_for(*unit_link_);
      if (link == nullptr) {
        unit_link_.reset();
        discard_until_sync_ = true;
        continue;
      }
      forward_in_unit(*link, type, framed, body);
      if (type == 'S') unit_link_.reset();
      client_in_.begin += event.consumed;
      progress = true;
      continue;
    }

    // A new unit starts here. Its plan stays in `planned` while it runs at once (nearly
    // always); only a unit that must wait moves to pending_, so a relay does not allocate a
    // PendingUnit per request and an idle session holds none.
    std::optional<PendingUnit> planned;
    const auto keep_planned = [&] {
      if (planned) pending_ = std::make_unique<PendingUnit>(std::move(*planned));
    };
    if (!pending_) {
      UnitFacts facts;
      if (gather_facts(type, facts) == Gather::need_more) return progress;
      if (txn_lost_) {
        if (any_visible_outstanding()) return progress;
        answer_in_lost_transaction(type, body, facts);
        if (type == 'Q' || type == 'F') client_in_.begin += event.consumed;
        progress = true;
        continue;
      }
      if (type == 'P' && answer_parses_locally()) {
        progress = true;
        continue;
      }
      if (type == 'Q') {
        const auto sql = sql_of(body);
        if (is_show_command(sql)) {
          if (any_visible_outstanding()) return progress;
          answer_show(sql);
          client_in_.begin += event.consumed;
          progress = true;
          continue;
        }
      }
      const auto view = worker_.view();
      std::uniform_real_distribution<double> uniform(0.0, 1.0);
      const auto before = routing_;
      auto plan = plan_unit(routing_, facts, *view, policy(), uniform(random_), excluded_);
      if (!plan.decision) {
        routing_ = before;
        if (plan.why == NoRoute::no_primary) {
          // A failover (or a restart) may be under way: wait for a primary, up to wait_timeout.
          const auto now = std::chrono::steady_clock::now();
          if (!primary_wait_since_) primary_wait_since_ = now;
          if (now - *primary_wait_since_ < config.failover.wait_timeout && !shutting_down_) {
            wake_at_ = now + k_primary_poll;
            return progress;
          }
        }
        if (any_visible_outstanding()) return progress;
        primary_wait_since_.reset();
        log::info(identity_.tag, ": unit refused: ", describe(plan.why));
        refuse_unit(plan.why == NoRoute::no_standby ? sqlstate::cannot_connect_now : sqlstate::connection_failure,
                    std::string(describe(plan.why)), "pgrouter could not route this statement.");
        if (type == 'Q' || type == 'F') client_in_.begin += event.consumed;
        progress = true;
        continue;
      }
      primary_wait_since_.reset();
      planned.emplace(PendingUnit{*plan.decision, facts, before});
      link_attempted_ = false;
      // A transaction that just ended (tentatively) closes its side transaction after the
      // unit; the side link is idle by then.
    }
    const PendingUnit& unit = planned ? *planned : *pending_;
    const auto node = unit.decision.node;
    if (other_links_busy(node)) {  // replies must reach the client in order
      keep_planned();
      return progress;
    }
    auto* link = link_for(node);
    // An idle pooled connection is taken here, without a wait (with transaction pooling, the
    // usual case once per transaction); only opening one, or queueing for one, waits in run().
    if (link == nullptr && !link_attempted_) link = take_idle_link(node);
    if (link == nullptr && !std::exchange(link_attempted_, false)) {
      open_link_for_ = node;  // run() opens it (a wait), then calls again
      keep_planned();
      return progress;
    }
    if (link == nullptr) {
      if (pool_error_) {
        // No connection within query_wait_timeout (or the backend refused the login): this
        // unit fails, the session goes on. Nothing else is in flight (see other_links_busy).
        routing_ = unit.routing_before;
        pending_.reset();
        auto error = std::move(*pool_error_);
        pool_error_.reset();
        refuse_unit(error.sqlstate, std::move(error.message), std::move(error.detail));
        if (type == 'Q' || type == 'F') client_in_.begin += event.consumed;
        progress = true;
        continue;
      }
      pending_.reset();  // re-plan without that node
      progress = true;
      continue;
    }
    link_attempted_ = false;
    prepare_link(*link, unit.decision.open_side_transaction);
    dispatch_unit(*link, unit, type, framed, body);
    client_in_.begin += event.consumed;
    pending_.reset();
    if (routing_.txn == TxnMode::none) close_side_transaction();
    progress = true;
  }
}

}  // namespace pgr::proxy
