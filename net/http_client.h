// A small HTTP(S) client for calling services such as an x402 facilitator: one deadline covers a
// whole call (resolve, connect, TLS handshake, write, read), TLS peers are verified by default
// (system CA store, SNI, host name), responses are size-limited, and idle keep-alive connections
// are reused. Thread-safe: any number of coroutines on any threads may call request().
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include "x402/result.h"

namespace x402proxy::net {

struct HttpClientOptions {
  bool tls_verify = true;
  std::size_t max_response_bytes = 1024 * 1024;
  std::size_t max_idle_connections = 8;
  std::chrono::milliseconds max_idle_age{std::chrono::seconds(4)};
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

// Why a call gave no answer.
enum class HttpFailure {
  not_sent,     // "http.not_sent": DNS, connect or TLS failed or timed out; the request never left
  timeout,      // "http.timeout": no answer within the budget
  unreachable,  // "http.unreachable": I/O failed after the request was sent
  too_large,    // "http.too_large": the answer is over max_response_bytes
  stopped,      // "http.stopped": a stream handler refused what came (its message says why)
};
const char* to_string(HttpFailure failure);
using HttpError = Failure<HttpFailure>;
using HttpResult = Result<HttpResponse, HttpError>;

// A streamed call (an MCP POST answered with an SSE stream, or a GET stream): the head is handed
// over as soon as it arrives, then each piece of the body as it is read. A handler that returns an
// error stops the call with that error.
struct HttpStreamHandler {
  std::function<Status(const boost::beast::http::response_header<>& head)> on_head;
  std::function<Status(std::string_view piece)> on_body;
};

// Whether an idle keep-alive connection can take another request: nothing is waiting to be read
// on it (an idle HTTP connection has nothing to say; bytes or an EOF mean the peer closed it or
// broke the protocol). FIONREAD alone does not see an EOF, so a peer that closed (a restart) would
// look alive and the next request on it would die unanswered.
bool idle_connection_usable(boost::asio::ip::tcp::socket& socket);

class HttpClient {
 public:
  // Reason "http.url" when `base_url` is not one. `base_url`: http://host[:port][/prefix][?query]
  // or https://… (net/url.h; IPv6 literals in brackets); request paths are appended to the prefix,
  // the query goes last.
  static Result<std::shared_ptr<HttpClient>> create(boost::asio::any_io_executor executor,
                                                    const std::string& base_url,
                                                    HttpClientOptions options = {});
  ~HttpClient();

  // `retry_stale`: when a reused connection fails before any answer, try once on a new connection.
  // Only for idempotent calls: a POST that changes state must not be sent twice.
  boost::asio::awaitable<HttpResult> request(
      boost::beast::http::verb method, const std::string& path, std::string body,
      std::vector<std::pair<std::string, std::string>> headers, std::chrono::milliseconds budget,
      bool retry_stale);

  // Streams the answer to `handler`; no size limit beyond what the handler enforces. `deadline`
  // covers the whole call, `idle` each wait for the next piece. `sent` tells afterwards whether the
  // request may have reached the server (false only when connecting failed), which decides
  // whether a payment it carried can be considered unspent. Never retried: it may not be
  // idempotent.
  boost::asio::awaitable<Result<Ok, HttpError>> stream(
      boost::beast::http::verb method, const std::string& path, std::string body,
      std::vector<std::pair<std::string, std::string>> headers,
      std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds idle,
      const HttpStreamHandler& handler, bool& sent);

  const std::string& base_url() const { return base_url_; }

 private:
  struct Connection;
  HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options);
  std::unique_ptr<Connection> take_idle();
  void give_back(std::unique_ptr<Connection> connection);
  boost::beast::http::request<boost::beast::http::string_body> make_request(
      boost::beast::http::verb method, const std::string& path, std::string body,
      std::vector<std::pair<std::string, std::string>> headers) const;
  boost::asio::awaitable<Result<std::unique_ptr<Connection>, HttpError>> connect(
      std::chrono::steady_clock::time_point deadline);

  boost::asio::any_io_executor executor_;
  HttpClientOptions options_;
  std::string base_url_;
  bool tls_ = false;
  std::string host_;         // for the resolver, SNI and certificate checks
  std::string host_header_;  // IPv6 literals in brackets
  std::string port_;
  std::string prefix_;
  std::string query_;
  boost::asio::ssl::context tls_context_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace x402proxy::net
