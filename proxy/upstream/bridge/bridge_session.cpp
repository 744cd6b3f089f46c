#include "proxy/upstream/bridge/bridge_session.h"

#include "mcp/jsonrpc_reply.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::steady_clock;

namespace {

constexpr auto kRestartPoll = std::chrono::milliseconds(20);

std::string cut_for_log(const std::string& text) {
  return text.size() <= 200 ? text : text.substr(0, 200) + "…";
}

}  // namespace

std::string jsonrpc_error(const std::string& id_key, int code, const std::string& message) {
  boost::system::error_code ec;
  json::value id = json::parse(id_key, ec);
  if (ec)
    id = nullptr;
  return mcp::jsonrpc_error(id, code, message);
}

void MessageStream::push(std::string message) {
  messages.push_back(std::move(message));
  wake.cancel();
}

void MessageStream::finish() {
  done = true;
  wake.cancel();
}

BridgeSession::BridgeSession(asio::any_io_executor executor, std::string id,
                             ChannelFactory open_channel, BridgeSessionLimits limits)
    : executor_(std::move(executor)),
      id_(std::move(id)),
      open_channel_(std::move(open_channel)),
      limits_(limits) {}

Status BridgeSession::start(std::string initialize_request, const std::string& id_key,
                            std::shared_ptr<MessageStream> stream) {
  if (auto opened = open_channel(); !opened.ok())
    return opened;
  initialize_request_ = std::move(initialize_request);
  initialize_key_ = id_key;
  stream->takes_server_messages = false;  // a JSON answer carries exactly one message
  pending_[id_key] = std::move(stream);
  channel_->send(initialize_request_);
  return ok_status();
}

void BridgeSession::remember_initialized_notification(std::string message) {
  initialized_notification_ = std::move(message);
}

Status BridgeSession::open_channel() {
  const std::uint64_t generation = ++generation_;
  std::weak_ptr<BridgeSession> weak = weak_from_this();
  auto opened = open_channel_(
      executor_,
      [weak, generation](std::string line) {
        if (auto self = weak.lock())
          self->on_channel_message(generation, std::move(line));
      },
      [weak, generation](std::string why) {
        if (auto self = weak.lock())
          self->on_channel_closed(generation, std::move(why));
      });
  if (!opened.ok())
    return opened.error();
  channel_ = *opened;
  spdlog::info("{} started for session {}", channel_->name(), id_);
  return ok_status();
}

