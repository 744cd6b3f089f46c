#include "proxy/upstream/bridge/session_bridge.h"

#include "net/spawn.h"

#include <openssl/rand.h>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

constexpr const char* kPath = "/mcp";
constexpr const char* kSessionHeader = "Mcp-Session-Id";
const std::string kNullId = "null";  // the id of an error that answers no request

// 16 random bytes as hex (MCP: a session id must be globally unique and cryptographically secure).
std::string new_session_id() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char byte : bytes) {
    id.push_back(kHex[byte >> 4]);
    id.push_back(kHex[byte & 0xf]);
  }
  return id;
}

std::string seconds_text(std::chrono::milliseconds duration) {
  return std::to_string(duration.count() / 1000) + " s";
}

}  // namespace

// One HTTP request to the bridge, from reading it to the end of its answer.
class BridgeExchange {
 public:
  BridgeExchange(SessionBridge& bridge, beast::tcp_stream& stream,
                 http::request<http::string_body>& request)
      : bridge_(bridge),
        stream_(stream),
        request_(request),
        keep_alive_(request.keep_alive()),
        session_id_(request[kSessionHeader]) {}

  // Whether the connection may carry another request.
  asio::awaitable<bool> run() {
    std::string_view target = request_.target();
    if (target.substr(0, target.find('?')) != kPath) {
      std::string body = jsonrpc_error(kNullId, -32600, "not found: the endpoint is /mcp");
      co_return co_await answer(http::status::not_found, std::move(body));
    }
    switch (request_.method()) {
      case http::verb::post:
        co_return co_await post();
      case http::verb::get:
        co_return co_await get();
      case http::verb::delete_:
        co_return co_await remove();
      default:
        co_return co_await answer(http::status::method_not_allowed, std::string());
    }
  }

 private:
  asio::awaitable<bool> post() {
    boost::system::error_code ec;
    json::value parsed = json::parse(request_.body(), ec);
    if (ec) {
      std::string body = jsonrpc_error(kNullId, -32700, "parse error: " + ec.message());
      co_return co_await answer(http::status::bad_request, std::move(body));
    }
    if (!parsed.is_object()) {
      std::string body =
          jsonrpc_error(kNullId, -32600, "expected one JSON-RPC message per POST (no batches)");
      co_return co_await answer(http::status::bad_request, std::move(body));
    }
    const json::object& message = parsed.get_object();
    const json::value* method = message.if_contains("method");
    const json::value* id = message.if_contains("id");
    const bool is_request = method && method->is_string() && id;
    if (session_id_.empty()) {
      if (is_request && method->get_string() == "initialize") {
        std::string id_key = json::serialize(*id);
        co_return co_await initialize(std::move(id_key));
      }
      std::string body =
          jsonrpc_error(kNullId, -32600, "missing Mcp-Session-Id header: initialize first");
      co_return co_await answer(http::status::bad_request, std::move(body));
    }
    auto session = find_session();
    if (!session)
      co_return co_await session_not_found();
    if (!is_request) {
      if (method && method->is_string() && method->get_string() == "notifications/initialized")
        session->remember_initialized_notification(request_.body());
      auto error = co_await session->send_other(std::move(request_.body()));
      if (error)
        spdlog::warn("session {}: a message for the upstream was dropped: {}", session->id(),
                     *error);
      co_return co_await answer(http::status::accepted, std::string());
    }
    const std::string id_key = json::serialize(*id);
    if (session->request_in_flight(id_key)) {
      std::string body =
          jsonrpc_error(id_key, -32600, "a request with this id is already in flight");
      co_return co_await answer(http::status::bad_request, std::move(body));
    }
    auto stream = std::make_shared<MessageStream>(stream_.get_executor(),
                                                  bridge_.next_stream_order_++, false);
    if (const auto* params = message.if_contains("params"); params && params->is_object()) {
      if (const auto* meta = params->get_object().if_contains("_meta"); meta && meta->is_object()) {
        if (const auto* token = meta->get_object().if_contains("progressToken"))
          stream->progress_token = json::serialize(*token);
      }
    }
    auto error = co_await session->send_request(std::move(request_.body()), id_key, stream);
    if (error) {
      std::string body = jsonrpc_error(id_key, -32603, *error);
      co_return co_await answer(http::status::ok, std::move(body));
    }
    co_return co_await write_events(session, stream, id_key);
  }

