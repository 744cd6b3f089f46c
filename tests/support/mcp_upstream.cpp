#include "tests/support/mcp_upstream.h"

#include <algorithm>
#include <cstdint>

#include <boost/json.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

namespace {

constexpr const char* kEventStream = "text/event-stream";

TestResponse json_message(const json::object& message, const std::string& session,
                          unsigned status = 200) {
  TestResponse response;
  response.status = status;
  response.headers = {{"Content-Type", "application/json"}};
  if (!session.empty())
    response.headers.emplace_back("Mcp-Session-Id", session);
  response.body = json::serialize(message);
  return response;
}

TestResponse json_result(const json::value& id, json::object result, const std::string& session) {
  return json_message(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}},
                      session);
}

// JSON-RPC 2.0 section 5.1 error object.
TestResponse json_error(const json::value& id, int code, const std::string& text,
                        const std::string& session, unsigned status = 200) {
  return json_message(
      json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", text}}}},
      session, status);
}

json::object text_result(const std::string& text) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}}};
}

std::string sse_event(const json::object& message, const std::string& id = "") {
  std::string event = "event: message\n";
  if (!id.empty())
    event += "id: " + id + "\n";
  return event + "data: " + json::serialize(message) + "\n\n";
}

const json::object* object_at(const json::object& object, const char* key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_object() ? &value->as_object() : nullptr;
}

std::string string_at(const json::object& object, const char* key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::int64_t integer_at(const json::object& object, const char* key, std::int64_t fallback) {
  const json::value* value = object.if_contains(key);
  if (!value || !value->is_number())
    return fallback;
  boost::system::error_code ec;
  auto number = value->to_number<std::int64_t>(ec);
  return ec ? fallback : number;
}

json::array tool_list() {
  const json::object any_object{{"type", "object"}};
  json::array tools;
  for (const char* name : kMcpUpstreamTools) {
    json::object tool{{"name", name},
                      {"description", std::string("test tool ") + name},
                      {"inputSchema", any_object}};
    if (std::string_view(name) == "weather") {
      tool["outputSchema"] =
          json::object{{"type", "object"},
                       {"properties",
                        {{"city", {{"type", "string"}}},
                         {"temperature_c", {{"type", "integer"}}},
                         {"conditions", {{"type", "string"}}}}},
                       {"required", json::array{"city", "temperature_c", "conditions"}}};
    }
    tools.push_back(std::move(tool));
  }
  return tools;
}

// MCP 2026-07-28, basic/patterns/mrtr: an InputRequiredResult until the retry brings the
// inputResponses for our request key and echoes our requestState.
json::object input_needed_result(const json::object& params) {
  const json::object* responses = object_at(params, "inputResponses");
  if (responses && responses->contains("confirm") &&
      string_at(params, "requestState") == kInputNeededState) {
    const json::object* answer = object_at(*responses, "confirm");
    const bool accepted = answer && string_at(*answer, "action") == "accept";
    return text_result(accepted ? "confirmed" : "declined");
  }
  json::object elicitation{{"method", "elicitation/create"},
                           {"params",
                            {{"mode", "form"},
                             {"message", "Continue?"},
                             {"requestedSchema",
                              {{"type", "object"},
                               {"properties", {{"confirm", {{"type", "boolean"}}}}},
                               {"required", json::array{"confirm"}}}}}}};
  return json::object{{"resultType", "input_required"},
                      {"inputRequests", {{"confirm", std::move(elicitation)}}},
                      {"requestState", kInputNeededState}};
}

// slow_progress and cut_stream: progress notifications spaced in time, then (or not) the result.
TestResponse progress_stream(const json::value& id, const std::string& tool,
                             const json::object& params, const json::object& arguments,
                             const McpUpstreamOptions& options, const std::string& session) {
  json::value token = nullptr;
  if (const json::object* meta = object_at(params, "_meta");
      meta && meta->contains("progressToken"))
    token = meta->at("progressToken");
  const auto steps =
      std::clamp<std::int64_t>(integer_at(arguments, "steps", options.progress_events), 0, 1000);
  const std::chrono::milliseconds interval(std::clamp<std::int64_t>(
      integer_at(arguments, "interval_ms", options.progress_interval.count()), 0, 60000));
  TestResponse stream;
  stream.headers = {{"Content-Type", kEventStream}, {"Cache-Control", "no-cache"}};
  if (!session.empty())
    stream.headers.emplace_back("Mcp-Session-Id", session);
  for (std::int64_t i = 1; i <= steps; ++i) {
    // The progressToken is only echoed when the request gave one (MCP basic/utilities/progress).
    if (token.is_null())
      continue;
    json::object note{{"jsonrpc", "2.0"},
                      {"method", "notifications/progress"},
                      {"params", {{"progressToken", token}, {"progress", i}, {"total", steps}}}};
    stream.chunks.emplace_back(interval, sse_event(note, "progress-" + std::to_string(i)));
  }
  if (tool == "cut_stream") {
    stream.chunks.emplace_back(std::chrono::milliseconds(0), "");
    return stream;
  }
  json::object final{{"jsonrpc", "2.0"}, {"id", id}, {"result", text_result("done")}};
  stream.chunks.emplace_back(interval, sse_event(final, "final-1"));
  return stream;
}

TestResponse call_tool(const json::value& id, const json::object& params,
                       const McpUpstreamOptions& options, const std::string& session) {
  const std::string tool = string_at(params, "name");
  const json::object no_arguments;
  const json::object* given = object_at(params, "arguments");
  const json::object& arguments = given ? *given : no_arguments;
  if (tool == "echo")
    return json_result(id, text_result(string_at(arguments, "text")), session);
  if (tool == "add") {
    const auto sum = integer_at(arguments, "a", 0) + integer_at(arguments, "b", 0);
    json::object result = text_result(std::to_string(sum));
    result["_meta"] = json::object{{"upstream/own", "kept"}};
    return json_result(id, std::move(result), session);
  }
  if (tool == "weather") {
    std::string city = string_at(arguments, "city");
    if (city.empty())
      city = "Lisbon";
    json::object result = text_result("Sunny, 21 C in " + city);
    result["structuredContent"] =
        json::object{{"city", city}, {"temperature_c", 21}, {"conditions", "sunny"}};
    return json_result(id, std::move(result), session);
  }
  if (tool == "fail") {
    json::object result = text_result("the tool failed");
    result["isError"] = true;
    return json_result(id, std::move(result), session);
  }
  if (tool == "input_needed")
    return json_result(id, input_needed_result(params), session);
  if (tool == "slow_progress" || tool == "cut_stream")
    return progress_stream(id, tool, params, arguments, options, session);
  // MCP server/tools: an unknown tool is a protocol error, -32602.
  return json_error(id, -32602, "Unknown tool: " + tool, session);
}

TestResponse server_stream(const McpUpstreamOptions& options, const std::string& session) {
  TestResponse stream;
  stream.headers = {{"Content-Type", kEventStream}, {"Cache-Control", "no-cache"}};
  if (!session.empty())
    stream.headers.emplace_back("Mcp-Session-Id", session);
  json::object note{{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}};
  stream.chunks = {{std::chrono::milliseconds(0), sse_event(note, "server-1")}};
  stream.hold_open = options.hold_get_stream;
  return stream;
}

}  // namespace

