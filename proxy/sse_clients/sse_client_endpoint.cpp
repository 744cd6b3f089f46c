#include "proxy/sse_clients/sse_client_endpoint.h"

#include <openssl/rand.h>

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "net/http_reply.h"
#include "net/spawn.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using std::chrono::steady_clock;

namespace {

// Headers of a client's POST that serve's MCP endpoint acts on: the credentials of prepaid
// accounts and the x402 payment headers (HTTP clients of x402 v1/v2).
const std::vector<std::string> kPassedHeaders = {"Authorization", "X-API-Key", "PAYMENT-SIGNATURE",
                                                 "X-PAYMENT"};

// 16 random bytes as hex: the session id is the only thing that ties a POST to its client's
// stream, so it must not be guessable (MCP basic/transports: cryptographically secure ids).
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

std::string error_body(const std::string& message) {
  return json::serialize(json::object{{"error", message}});
}

// The value of `name` in the request target's query ("" when absent).
std::string query_parameter(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos)
    return {};
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos)
      return std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// One SSE event carrying a JSON-RPC message: its lines each a data: line (SSE spec §9.2.6), so
// that a message with line breaks arrives whole.
std::string message_event(const std::string& message) {
  std::string event = "event: message\ndata: ";
  for (char c : message) {
    if (c == '\r')
      continue;
    event += c;
    if (c == '\n')
      event += "data: ";
  }
  return event + "\n\n";
}

http::response<http::string_body> refusal(const net::HttpRequest& request, http::status status,
                                          std::string body, const char* allow = nullptr) {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  if (allow != nullptr)
    response.set(http::field::allow, allow);
  response.body() = std::move(body);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

// Watches the stream's socket for the client's departure while the stream waits for messages: an
// SSE client sends nothing on its stream, so the socket turning readable means it closed (or
// broke the protocol), and the session ends at once rather than at the next keep-alive write.
class DepartureWatch {
 public:
  DepartureWatch(beast::tcp_stream& client, std::shared_ptr<SseClientSession> session)
      : client_(client), done_(std::make_shared<bool>(false)) {
    client_.socket().async_wait(
        asio::ip::tcp::socket::wait_read,
        [done = done_, session = std::move(session)](const boost::system::error_code& ec) {
          if (*done || ec == asio::error::operation_aborted)
            return;
          session->close();
        });
  }
  ~DepartureWatch() {
    *done_ = true;
    boost::system::error_code ignored;
    client_.socket().cancel(ignored);
  }

 private:
  beast::tcp_stream& client_;
  std::shared_ptr<bool> done_;
};

}  // namespace

SseClientEndpoint::SseClientEndpoint(std::shared_ptr<net::HttpClient> mcp, SseClientOptions options)
    : mcp_(std::move(mcp)), options_(std::move(options)) {}

std::size_t SseClientEndpoint::open_sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::shared_ptr<SseClientSession> SseClientEndpoint::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

