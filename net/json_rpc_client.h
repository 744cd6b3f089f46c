// A JSON-RPC 2.0 client over HTTP(S) for chain nodes (EVM eth_*, Solana): one call, one budget,
// errors as values. Reads only: a stale keep-alive connection is retried once, which is safe
// because nothing here changes chain state.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "net/http_client.h"

namespace x402proxy::net {

class JsonRpcClient {
 public:
  // `max_response_bytes`: 4 MiB fits a getLogs answer over a window of blocks.
  static Result<std::shared_ptr<JsonRpcClient>> create(boost::asio::any_io_executor executor,
                                                       const std::string& url,
                                                       std::chrono::milliseconds budget,
                                                       std::size_t max_response_bytes = 4 << 20);

  // The call's `result`. Reason "rpc": transport failure, HTTP error, not JSON, or the node's
  // JSON-RPC error (its message, shortened and without blobs, is in the message).
  boost::asio::awaitable<Result<boost::json::value>> call(const std::string& method,
                                                          boost::json::array params);

  const std::string& url() const { return url_; }

 private:
  JsonRpcClient(std::shared_ptr<HttpClient> http, std::string url, std::chrono::milliseconds budget)
      : http_(std::move(http)), url_(std::move(url)), budget_(budget) {}
  std::shared_ptr<HttpClient> http_;
  std::string url_;
  std::chrono::milliseconds budget_;
};

}  // namespace x402proxy::net
