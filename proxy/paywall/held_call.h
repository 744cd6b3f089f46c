// Forward-and-hold: one priced call (x402 or prepaid credit) sent to the upstream and read up to
// its final response, which is handed back to the caller instead of being written. Everything
// the upstream sends before it (progress notifications, server-to-client requests on an SSE
// answer) reaches the client at once; the final response waits until the caller has decided what
// the client gets (settled: the result with its receipt; pending; failed) and calls deliver().
//
//   HeldCall call(state, client, keep_alive, id);
//   auto held = co_await call.forward(std::move(request), [&] { return journal.mark_forwarded();
//   });
//   ... settle ...
//   co_await call.deliver(answer);            // or call.fail(code, message)
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include "net/sse_splitter.h"
#include "proxy/serve_state.h"

namespace x402proxy::proxy {

struct HeldResult {
  enum class Kind {
    final_message,  // the upstream's final response for this call (in `message`)
    not_forwarded,  // nothing reached the upstream (no connection, or before_write refused)
    upstream_http,  // the upstream answered HTTP 4xx/5xx; relayed to the client as it was
    failed          // the request was sent but no final response came (`why`)
  };
  Kind kind = Kind::failed;
  boost::json::value message;
  std::string why;
};

class HeldCall {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  HeldCall(const ServeState& state, boost::beast::tcp_stream& client, bool client_keep_alive,
           boost::json::value id);
  ~HeldCall();
  HeldCall(const HeldCall&) = delete;
  HeldCall& operator=(const HeldCall&) = delete;

  // `before_write` runs once a connection is established, just before the request goes onto it
  // (the journal's "forwarded" is written there); if it fails, nothing is sent.
  boost::asio::awaitable<HeldResult> forward(
      Request request, const std::function<boost::asio::awaitable<Status>()>& before_write);

  // Writes the call's final answer: a JSON body, or the final event of the SSE stream in progress.
  boost::asio::awaitable<bool> deliver(std::string answer);
  // Writes a JSON-RPC error for the call in the framing already in use.
  boost::asio::awaitable<bool> fail(int code, const std::string& message);

  // The client connection can serve another request (after deliver/fail, or after an
  // upstream_http relay).
  bool client_ok() const { return client_ok_; }
  // The final answer reached the client (written completely).
  bool delivered() const { return delivered_; }

 private:
  boost::asio::awaitable<boost::system::error_code> read_final_header();
  boost::asio::awaitable<std::size_t> read_some_body(boost::system::error_code& ec);
  boost::asio::awaitable<HeldResult> hold_json();
  boost::asio::awaitable<HeldResult> hold_event_stream();
  boost::asio::awaitable<bool> relay_refusal();
  boost::asio::awaitable<bool> write_chunk(std::string_view bytes);
  void finish_upstream(bool reusable);

  const ServeState& state_;
  boost::beast::tcp_stream& client_;
  bool client_keep_alive_;
  boost::json::value id_;
  std::unique_ptr<UpstreamConnection> upstream_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  boost::beast::http::response_header<> upstream_head_;
  bool event_stream_ = false;
  bool head_written_ = false;  // the SSE response head reached the client
  bool client_alive_ = true;   // the client still reads (a client gone does not stop the call)
  bool client_ok_ = false;
  bool delivered_ = false;
  std::string final_event_raw_;  // the SSE event that carried the final response
  std::array<char, 16 * 1024> chunk_{};
};

// The final response to call `id`: a JSON-RPC response object carrying that id.
bool is_final_response(const boost::json::value& message, const boost::json::value& id);

}  // namespace x402proxy::proxy
