#include "proxy/upstream/sse/sse_channel.h"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "net/spawn.h"
#include "net/sse_splitter.h"
#include "proxy/upstream/bridge/bridge_session.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// The `event:` field of one event as received ("message" when it has none: SSE spec §9.2.6).
std::string event_type(std::string_view raw) {
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\n', start);
    if (end == std::string_view::npos)
      end = raw.size();
    std::string_view line = raw.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.starts_with("event:")) {
      line.remove_prefix(6);
      if (line.starts_with(' '))
        line.remove_prefix(1);
      return std::string(line);
    }
    start = end + 1;
  }
  return "message";
}

// The JSON id of a request (a message with both method and id), "" for anything else.
std::string request_id_of(const std::string& message) {
  boost::system::error_code ec;
  json::value parsed = json::parse(message, ec);
  if (ec || !parsed.is_object())
    return {};
  const json::object& object = parsed.get_object();
  const json::value* id = object.if_contains("id");
  if (id == nullptr || !object.contains("method"))
    return {};
  return json::serialize(*id);
}

std::string target_of(const net::HttpUrl& url) {
  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty())
    target += "?" + url.query;
  return target;
}

}  // namespace

Result<std::string> resolve_sse_endpoint(const net::HttpUrl& sse_url, std::string_view data) {
  if (data.starts_with("http://") || data.starts_with("https://")) {
    auto parsed = net::parse_http_url(data);
    if (!parsed.ok())
      return make_error("upstream.sse", "the endpoint event names no usable URL: " +
                                            std::string(data.substr(0, 200)));
    if (parsed->tls != sse_url.tls || parsed->host != sse_url.host ||
        parsed->port != sse_url.port) {
      return make_error("upstream.sse", "the endpoint event names another origin (" +
                                            parsed->authority() + ", not " + sse_url.authority() +
                                            "); refused");
    }
    return target_of(*parsed);
  }
  if (data.empty() || data.find_first_of(" \r\n") != std::string_view::npos)
    return make_error("upstream.sse", "the endpoint event names no URI");
  if (data.starts_with('/'))
    return std::string(data);
  // A relative reference (RFC 3986 §5.2): against the SSE endpoint's directory.
  const std::string base = sse_url.path.substr(0, sse_url.path.rfind('/') + 1);
  return (base.empty() ? "/" : base) + std::string(data);
}

SseChannel::SseChannel(asio::any_io_executor executor, SseUpstream upstream,
                       std::shared_ptr<net::HttpClient> poster, ChannelMessageHandler on_message,
                       ChannelClosedHandler on_closed)
    : executor_(executor),
      upstream_(std::move(upstream)),
      poster_(std::move(poster)),
      on_message_(std::move(on_message)),
      on_closed_(std::move(on_closed)),
      stream_(executor) {}

std::string SseChannel::name() const {
  return "upstream SSE " + upstream_.url.authority() + upstream_.url.path +
         (endpoint_.empty() ? "" : " (" + endpoint_ + ")");
}

void SseChannel::start() {
  net::spawn_logged(
      executor_,
      [self = shared_from_this()]() -> asio::awaitable<void> { co_await self->read_stream(); },
      "upstream SSE stream");
}

void SseChannel::send(std::string message) {
  if (closed_)
    return;
  outbox_.push_back(std::move(message));
  if (writing_ || endpoint_.empty())
    return;
  writing_ = true;
  net::spawn_logged(
      executor_,
      [self = shared_from_this()]() -> asio::awaitable<void> { co_await self->write_messages(); },
      "upstream SSE messages");
}

void SseChannel::stop() {
  close("stopped");
}

void SseChannel::close(std::string why) {
  if (closed_)
    return;
  closed_ = true;
  boost::system::error_code ignored;
  stream_.socket().close(ignored);
  // Reported after this turn: whoever stopped the channel is still in the middle of it.
  asio::post(executor_, [on_closed = on_closed_, why = std::move(why)] { on_closed(why); });
}

