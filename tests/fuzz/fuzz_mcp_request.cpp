// mcp/mcp_request.h: what serve decides on. Any POST body is classified or refused as -32700 /
// -32600, never a crash; what is accepted is consistent with the body it came from (one message
// per batch element, the tool name and the payment read from the parsed body). The request
// metadata headers a conforming client derives from a message always agree with it
// (check_request_headers), and the body read back through its own Mcp-Name encoding too.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/serialize.hpp>

#include "mcp/mcp_request.h"
#include "tests/fuzz/fuzz_check.h"
#include "x402/base64.h"

namespace {

using namespace x402proxy;
namespace json = boost::json;

void check_message(const mcp::McpMessage& message, const json::value& element) {
  const json::object& object = element.as_object();
  if (message.kind == mcp::McpMessage::Kind::response) {
    FUZZ_CHECK(message.method.empty());
    FUZZ_CHECK(!message.is_tools_call && message.payment == nullptr);
    return;
  }
  FUZZ_CHECK(object.at("method").as_string() == message.method);
  FUZZ_CHECK((message.kind == mcp::McpMessage::Kind::notification) == !object.contains("id"));
  if (message.kind == mcp::McpMessage::Kind::request)
    FUZZ_CHECK(message.id == object.at("id"));
  FUZZ_CHECK(message.is_tools_call == (message.method == "tools/call"));
  if (message.is_tools_call) {
    FUZZ_CHECK(message.kind == mcp::McpMessage::Kind::request);
    FUZZ_CHECK(object.at("params").at("name").as_string() == message.tool_name);
  }
  if (message.payment != nullptr) {
    // The pointer is into the body: the payment the paywall decodes is the one that was sent.
    FUZZ_CHECK(message.payment ==
               object.at("params").at("_meta").as_object().if_contains("x402/payment"));
    (void)json::serialize(*message.payment);
  }

  // The headers a client mirrors from this very message (MCP 2026-07-28 "Request Metadata").
  mcp::McpRequestHeaders headers;
  const std::string encoded_name = "=?base64?" + x402::base64_encode(message.tool_name) + "?=";
  headers.method = message.method;
  if (message.body_protocol_version)
    headers.protocol_version = *message.body_protocol_version;
  if (message.is_tools_call)
    headers.name = encoded_name;
  FUZZ_CHECK(mcp::check_request_headers(message, headers).ok());
  // And a header that names another method never passes.
  const std::string other_method = message.method + "x";
  headers.method = other_method;
  auto mismatch = mcp::check_request_headers(message, headers);
  FUZZ_CHECK(!mismatch.ok() && mismatch.error().reason == "mcp.header_mismatch");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  auto post = mcp::inspect_mcp_post(body);
  if (!post.ok()) {
    const auto& error = post.error();
    FUZZ_CHECK(error.reason == mcp::to_string(error.kind));
    FUZZ_CHECK(!error.message.empty());
  } else {
    FUZZ_CHECK(!post->messages.empty());
    FUZZ_CHECK(post->is_batch == post->body.is_array());
    if (post->is_batch) {
      const json::array& batch = post->body.as_array();
      FUZZ_CHECK(batch.size() == post->messages.size());
      for (std::size_t i = 0; i < batch.size(); ++i)
        check_message(post->messages[i], batch[i]);
    } else {
      FUZZ_CHECK(post->messages.size() == 1);
      check_message(post->messages[0], post->body);
    }
  }

  // The same bytes as an Mcp-Name header value: decoded or refused, never a crash; the sentinel
  // form of a name decodes back to the name.
  if (auto decoded = mcp::decode_mcp_header_value(body); decoded.ok()) {
    const std::string sentinel = "=?base64?" + x402::base64_encode(*decoded) + "?=";
    auto again = mcp::decode_mcp_header_value(sentinel);
    FUZZ_CHECK(again.ok() && *again == *decoded);
  } else {
    FUZZ_CHECK(decoded.error().reason == "mcp.header_mismatch");
  }
  return 0;
}