TestResponse answer_mcp_request(const RecordedRequest& request, const McpUpstreamOptions& options,
                                const std::string& session) {
  if (request.method == "GET")
    return server_stream(options, session);
  if (request.method == "DELETE")
    return TestResponse{200, {}, ""};
  if (request.method != "POST")
    return TestResponse{405, {{"Allow", "GET, POST, DELETE"}}, ""};
  boost::system::error_code ec;
  json::value message = json::parse(request.body, ec);
  if (ec)
    return json_error(nullptr, -32700, "Parse error: " + ec.message(), "", 400);
  if (!message.is_object())
    return json_error(nullptr, -32600, "Invalid Request: not a JSON-RPC object", "", 400);
  const json::object& object = message.as_object();
  const json::value* id = object.if_contains("id");
  const std::string method = string_at(object, "method");
  // Notifications and the client's responses get 202 Accepted with no body (Streamable HTTP).
  if (!id || method.empty())
    return TestResponse{202, {}, ""};
  const json::object no_params;
  const json::object* given = object_at(object, "params");
  const json::object& params = given ? *given : no_params;
  if (method == "initialize") {
    json::value version = params.contains("protocolVersion") ? params.at("protocolVersion")
                                                             : json::value("2025-06-18");
    return json_result(*id,
                       {{"protocolVersion", version},
                        {"capabilities", {{"tools", {{"listChanged", true}}}}},
                        {"serverInfo", {{"name", "test-upstream"}, {"version", "1.0.0"}}}},
                       session);
  }
  if (method == "ping")
    return json_result(*id, {}, session);
  if (method == "tools/list")
    return json_result(*id, {{"tools", tool_list()}}, session);
  if (method == "tools/call")
    return call_tool(*id, params, options, session);
  return json_error(*id, -32601, "Method not found: " + method, session);
}

TestHandler make_mcp_upstream(McpUpstreamOptions options) {
  return [options](const RecordedRequest& request) {
    return answer_mcp_request(request, options, options.session_id);
  };
}

}  // namespace x402proxy::testing
