#include "tests/support/mcp_upstream.h"

#include <boost/json.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

namespace {

TestResponse json_answer(const json::value& id, json::object result, const std::string& session) {
  TestResponse response;
  response.headers = {{"Content-Type", "application/json"}, {"Mcp-Session-Id", session}};
  response.body = json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
  return response;
}

json::object text_result(const std::string& text) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}}};
}

}  // namespace

TestHandler make_mcp_upstream(McpUpstreamOptions options) {
  return [options](const RecordedRequest& request) -> TestResponse {
    if (request.method == "GET") {
      TestResponse stream;
      stream.headers = {{"Content-Type", "text/event-stream"}};
      stream.chunks = {{std::chrono::milliseconds(0),
                        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
                        "tools/list_changed\"}\n\n"}};
      return stream;
    }
    if (request.method == "DELETE")
      return TestResponse{200, {}, ""};
    if (request.method != "POST")
      return TestResponse{405, {}, ""};
    json::value message;
    try {
      message = json::parse(request.body);
    } catch (...) {
      return TestResponse{400, {{"Content-Type", "application/json"}}, "{\"error\":\"bad json\"}"};
    }
    const json::object& object = message.as_object();
    if (!object.contains("id"))
      return TestResponse{202, {}, ""};  // a notification
    const json::value id = object.at("id");
    const std::string method(object.at("method").as_string());
    const json::object empty;
    const json::object& params =
        object.contains("params") ? object.at("params").as_object() : empty;
    if (method == "initialize") {
      return json_answer(
          id,
          {{"protocolVersion", params.contains("protocolVersion") ? params.at("protocolVersion")
                                                                  : json::value("2025-06-18")},
           {"capabilities", {{"tools", json::object{}}}},
           {"serverInfo", {{"name", "test-upstream"}, {"version", "1.0.0"}}}},
          options.session_id);
    }
    if (method == "ping")
      return json_answer(id, {}, options.session_id);
    if (method == "tools/list") {
      json::array tools;
      for (const char* name :
           {"echo", "add", "slow_progress", "fail", "input_needed", "cut_stream"}) {
        tools.push_back(json::object{{"name", name}, {"inputSchema", {{"type", "object"}}}});
      }
      return json_answer(id, {{"tools", tools}}, options.session_id);
    }
    if (method != "tools/call") {
      TestResponse error;
      error.headers = {{"Content-Type", "application/json"}};
      error.body = json::serialize(
          json::object{{"jsonrpc", "2.0"},
                       {"id", id},
                       {"error", {{"code", -32601}, {"message", "no such method"}}}});
      return error;
    }
    const std::string tool(params.at("name").as_string());
    const json::object arguments =
        params.contains("arguments") ? params.at("arguments").as_object() : json::object{};
    if (tool == "echo") {
      return json_answer(
          id,
          text_result(arguments.contains("text") ? std::string(arguments.at("text").as_string())
                                                 : ""),
          options.session_id);
    }
    if (tool == "add") {
      auto a = arguments.contains("a") ? arguments.at("a").to_number<std::int64_t>() : 0;
      auto b = arguments.contains("b") ? arguments.at("b").to_number<std::int64_t>() : 0;
      json::object result = text_result(std::to_string(a + b));
      result["_meta"] = json::object{{"upstream/own", "kept"}};
      return json_answer(id, result, options.session_id);
    }
    if (tool == "fail") {
      json::object result = text_result("the tool failed");
      result["isError"] = true;
      return json_answer(id, result, options.session_id);
    }
    if (tool == "input_needed") {
      return json_answer(
          id,
          {{"resultType", "input_required"},
           {"inputRequests",
            {{"confirm",
              {{"method", "elicitation/create"}, {"params", {{"message", "Continue?"}}}}}}}},
          options.session_id);
    }
    if (tool == "slow_progress" || tool == "cut_stream") {
      json::value token = 0;
      if (params.contains("_meta") && params.at("_meta").as_object().contains("progressToken")) {
        token = params.at("_meta").at("progressToken");
      }
      TestResponse stream;
      stream.headers = {{"Content-Type", "text/event-stream"},
                        {"Mcp-Session-Id", options.session_id}};
      for (int i = 1; i <= options.progress_events; ++i) {
        json::object note{
            {"jsonrpc", "2.0"},
            {"method", "notifications/progress"},
            {"params",
             {{"progressToken", token}, {"progress", i}, {"total", options.progress_events}}}};
        stream.chunks.push_back(
            {options.progress_interval, "event: message\ndata: " + json::serialize(note) + "\n\n"});
      }
      if (tool == "cut_stream") {
        stream.chunks.push_back({std::chrono::milliseconds(0), ""});
        return stream;
      }
      json::object final{{"jsonrpc", "2.0"}, {"id", id}, {"result", text_result("done")}};
      stream.chunks.push_back({options.progress_interval, "event: message\nid: final-1\ndata: " +
                                                              json::serialize(final) + "\n\n"});
      return stream;
    }
    json::object result = text_result("unknown tool " + tool);
    result["isError"] = true;
    return json_answer(id, result, options.session_id);
  };
}

}  // namespace x402proxy::testing
