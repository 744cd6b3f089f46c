// Reading the upstream's answer to a paid call. A JSON answer is read whole (bounded) because its
// one message is the final response; an SSE answer is passed on event by event, holding back only
// the final response for this call until the payment is settled.
#pragma once

#include <array>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include "proxy/serve_state.h"

namespace x402proxy::proxy {

// Turns the upstream's final response into the text the client receives (settling on the way).
using ConcludeCall = std::function<boost::asio::awaitable<std::string>(boost::json::value)>;

struct PaidFinish {
  bool concluded = false;         // the final response was found and handed to ConcludeCall
  bool response_started = false;  // bytes reached the client; no separate error reply possible
  bool client_ok = false;         // the client connection can serve another request
  bool upstream_reusable = false;
  std::string failure;  // why not concluded
};

class PaidResponseStream {
 public:
  PaidResponseStream(ServeState& state, boost::beast::tcp_stream& client,
                     UpstreamConnection& upstream, bool client_keep_alive);

  boost::asio::awaitable<boost::system::error_code> read_header();
  unsigned status() const { return parser_.get().result_int(); }
  bool is_event_stream() const;

  // An upstream refusal (HTTP 4xx/5xx) carries no paid content: relayed as it is, bounded.
  boost::asio::awaitable<bool> pass_through_unpaid();

  boost::asio::awaitable<PaidFinish> finish_json(const boost::json::value& id,
                                                 const ConcludeCall& conclude);
  boost::asio::awaitable<PaidFinish> finish_event_stream(const boost::json::value& id,
                                                         const ConcludeCall& conclude);

 private:
  // Reads the next piece of body into chunk_; returns the bytes read (0 at the end of the body).
  boost::asio::awaitable<std::size_t> read_some_body(boost::system::error_code& ec);
  boost::asio::awaitable<boost::system::error_code> read_whole_body(std::string& body);
  boost::asio::awaitable<bool> write_to_client(std::string_view bytes);

  ServeState& state_;
  boost::beast::tcp_stream& client_;
  UpstreamConnection& upstream_;
  bool client_keep_alive_;
  boost::beast::http::response_parser<boost::beast::http::buffer_body> parser_;
  std::array<char, 16 * 1024> chunk_{};
};

}  // namespace x402proxy::proxy