asio::awaitable<void> SseChannel::read_stream() {
  auto self = shared_from_this();
  boost::system::error_code ec;
  tcp::resolver resolver(executor_);
  auto resolved = co_await resolver.async_resolve(upstream_.url.host, upstream_.url.port,
                                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    close("cannot resolve " + upstream_.url.host + ": " + ec.message());
    co_return;
  }
  stream_.expires_after(upstream_.connect_timeout);
  co_await stream_.async_connect(resolved, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || closed_) {
    close("cannot connect to the upstream SSE endpoint " + upstream_.url.authority() + ": " +
          ec.message());
    co_return;
  }
  http::request<http::empty_body> request{http::verb::get, target_of(upstream_.url), 11};
  request.set(http::field::host, upstream_.url.authority());
  request.set(http::field::accept, "text/event-stream");
  request.set(http::field::cache_control, "no-cache");
  request.set(http::field::user_agent, "x402-mcp-proxy");
  stream_.expires_after(upstream_.connect_timeout);
  co_await http::async_write(stream_, request, asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // the splitter bounds each event
  if (!ec) {
    stream_.expires_after(upstream_.endpoint_timeout);
    co_await http::async_read_header(stream_, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    close("the upstream SSE endpoint did not answer GET " + target_of(upstream_.url) + ": " +
          ec.message());
    co_return;
  }
  const unsigned status = parser.get().result_int();
  const std::string type(parser.get()[http::field::content_type]);
  if (status != 200 || !type.starts_with("text/event-stream")) {
    close("the upstream answered GET " + target_of(upstream_.url) + " with HTTP " +
          std::to_string(status) + " " + type +
          ", not an event stream (is it an HTTP+SSE server?)");
    co_return;
  }
  net::SseSplitter splitter(upstream_.max_event_bytes);
  char piece[16 * 1024];
  while (!closed_ && !parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    // Until the endpoint event, a deadline; then the stream may idle as long as the session
    // does (this transport sends no keep-alives; the bridge stops idle sessions).
    if (endpoint_.empty())
      stream_.expires_after(upstream_.endpoint_timeout);
    else
      stream_.expires_never();
    co_await http::async_read_some(stream_, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      break;
    splitter.feed(std::string_view(piece, sizeof piece - parser.get().body().size));
    while (auto event = splitter.next()) {
      on_event(event_type(event->raw), std::move(event->data));
      if (closed_)
        co_return;
    }
    if (splitter.overflow()) {
      close("an event of the upstream SSE stream is over " +
            std::to_string(upstream_.max_event_bytes) + " bytes");
      co_return;
    }
  }
  close(ec ? "the upstream SSE stream failed: " + ec.message()
           : std::string("the upstream closed its SSE stream"));
}

void SseChannel::on_event(std::string_view type, std::string data) {
  if (type == "endpoint") {
    if (!endpoint_.empty())
      return;  // one endpoint per stream; a second names nothing new
    auto resolved = resolve_sse_endpoint(upstream_.url, data);
    if (!resolved.ok()) {
      close(resolved.error().message);
      return;
    }
    endpoint_ = *resolved;
    spdlog::debug("{}: messages go to {}", name(), endpoint_);
    if (!outbox_.empty() && !writing_) {
      writing_ = true;
      net::spawn_logged(
          executor_,
          [self = shared_from_this()]() -> asio::awaitable<void> {
            co_await self->write_messages();
          },
          "upstream SSE messages");
    }
    return;
  }
  if (type != "message" || data.empty())
    return;  // MCP 2024-11-05 defines endpoint and message events only
  on_message_(std::move(data));
}

// One POST per message, in order (the server reads them in the order it gets them); a message
// the server does not accept (not 2xx) or that cannot be sent is answered, when it was a request,
// with a JSON-RPC error, so that its caller is not left waiting (and a paid call is not settled).
asio::awaitable<void> SseChannel::write_messages() {
  auto self = shared_from_this();
  while (!closed_ && !outbox_.empty()) {
    std::string message = std::move(outbox_.front());
    outbox_.pop_front();
    const std::string id = request_id_of(message);
    std::vector<std::pair<std::string, std::string>> headers;
    auto posted = co_await poster_->request(http::verb::post, endpoint_, std::move(message),
                                            std::move(headers), upstream_.post_timeout, false);
    std::string failure;
    if (!posted.ok())
      failure = posted.error().message;
    else if (posted->status < 200 || posted->status >= 300)
      failure = "HTTP " + std::to_string(posted->status) + " " + posted->body.substr(0, 200);
    if (failure.empty() || closed_)
      continue;
    spdlog::warn("{}: a message was not accepted: {}", name(), failure);
    if (!id.empty())
      on_message_(jsonrpc_error(id, -32603,
                                "the upstream MCP server did not accept the request: " + failure));
  }
  writing_ = false;
}

Result<ChannelFactory> sse_channel_factory(const std::string& sse_url) {
  auto url = net::parse_http_url(sse_url);
  if (!url.ok())
    return make_error("upstream.sse", "upstream.url: " + url.error().message);
  if (url->tls)
    return make_error("upstream.sse", "upstream.url: https upstreams are not supported yet");
  SseUpstream upstream;
  upstream.url = *url;
  const std::string origin = "http://" + url->authority();
  return ChannelFactory(
      [upstream, origin](
          asio::any_io_executor executor, ChannelMessageHandler on_message,
          ChannelClosedHandler on_closed) -> Result<std::shared_ptr<MessageChannel>> {
        auto poster = net::HttpClient::create(executor, origin);
        if (!poster.ok())
          return make_error("upstream.sse", poster.error().message);
        auto channel = std::make_shared<SseChannel>(executor, upstream, *poster,
                                                    std::move(on_message), std::move(on_closed));
        channel->start();
        return std::shared_ptr<MessageChannel>(channel);
      });
}

}  // namespace x402proxy::proxy
