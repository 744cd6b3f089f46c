// Streams an upstream response to the client as it arrives: headers first, then each piece of body
// the moment it is read (an SSE event is never held back), with no buffering of the whole body.
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include "proxy/upstream/upstream_pool.h"

namespace x402proxy::proxy {

struct RelayTimeouts {
  std::chrono::milliseconds upstream_idle{std::chrono::minutes(5)};  // no byte from upstream
  std::chrono::milliseconds client_write{std::chrono::seconds(30)};  // client not reading
};

struct RelayOutcome {
  bool response_started = false;   // the client has received the status line (no error page now)
  bool client_ok = false;          // the client connection can serve another request
  bool upstream_reusable = false;  // the upstream connection finished cleanly with keep-alive
  boost::system::error_code upstream_error;  // set when the upstream failed
};

boost::asio::awaitable<RelayOutcome> relay_response(UpstreamConnection& upstream,
                                                    boost::beast::tcp_stream& client,
                                                    bool client_keep_alive, bool head_request,
                                                    RelayTimeouts timeouts);

}  // namespace x402proxy::proxy