  asio::awaitable<bool> initialize(std::string id_key) {
    if (bridge_.sessions_.size() >= bridge_.options_.max_sessions) {
      std::string body =
          jsonrpc_error(id_key, -32603,
                        "too many MCP sessions (" + std::to_string(bridge_.options_.max_sessions) +
                            "), each a process of the upstream MCP server; try again later");
      co_return co_await answer(http::status::service_unavailable, std::move(body));
    }
    const std::string session_id = new_session_id();
    auto session =
        std::make_shared<BridgeSession>(stream_.get_executor(), session_id,
                                        bridge_.options_.open_channel, bridge_.options_.session);
    auto stream = std::make_shared<MessageStream>(stream_.get_executor(),
                                                  bridge_.next_stream_order_++, false);
    if (auto started = session->start(request_.body(), id_key, stream); !started.ok()) {
      spdlog::error("{}", started.error().message);
      std::string body = jsonrpc_error(id_key, -32603, started.error().message);
      co_return co_await answer(http::status::ok, std::move(body));
    }
    bridge_.sessions_[session_id] = session;
    const auto deadline = steady_clock::now() + bridge_.options_.initialize_timeout;
    while (stream->messages.empty() && !stream->done && steady_clock::now() < deadline) {
      stream->wake.expires_at(deadline);
      boost::system::error_code ec;
      co_await stream->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::string reply = stream->messages.empty()
                            ? jsonrpc_error(id_key, -32603,
                                            "the upstream MCP server did not answer initialize "
                                            "within " +
                                                seconds_text(bridge_.options_.initialize_timeout))
                            : stream->messages.front();
    boost::system::error_code ec;
    json::value answer_value = json::parse(reply, ec);
    if (ec || !answer_value.is_object() || answer_value.get_object().contains("error")) {
      session->stop();
      bridge_.sessions_.erase(session_id);
      co_return co_await answer(http::status::ok, std::move(reply));
    }
    session->initialized_ok();
    co_return co_await answer(http::status::ok, std::move(reply), session_id);
  }

  asio::awaitable<bool> get() {
    if (session_id_.empty()) {
      std::string body = jsonrpc_error(kNullId, -32600, "missing Mcp-Session-Id header");
      co_return co_await answer(http::status::bad_request, std::move(body));
    }
    auto session = find_session();
    if (!session)
      co_return co_await session_not_found();
    auto stream =
        std::make_shared<MessageStream>(stream_.get_executor(), bridge_.next_stream_order_++, true);
    session->open_get(stream);
    std::string no_id = kNullId;
    co_return co_await write_events(session, stream, std::move(no_id));
  }

  asio::awaitable<bool> remove() {
    auto session = find_session();
    if (!session)
      co_return co_await session_not_found();
    spdlog::info("session {} deleted by the client; stopping its upstream", session->id());
    session->stop();
    bridge_.sessions_.erase(session->id());
    co_return co_await answer(http::status::ok, std::string());
  }

  // Streamable HTTP: the answer to a request (or the GET stream) as server-sent events, each
  // message the moment it is ready; a POST's stream ends after its response.
  asio::awaitable<bool> write_events(std::shared_ptr<BridgeSession> session,
                                     std::shared_ptr<MessageStream> queue, std::string id_key) {
    const auto& options = bridge_.options_;
    const auto idle_limit = queue->is_get ? options.get_keep_alive : options.call_idle_timeout;
    http::response<http::empty_body> head{http::status::ok, request_.version()};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.chunked(true);
    head.keep_alive(keep_alive_);
    http::response_serializer<http::empty_body> serializer(head);
    boost::system::error_code ec;
    stream_.expires_after(options.write_timeout);
    co_await http::async_write_header(stream_, serializer,
                                      asio::redirect_error(asio::use_awaitable, ec));
    auto idle_deadline = steady_clock::now() + idle_limit;
    while (!ec) {
      std::string event;
      if (!queue->messages.empty()) {
        event = "event: message\ndata: " + queue->messages.front() + "\n\n";
        queue->messages.pop_front();
      } else if (queue->done) {
        break;
      } else if (steady_clock::now() < idle_deadline) {
        queue->wake.expires_at(idle_deadline);
        boost::system::error_code wait_ec;
        co_await queue->wake.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        continue;
      } else if (queue->is_get) {
        event = ": keep-alive\n\n";  // an SSE comment keeps a quiet stream from timing out
      } else {
        session->abandon(queue);
        queue->push(jsonrpc_error(id_key, -32603,
                                  "the upstream MCP server sent nothing for this request within " +
                                      seconds_text(idle_limit)));
        queue->finish();
        continue;
      }
      idle_deadline = steady_clock::now() + idle_limit;
      stream_.expires_after(options.write_timeout);
      co_await asio::async_write(stream_, http::make_chunk(asio::buffer(event)),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
      stream_.expires_after(options.write_timeout);
      co_await asio::async_write(stream_, http::make_chunk_last(),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (queue->is_get)
      session->close_get(queue);
    else if (ec)
      session->abandon(queue);  // serve went away: the answer has nowhere to go
    co_return !ec && keep_alive_;
  }

  std::shared_ptr<BridgeSession> find_session() {
    auto it = bridge_.sessions_.find(session_id_);
    if (it == bridge_.sessions_.end() || it->second->stopped())
      return nullptr;
    return it->second;
  }

  asio::awaitable<bool> session_not_found() {
    std::string body = jsonrpc_error(kNullId, -32001, "session not found");
    co_return co_await answer(http::status::not_found, std::move(body));
  }

  asio::awaitable<bool> answer(http::status status, std::string body,
                               std::string new_session = std::string()) {
    http::response<http::string_body> response{status, request_.version()};
    if (!body.empty())
      response.set(http::field::content_type, "application/json");
    if (!new_session.empty())
      response.set(kSessionHeader, new_session);
    if (status == http::status::method_not_allowed)
      response.set(http::field::allow, "POST, GET, DELETE");
    response.body() = std::move(body);
    response.keep_alive(keep_alive_);
    response.prepare_payload();
    boost::system::error_code ec;
    stream_.expires_after(bridge_.options_.write_timeout);
    co_await http::async_write(stream_, response, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec && keep_alive_;
  }

  SessionBridge& bridge_;
  beast::tcp_stream& stream_;
  http::request<http::string_body>& request_;
  const bool keep_alive_;
  const std::string session_id_;
};

Result<std::unique_ptr<SessionBridge>> SessionBridge::bind(asio::io_context& context,
                                                           SessionBridgeOptions options) {
  std::unique_ptr<SessionBridge> bridge(new SessionBridge(asio::make_strand(context), options));
  net::HttpServerOptions server;
  server.body_limit = options.body_limit;
  server.keep_alive_timeout = options.keep_alive_timeout;
  server.read_timeout = options.read_timeout;
  server.write_timeout = options.write_timeout;
  server.connection_executor = bridge->strand_;  // the session table needs no locks
  server.name = options.name;
  net::HttpServerHandlers handlers;
  SessionBridge* self = bridge.get();  // owns the server, so outlives what it accepts
  handlers.on_request = [self](beast::tcp_stream& stream, net::HttpRequest& request,
                               const std::string&) { return self->answer(stream, request); };
  handlers.read_failure_body = [](net::ReadFailure failure,
                                  std::string_view) -> std::optional<std::string> {
    if (failure == net::ReadFailure::body_too_large)
      return jsonrpc_error(kNullId, -32600, "request body larger than 16 MiB");
    return std::nullopt;  // closed, timed out or garbled: nothing more to say on it
  };
  auto bound =
      net::HttpServer::bind(context, "127.0.0.1:0", std::move(server), std::move(handlers));
  if (!bound.ok()) {
    return make_error("upstream.bridge", "cannot listen on 127.0.0.1 for the " + options.name +
                                             ": " + bound.error().message);
  }
  bridge->server_ = std::move(bound).value();
  return bridge;
}

void SessionBridge::start_accepting() {
  server_->start();
  net::spawn_logged(strand_, sweep_idle_sessions(), options_.name + " session sweep");
}

asio::awaitable<void> SessionBridge::sweep_idle_sessions() {
  asio::steady_timer timer(strand_);
  const auto period = std::min<std::chrono::milliseconds>(options_.session_idle_timeout / 4,
                                                          std::chrono::minutes(1));
  while (accepting_) {
    timer.expires_after(period);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const auto cutoff = steady_clock::now() - options_.session_idle_timeout;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (!it->second->idle_since(cutoff)) {
        ++it;
        continue;
      }
      spdlog::info("session {} idle for {}; stopping its upstream", it->first,
                   seconds_text(options_.session_idle_timeout));
      it->second->stop();
      it = sessions_.erase(it);
    }
  }
}

SessionBridge::SessionBridge(Strand strand, SessionBridgeOptions options)
    : strand_(strand), options_(std::move(options)) {}

SessionBridge::~SessionBridge() {
  stop_channels();
}

std::string SessionBridge::url() const {
  return "http://127.0.0.1:" + std::to_string(server_->local_endpoint().port()) + kPath;
}

void SessionBridge::stop_channels() {
  accepting_ = false;
  if (server_)
    server_->close();
  std::vector<std::shared_ptr<MessageChannel>> channels;
  for (const auto& [id, session] : sessions_) {
    if (auto channel = session->channel())
      channels.push_back(std::move(channel));
  }
  sessions_.clear();
  if (options_.stop_now)
    options_.stop_now(channels);
}

asio::awaitable<bool> SessionBridge::answer(beast::tcp_stream& stream, net::HttpRequest& request) {
  BridgeExchange exchange(*this, stream, request);
  co_return co_await exchange.run();
}

}  // namespace x402proxy::proxy