void SseClientEndpoint::forget(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

asio::awaitable<bool> SseClientEndpoint::answer(beast::tcp_stream& client,
                                                const net::HttpRequest& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (path == options_.stream_path) {
    if (request.method() != http::verb::get) {
      auto refused = refusal(request, http::status::method_not_allowed,
                             error_body("the SSE endpoint " + options_.stream_path +
                                        " takes GET (MCP 2024-11-05 HTTP+SSE transport)"),
                             "GET");
      co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
    }
    co_return co_await open_stream(client, request);
  }
  if (request.method() != http::verb::post) {
    auto refused = refusal(request, http::status::method_not_allowed,
                           error_body("the messages endpoint " + options_.messages_path +
                                      " takes POST (MCP 2024-11-05 HTTP+SSE transport)"),
                           "POST");
    co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
  }
  co_return co_await take_message(client, request);
}

asio::awaitable<bool> SseClientEndpoint::open_stream(beast::tcp_stream& client,
                                                     const net::HttpRequest& request) {
  std::shared_ptr<SseClientSession> session;
  {
    std::lock_guard lock(mutex_);
    if (sessions_.size() < options_.max_sessions) {
      session = std::make_shared<SseClientSession>(new_session_id(), client.get_executor(),
                                                   options_.max_queued);
      sessions_[session->id()] = session;
    }
  }
  if (!session) {
    auto refused = refusal(request, http::status::service_unavailable,
                           error_body("too many SSE client sessions (" +
                                      std::to_string(options_.max_sessions) + "); retry later"));
    co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
  }
  spdlog::info("SSE client session {} opened", session->id());
  http::response<http::empty_body> head{http::status::ok, request.version()};
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache, no-transform");
  head.chunked(true);
  head.keep_alive(false);  // the connection is the stream's until it ends
  http::response_serializer<http::empty_body> serializer(head);
  boost::system::error_code ec;
  client.expires_after(options_.write_timeout);
  co_await http::async_write_header(client, serializer,
                                    asio::redirect_error(asio::use_awaitable, ec));
  // MCP 2024-11-05 basic/transports: "the server MUST send an endpoint event containing a URI
  // for the client to use for sending messages".
  std::string endpoint =
      "event: endpoint\ndata: " + options_.messages_path + "?sessionId=" + session->id() + "\n\n";
  if (!ec) {
    client.expires_after(options_.write_timeout);
    co_await asio::async_write(client, http::make_chunk(asio::buffer(endpoint)),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  {
    DepartureWatch watch(client, session);
    auto quiet_until = steady_clock::now() + options_.keep_alive;
    while (!ec) {
      std::string event;
      if (auto message = session->pop()) {
        event = message_event(*message);
      } else if (session->closed()) {
        break;
      } else if (steady_clock::now() < quiet_until) {
        session->wake().expires_at(quiet_until);
        boost::system::error_code wait_ec;
        co_await session->wake().async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        continue;
      } else {
        event = ": keep-alive\n\n";  // a comment: SSE clients ignore it
      }
      quiet_until = steady_clock::now() + options_.keep_alive;
      client.expires_after(options_.write_timeout);
      co_await asio::async_write(client, http::make_chunk(asio::buffer(event)),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  session->close();
  forget(session->id());
  if (!ec) {
    client.expires_after(options_.write_timeout);
    co_await asio::async_write(client, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  spdlog::info("SSE client session {} closed", session->id());
  // The client's stream is the session (2024-11-05 has no DELETE): its Streamable HTTP session
  // on the upstream ends with it.
  if (auto mcp_session = session->mcp_session(); !mcp_session.empty()) {
    net::spawn_logged(client.get_executor(),
                      end_mcp_session(mcp_, std::move(mcp_session), session->protocol_version()),
                      "SSE client session end");
  }
  co_return false;
}

asio::awaitable<bool> SseClientEndpoint::take_message(beast::tcp_stream& client,
                                                      const net::HttpRequest& request) {
  const std::string id = query_parameter(request.target(), "sessionId");
  if (id.empty()) {
    auto refused = refusal(request, http::status::bad_request,
                           error_body("missing sessionId: open " + options_.stream_path +
                                      " first and POST to the endpoint its first event names"));
    co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
  }
  auto session = find(id);
  if (!session || session->closed()) {
    auto refused = refusal(
        request, http::status::not_found,
        error_body("unknown SSE session " + id + ": its stream is closed or never existed; open " +
                   options_.stream_path + " again"));
    co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
  }
  auto type = request[http::field::content_type];
  if (!beast::iequals(type.substr(0, 16), "application/json")) {
    auto refused =
        refusal(request, http::status::unsupported_media_type,
                error_body("a message is JSON-RPC in JSON: send Content-Type application/json"));
    co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
  }
  // Only to know what the message is (a request, whose answer the stream owes; the initialized
  // notification, after which the session listens for the server's own messages): every check
  // is the MCP endpoint's.
  std::string request_id;
  bool initialized_notification = false;
  {
    boost::system::error_code parse_ec;
    json::value parsed = json::parse(request.body(), parse_ec);
    if (!parse_ec && parsed.is_object()) {
      const json::object& message = parsed.get_object();
      const json::value* method = message.if_contains("method");
      const json::value* message_id = message.if_contains("id");
      if (method != nullptr && method->is_string() && message_id != nullptr)
        request_id = json::serialize(*message_id);
      initialized_notification = method != nullptr && method->is_string() &&
                                 message_id == nullptr &&
                                 method->get_string() == "notifications/initialized";
    }
  }
  HeaderList headers{{"Accept", "application/json, text/event-stream"}};
  if (auto mcp_session = session->mcp_session(); !mcp_session.empty())
    headers.emplace_back("Mcp-Session-Id", mcp_session);
  if (auto version = request.find("MCP-Protocol-Version"); version != request.end())
    headers.emplace_back("MCP-Protocol-Version", std::string(version->value()));
  else if (auto negotiated = session->protocol_version(); !negotiated.empty())
    headers.emplace_back("MCP-Protocol-Version", negotiated);
  for (const std::string& name : kPassedHeaders) {
    if (auto it = request.find(name); it != request.end())
      headers.emplace_back(name, std::string(it->value()));
  }
  auto relay = std::make_shared<MessageRelay>(client.get_executor(), mcp_, session, options_.relay,
                                              request_id);
  relay->start(request.body(), std::move(headers));
  RelayHead head = co_await relay->head();
  if (head.status < 200 || head.status >= 300) {
    auto refused = refusal(request, static_cast<http::status>(head.status), std::move(head.body));
    co_return co_await net::write_response(client, std::move(refused), options_.write_timeout);
  }
  if (initialized_notification && !session->mcp_session().empty() && session->claim_listener()) {
    net::spawn_logged(client.get_executor(), listen_to_server(mcp_, session, options_.relay),
                      "SSE client listening stream");
  }
  // MCP 2024-11-05 transports: the answer goes on the stream; the POST is only acknowledged.
  co_return co_await net::write_reply(client, http::status::accepted, "Accepted",
                                      request.keep_alive(), options_.write_timeout, "text/plain");
}

}  // namespace x402proxy::proxy