asio::awaitable<std::optional<std::string>> BridgeSession::send_request(
    std::string message, std::string id_key, std::shared_ptr<MessageStream> stream) {
  last_activity_ = steady_clock::now();
  asio::steady_timer timer(executor_);
  const auto deadline = steady_clock::now() + limits_.restart_wait;
  while (state_ == State::restarting && steady_clock::now() < deadline) {
    timer.expires_after(kRestartPoll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (state_ == State::stopped)
    co_return std::optional<std::string>("the MCP session was closed");
  if (state_ == State::restarting)
    co_return std::optional<std::string>(last_exit_message_);
  pending_[std::move(id_key)] = std::move(stream);
  channel_->send(std::move(message));
  co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> BridgeSession::send_other(std::string message) {
  last_activity_ = steady_clock::now();
  asio::steady_timer timer(executor_);
  const auto deadline = steady_clock::now() + limits_.restart_wait;
  while (state_ == State::restarting && steady_clock::now() < deadline) {
    timer.expires_after(kRestartPoll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (state_ == State::stopped)
    co_return std::optional<std::string>("the MCP session was closed");
  if (state_ == State::restarting)
    co_return std::optional<std::string>(last_exit_message_);
  channel_->send(std::move(message));
  co_return std::nullopt;
}

void BridgeSession::on_channel_message(std::uint64_t generation, std::string line) {
  if (generation != generation_)
    return;
  boost::system::error_code ec;
  json::value value = json::parse(line, ec);
  if (ec || !value.is_object()) {
    spdlog::warn("{} sent something that is not a JSON-RPC message: {}", channel_->name(),
                 cut_for_log(line));
    return;
  }
  const json::object& message = value.get_object();
  const json::value* method = message.if_contains("method");
  const json::value* id = message.if_contains("id");
  if (!method && id) {  // a response
    const std::string key = json::serialize(*id);
    if (replaying_initialize_ && key == initialize_key_) {
      replaying_initialize_ = false;
      if (message.contains("error")) {
        spdlog::error("{} refused the replayed initialize of session {}: {}", channel_->name(), id_,
                      cut_for_log(line));
        channel_->stop();  // its end schedules the next attempt
        return;
      }
      if (!initialized_notification_.empty())
        channel_->send(initialized_notification_);
      state_ = State::ready;
      channel_ready_since_ = steady_clock::now();
      spdlog::info("{} restarted for session {} and initialized again", channel_->name(), id_);
      return;
    }
    auto it = pending_.find(key);
    if (it == pending_.end()) {
      spdlog::debug("{} answered request {}, which nobody waits for", channel_->name(), key);
      return;
    }
    auto stream = it->second;
    pending_.erase(it);
    stream->push(std::move(line));
    const bool more = std::any_of(pending_.begin(), pending_.end(),
                                  [&](const auto& entry) { return entry.second == stream; });
    if (!more)
      stream->finish();
    return;
  }
  // MCP basic/utilities/progress: progress goes with the request that asked for it.
  if (method && method->is_string() && method->get_string() == "notifications/progress") {
    const json::value* params = message.if_contains("params");
    const json::value* token =
        params && params->is_object() ? params->get_object().if_contains("progressToken") : nullptr;
    if (token) {
      const std::string token_key = json::serialize(*token);
      for (auto& [key, stream] : pending_) {
        if (stream->progress_token == token_key) {
          stream->push(std::move(line));
          return;
        }
      }
    }
  }
  route_server_message(std::move(line));
}

// A server-initiated message that belongs to no request: the GET stream when one is open, else the
// oldest POST stream in flight (with one POST that is the only possible home; with several, MCP
// lets the server use any stream, and a server request left undelivered would hang its tool call).
void BridgeSession::route_server_message(std::string line) {
  for (auto& stream : get_streams_) {
    if (!stream->done) {
      stream->push(std::move(line));
      return;
    }
  }
  std::shared_ptr<MessageStream> oldest;
  for (auto& [key, stream] : pending_) {
    if (stream->takes_server_messages && (!oldest || stream->order < oldest->order))
      oldest = stream;
  }
  if (oldest) {
    oldest->push(std::move(line));
    return;
  }
  spdlog::debug("session {}: no stream is open for a server message; dropped: {}", id_,
                cut_for_log(line));
}

void BridgeSession::on_channel_closed(std::uint64_t generation, std::string why) {
  if (generation != generation_)
    return;
  const std::string name = channel_->name();
  last_exit_message_ = why;
  if (state_ == State::stopped) {
    spdlog::info("{} of session {} stopped ({})", name, id_, why);
    return;
  }
  fail_pending(last_exit_message_);
  if (state_ == State::starting) {
    spdlog::warn("{} ended before answering initialize: {}", name, why);
    state_ = State::stopped;
    return;
  }
  if (!limits_.restart_on_close) {
    // The server's side of the session is gone: so is the session (the client's next request
    // gets 404 and starts a new one, MCP basic/transports "Session Management").
    spdlog::info("{} of session {}: {}; the session ends with it", name, id_, why);
    stop();
    return;
  }
  const bool was_stable =
      state_ == State::ready && steady_clock::now() - channel_ready_since_ >= limits_.stable_after;
  if (was_stable || backoff_.count() == 0)
    backoff_ = limits_.first_backoff;
  else
    backoff_ = std::min(backoff_ * 2, limits_.max_backoff);
  state_ = State::restarting;
  replaying_initialize_ = false;
  spdlog::warn("{} of session {}: {}; restarting it in {} ms", name, id_, why, backoff_.count());
  schedule_restart();
}

void BridgeSession::schedule_restart() {
  auto self = shared_from_this();
  asio::co_spawn(
      executor_,
      [self]() -> asio::awaitable<void> {
        asio::steady_timer timer(self->executor_, self->backoff_);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (self->state_ == State::restarting)
          self->restart_now();
      },
      asio::detached);
}

void BridgeSession::restart_now() {
  if (auto opened = open_channel(); !opened.ok()) {
    backoff_ = std::min(backoff_ * 2, limits_.max_backoff);
    spdlog::error("session {}: {}; trying again in {} ms", id_, opened.error().message,
                  backoff_.count());
    schedule_restart();
    return;
  }
  // The new channel expects a client's handshake: the session's own initialize (its answer is
  // already known to the client) and then notifications/initialized.
  replaying_initialize_ = true;
  channel_->send(initialize_request_);
}

void BridgeSession::fail_pending(const std::string& message) {
  std::set<std::shared_ptr<MessageStream>> streams;
  for (auto& [key, stream] : pending_) {
    stream->push(jsonrpc_error(key, -32603, message));
    streams.insert(stream);
  }
  pending_.clear();
  for (const auto& stream : streams)
    stream->finish();
}

void BridgeSession::abandon(const std::shared_ptr<MessageStream>& stream) {
  std::erase_if(pending_, [&](const auto& entry) { return entry.second == stream; });
}

void BridgeSession::open_get(std::shared_ptr<MessageStream> stream) {
  get_streams_.push_back(std::move(stream));
}

void BridgeSession::close_get(const std::shared_ptr<MessageStream>& stream) {
  std::erase(get_streams_, stream);
  last_activity_ = steady_clock::now();
}

void BridgeSession::stop() {
  if (state_ == State::stopped)
    return;
  state_ = State::stopped;
  fail_pending("the MCP session was closed");
  for (auto& stream : get_streams_)
    stream->finish();
  get_streams_.clear();
  if (channel_)
    channel_->stop();
}

}  // namespace x402proxy::proxy
