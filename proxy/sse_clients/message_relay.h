// One message of an SSE client (MCP 2024-11-05 "HTTP with SSE": a POST to the messages
// endpoint) sent on as a Streamable HTTP POST to serve's own MCP endpoint (on its internal
// loopback listener), so that it meets exactly the checks and the paywall a Streamable HTTP
// client's POST meets; every JSON-RPC message of the answer (a JSON body or each event of an SSE
// stream: progress, server-to-client requests, the response) is put on the client's stream.
// Also the session's listening stream (the Streamable HTTP GET) and its end (DELETE).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/http_client.h"
#include "net/sse_splitter.h"
#include "proxy/sse_clients/sse_client_session.h"

namespace x402proxy::proxy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RelayLimits {
  std::chrono::milliseconds answer_idle{std::chrono::minutes(5)};  // no byte of the answer
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds head_wait{std::chrono::seconds(2)};
};

// What the client's POST is answered with: 202 once serve's endpoint accepted the message
// (status 2xx), else that endpoint's own refusal (status and JSON body: a parse error, a batch
// holding a priced call, a credential refused), or 502 when it could not be reached. Those
// refusals come at once; an answer whose status takes longer (a held paid call, a slow tool
// behind a JSON-answering upstream) is acknowledged with 202 when `head_wait` passes (MCP
// 2024-11-05: the POST is only an acknowledgement), and a refusal after that goes on the
// stream as its JSON-RPC error.
struct RelayHead {
  unsigned status = 0;
  std::string body;
};

class MessageRelay : public std::enable_shared_from_this<MessageRelay> {
 public:
  // `request_id`: the JSON text of the message's id when it is a request ("" otherwise): a
  // request whose answer never came gets a JSON-RPC error on the stream instead of silence.
  MessageRelay(boost::asio::any_io_executor executor, std::shared_ptr<net::HttpClient> mcp,
               std::shared_ptr<SseClientSession> session, RelayLimits limits,
               std::string request_id);

  // Sends `body` with `headers` (spawned on the executor given above).
  void start(std::string body, HeaderList headers);
  // Waits until the answer's status is known, or limits.head_wait (then status 202); on that
  // same executor.
  boost::asio::awaitable<RelayHead> head();

 private:
  boost::asio::awaitable<void> run(std::string body, HeaderList headers);
  void deliver(std::string_view data);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<net::HttpClient> mcp_;
  std::shared_ptr<SseClientSession> session_;
  RelayLimits limits_;
  std::string request_id_;
  boost::asio::steady_timer wake_;
  net::SseSplitter splitter_;
  unsigned status_ = 0;
  bool event_stream_ = false;
  bool head_known_ = false;
  bool answered_ = false;      // the response to request_id_ went onto the stream
  bool acknowledged_ = false;  // the POST was answered 202 before the status was known
  std::string body_;
};

// Puts a JSON-RPC message on the session's stream; from the first answer carrying
// result.protocolVersion (initialize's), the session knows the negotiated version.
void deliver_to_session(SseClientSession& session, std::string_view data,
                        const std::string& request_id, bool& answered);

// The session's listening stream on serve's MCP endpoint (Streamable HTTP GET), its messages put
// on the client's stream, reopened while the session lives; ends when the endpoint offers none.
boost::asio::awaitable<void> listen_to_server(std::shared_ptr<net::HttpClient> mcp,
                                              std::shared_ptr<SseClientSession> session,
                                              RelayLimits limits);

// Ends the session's Streamable HTTP session (DELETE with its Mcp-Session-Id).
boost::asio::awaitable<void> end_mcp_session(std::shared_ptr<net::HttpClient> mcp,
                                             std::string mcp_session, std::string protocol_version);

}  // namespace x402proxy::proxy
