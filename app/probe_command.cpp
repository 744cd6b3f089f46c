#include "app/probe_command.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "net/http_client.h"
#include "net/url.h"

namespace x402proxy::app {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr std::chrono::milliseconds kDefaultTimeout{2000};
// A probe that waits longer than its orchestrator is itself the outage; an hour is already absurd.
constexpr std::chrono::milliseconds kMaxTimeout{3'600'000};
// Health answers are a few bytes; more is not a health endpoint.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;
// How much of an unhealthy answer's body is shown (/readyz says what is unreachable).
constexpr std::size_t kShownBodyBytes = 200;

// "500ms", "2s", "1m" (the config's duration syntax); nullopt when malformed or out of range.
std::optional<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() || value == 0 ||
      value > static_cast<std::uint64_t>(kMaxTimeout.count()))
    return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  std::chrono::milliseconds timeout{0};
  if (unit == "ms")
    timeout = std::chrono::milliseconds(value);
  else if (unit == "s")
    timeout = std::chrono::seconds(value);
  else if (unit == "m")
    timeout = std::chrono::minutes(value);
  else
    return std::nullopt;
  if (timeout > kMaxTimeout)
    return std::nullopt;
  return timeout;
}

// "http://host:port" and "/path?query" of an http URL (net/url.h); nullopt for anything else.
struct ProbeTarget {
  std::string origin;
  std::string path;
};

std::optional<ProbeTarget> split_url(std::string_view url) {
  auto parsed = net::parse_http_url(url);
  if (!parsed.ok() || parsed->tls)
    return std::nullopt;
  ProbeTarget target;
  target.origin = "http://" + parsed->authority();
  target.path = parsed->path.empty() ? "/" : parsed->path;
  if (!parsed->query.empty())
    target.path += "?" + parsed->query;
  return target;
}

// The first line of a body, cut to a readable length, for the message on stderr.
std::string body_excerpt(const std::string& body) {
  std::string_view text = body;
  text = text.substr(0, text.find_first_of("\r\n"));
  if (text.size() > kShownBodyBytes)
    return std::string(text.substr(0, kShownBodyBytes)) + "...";
  return std::string(text);
}

asio::awaitable<int> probe(ProbeTarget target, std::string url, std::chrono::milliseconds timeout) {
  net::HttpClientOptions options;
  options.max_response_bytes = kMaxAnswerBytes;
  options.max_idle_connections = 0;
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto client = net::HttpClient::create(executor, target.origin, options);
  if (!client.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy probe: %s\n", client.error().message.c_str());
    co_return 2;
  }
  // One attempt on a fresh connection: a probe has no stale connection to retry. (Arguments are
  // named locals: GCC 12 mishandles temporaries in a co_await full-expression.)
  std::string no_body;
  std::vector<std::pair<std::string, std::string>> no_headers;
  auto answer = co_await (*client)->request(http::verb::get, target.path, std::move(no_body),
                                            std::move(no_headers), timeout, false);
  if (!answer.ok()) {
    std::fprintf(stderr, "x402-mcp-proxy probe: %s: %s\n", url.c_str(),
                 answer.error().message.c_str());
    co_return 1;
  }
  const bool healthy = answer->status >= 200 && answer->status < 300;
  std::string excerpt = body_excerpt(answer->body);
  std::fprintf(stderr, "x402-mcp-proxy probe: %s: HTTP %u%s%s\n", url.c_str(), answer->status,
               excerpt.empty() ? "" : " ", excerpt.c_str());
  co_return healthy ? 0 : 1;
}

}  // namespace

int run_probe_command(const std::string& url, const std::string& timeout_text) {
  if (url.empty()) {
    std::fprintf(stderr, "usage: x402-mcp-proxy probe URL [--timeout 2s]\n");
    return 2;
  }
  auto target = split_url(url);
  if (!target) {
    std::fprintf(stderr,
                 "x402-mcp-proxy probe: expected an http://host:port/path URL (the proxy's own "
                 "health endpoint), got \"%s\"\n",
                 url.c_str());
    return 2;
  }
  std::chrono::milliseconds timeout = kDefaultTimeout;
  if (!timeout_text.empty()) {
    auto parsed = parse_timeout(timeout_text);
    if (!parsed) {
      std::fprintf(stderr,
                   "x402-mcp-proxy probe: --timeout: expected a duration like \"500ms\", \"2s\" or "
                   "\"1m\" (at most 1h), got \"%s\"\n",
                   timeout_text.c_str());
      return 2;
    }
    timeout = *parsed;
  }

  // The client's budget covers resolve, connect, write and read, so run() returns within it.
  asio::io_context context;
  int exit_code = 1;
  asio::co_spawn(context, probe(std::move(*target), url, timeout),
                 [&exit_code, &url](std::exception_ptr failure, int code) {
                   if (!failure) {
                     exit_code = code;
                     return;
                   }
                   try {
                     std::rethrow_exception(failure);
                   } catch (const std::exception& e) {
                     std::fprintf(stderr, "x402-mcp-proxy probe: %s: %s\n", url.c_str(), e.what());
                   } catch (...) {
                     std::fprintf(stderr, "x402-mcp-proxy probe: %s: failed\n", url.c_str());
                   }
                   exit_code = 1;
                 });
  context.run();
  return exit_code;
}

}  // namespace x402proxy::app
