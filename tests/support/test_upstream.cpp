#include "tests/support/test_upstream.h"

#include <boost/json.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

namespace {

// The JSON-RPC messages of a POST body: one object, or the elements of a batch.
std::vector<json::object> messages_of(const std::string& body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  std::vector<json::object> messages;
  if (ec)
    return messages;
  if (parsed.is_object())
    messages.push_back(parsed.as_object());
  if (parsed.is_array()) {
    for (const auto& element : parsed.as_array()) {
      if (element.is_object())
        messages.push_back(element.as_object());
    }
  }
  return messages;
}

bool is_method(const json::object& message, std::string_view method) {
  const json::value* value = message.if_contains("method");
  return value && value->is_string() && value->as_string() == method;
}

TestResponse session_error(unsigned status, int code, const std::string& text) {
  TestResponse response;
  response.status = status;
  response.headers = {{"Content-Type", "application/json"}};
  response.body = json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", text}}}});
  return response;
}

}  // namespace

TestUpstream::TestUpstream(TestUpstreamOptions options)
    : mcp_{options.progress_events, options.progress_interval, "", options.hold_get_stream},
      require_session_(options.require_session),
      server_([this](const RecordedRequest& request) { return answer(request); }, options.port,
              options.address) {}

std::size_t TestUpstream::tool_calls(std::string_view name) const {
  std::size_t calls = 0;
  for (const auto& request : server_.requests()) {
    if (request.method != "POST")
      continue;
    for (const auto& message : messages_of(request.body)) {
      if (!is_method(message, "tools/call"))
        continue;
      const json::value* params = message.if_contains("params");
      const json::value* tool =
          params && params->is_object() ? params->as_object().if_contains("name") : nullptr;
      calls += tool && tool->is_string() && tool->as_string() == name;
    }
  }
  return calls;
}

std::set<std::string> TestUpstream::active_sessions() const {
  std::lock_guard lock(mutex_);
  return active_sessions_;
}

void TestUpstream::set_response_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  response_delay_ = delay;
}

void TestUpstream::set_close_connections(bool close) {
  std::lock_guard lock(mutex_);
  close_connections_ = close;
}

void TestUpstream::set_progress(int events, std::chrono::milliseconds interval) {
  std::lock_guard lock(mutex_);
  mcp_.progress_events = events;
  mcp_.progress_interval = interval;
}

void TestUpstream::set_require_session(bool required) {
  std::lock_guard lock(mutex_);
  require_session_ = required;
}

TestResponse TestUpstream::answer(const RecordedRequest& request) {
  std::lock_guard lock(mutex_);
  if (close_connections_) {
    TestResponse hang_up;
    hang_up.hang_up = true;
    return hang_up;
  }
  const std::string session = request.header("mcp-session-id");
  const auto messages =
      request.method == "POST" ? messages_of(request.body) : std::vector<json::object>{};
  const bool initialize = messages.size() == 1 && is_method(messages[0], "initialize");
  TestResponse response;
  if (initialize) {
    // A fresh session for every initialize (MCP basic/transports: assigned at initialization).
    const std::string issued = "upstream-session-" + std::to_string(++sessions_issued_);
    active_sessions_.insert(issued);
    response = answer_mcp_request(request, mcp_, issued);
  } else if (!session.empty() && !active_sessions_.contains(session)) {
    // MCP basic/transports: a request naming a terminated or unknown session gets 404.
    response = session_error(404, -32001, "Session not found");
  } else if (session.empty() && (require_session_ || request.method == "DELETE")) {
    response = session_error(400, -32000, "Bad Request: Mcp-Session-Id header is required");
  } else if (request.method == "DELETE") {
    active_sessions_.erase(session);
    response = TestResponse{200, {}, ""};
  } else {
    response = answer_mcp_request(request, mcp_, session);
  }
  response.delay += response_delay_;
  return response;
}

}  // namespace x402proxy::testing
