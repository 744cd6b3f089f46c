#include "proxy/upstream/sse/transport_detection.h"

#include <spdlog/spdlog.h>
#include <boost/beast/http/field.hpp>

#include "net/http_client.h"
#include "net/sse_splitter.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using std::chrono::steady_clock;

namespace {

// The client's base URL is the MCP endpoint itself; the request path adds nothing. (Named
// strings, not literals: GCC 12 mishandles temporaries made in a co_await full-expression.)
const std::string kRootPath;
const std::string kNoBody;

constexpr auto kProbeBudget = std::chrono::seconds(10);

// The probe's initialize: an ordinary one (a client of 2025-03-26 sends it first), so that a
// Streamable HTTP server accepts it as it would any client's.
const char* kInitialize =
    R"({"jsonrpc":"2.0","id":"x402-mcp-proxy-probe","method":"initialize","params":)"
    R"({"protocolVersion":"2025-03-26","capabilities":{},)"
    R"("clientInfo":{"name":"x402-mcp-proxy transport probe","version":"1"}}})";

}  // namespace

asio::awaitable<Result<DetectedTransport>> detect_transport(asio::any_io_executor executor,
                                                            std::string url) {
  auto client = net::HttpClient::create(executor, url);
  if (!client.ok())
    co_return make_error("upstream.detect", client.error().message);
  unsigned status = 0;
  std::string session;
  net::HttpStreamHandler post_handler;
  post_handler.on_head = [&](const http::response_header<>& head) -> Status {
    status = head.result_int();
    session = std::string(head["Mcp-Session-Id"]);
    // The status is all the probe needs; the answer's body is not read.
    return make_error("upstream.detect", "head read");
  };
  post_handler.on_body = [](std::string_view) -> Status { return ok_status(); };
  std::vector<std::pair<std::string, std::string>> post_headers{
      {"Accept", "application/json, text/event-stream"}};
  bool sent = false;
  std::string initialize = kInitialize;
  (void)co_await (*client)->stream(http::verb::post, kRootPath, initialize, std::move(post_headers),
                                   steady_clock::now() + kProbeBudget, kProbeBudget, post_handler,
                                   sent);
  if (status >= 200 && status < 300) {
    if (!session.empty()) {
      // The probe's session is of no use to anyone: ended at once (MCP: DELETE ends a session).
      std::vector<std::pair<std::string, std::string>> end{{"Mcp-Session-Id", session}};
      (void)co_await (*client)->request(http::verb::delete_, kRootPath, kNoBody, std::move(end),
                                        std::chrono::seconds(2), false);
    }
    co_return DetectedTransport::streamable_http;
  }
  if (status < 400 || status >= 500) {
    co_return make_error("upstream.detect",
                         status == 0 ? "the upstream " + url + " did not answer an initialize POST"
                                     : "the upstream " + url +
                                           " answered an initialize POST with "
                                           "HTTP " +
                                           std::to_string(status));
  }
  // 4xx: perhaps the old transport. Its stream's first event must be `endpoint`.
  unsigned get_status = 0;
  std::string content_type;
  bool endpoint_seen = false;
  net::SseSplitter splitter(64 * 1024);
  net::HttpStreamHandler get_handler;
  get_handler.on_head = [&](const http::response_header<>& head) -> Status {
    get_status = head.result_int();
    content_type = std::string(head[http::field::content_type]);
    if (get_status != 200 || !content_type.starts_with("text/event-stream"))
      return make_error("upstream.detect", "no event stream");
    return ok_status();
  };
  get_handler.on_body = [&](std::string_view piece) -> Status {
    splitter.feed(piece);
    if (auto event = splitter.next()) {
      endpoint_seen =
          event->raw.starts_with("event: endpoint") || event->raw.starts_with("event:endpoint");
      return make_error("upstream.detect", "first event read");  // the probe's stream ends here
    }
    if (splitter.overflow())
      return make_error("upstream.detect", "first event too large");
    return ok_status();
  };
  std::vector<std::pair<std::string, std::string>> get_headers{{"Accept", "text/event-stream"}};
  (void)co_await (*client)->stream(http::verb::get, kRootPath, kNoBody, std::move(get_headers),
                                   steady_clock::now() + kProbeBudget, kProbeBudget, get_handler,
                                   sent);
  if (endpoint_seen)
    co_return DetectedTransport::sse;
  co_return make_error("upstream.detect",
                       "the upstream " + url + " refused an initialize POST with HTTP " +
                           std::to_string(status) + " and its GET gave " +
                           (get_status == 0 ? std::string("no answer")
                                            : "HTTP " + std::to_string(get_status) + " " +
                                                  content_type + " without an endpoint event") +
                           ": neither Streamable HTTP nor HTTP+SSE");
}

}  // namespace x402proxy::proxy
