#include "tests/support/stdio_mcp_client.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

namespace {

ChildOptions stdio_options(std::vector<std::string> argv, const std::string& stderr_path) {
  ChildOptions options;
  options.argv = std::move(argv);
  options.stdout_path = stderr_path + ".stdout";
  options.stderr_path = stderr_path;
  options.stdin_pipe = true;
  return options;
}

}  // namespace

StdioMcpClient::StdioMcpClient(std::vector<std::string> argv, const std::string& stderr_path)
    : child_(stdio_options(std::move(argv), stderr_path)), stdout_path_(stderr_path + ".stdout") {}

bool StdioMcpClient::send(const json::value& message) {
  return send_raw(json::serialize(message));
}

bool StdioMcpClient::send_raw(const std::string& line) {
  return child_.write_stdin(line + "\n");
}

void StdioMcpClient::read_new_lines() {
  std::ifstream file(stdout_path_, std::ios::binary);
  file.seekg(static_cast<std::streamoff>(consumed_));
  std::ostringstream fresh;
  fresh << file.rdbuf();
  const std::string text = fresh.str();
  consumed_ += text.size();
  partial_ += text;
  std::size_t start = 0;
  for (std::size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1) {
    boost::system::error_code ec;
    json::value value = json::parse(std::string_view(partial_).substr(start, end - start), ec);
    // Anything on stdout that is not a JSON-RPC object is kept as a marker the tests will see.
    messages_.push_back(!ec && value.is_object()
                            ? value.get_object()
                            : json::object{{"not_json", partial_.substr(start, end - start)}});
  }
  partial_.erase(0, start);
}

std::vector<json::object> StdioMcpClient::messages() {
  read_new_lines();
  return messages_;
}

std::optional<json::object> StdioMcpClient::response(const json::value& id,
                                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    read_new_lines();
    for (const auto& m : messages_) {
      const json::value* mid = m.if_contains("id");
      if (mid != nullptr && *mid == id && !m.contains("method"))
        return m;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::optional<json::object> StdioMcpClient::initialize(const std::string& protocol_version) {
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", "init"},
                    {"method", "initialize"},
                    {"params", json::object{{"protocolVersion", protocol_version},
                                            {"capabilities", json::object()},
                                            {"clientInfo", json::object{{"name", "stdio-test"},
                                                                        {"version", "1"}}}}}});
  auto answer = response("init");
  send(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  if (!answer || !answer->contains("result"))
    return std::nullopt;
  return answer->at("result").as_object();
}

std::optional<json::object> StdioMcpClient::call_tool(int id, const std::string& tool,
                                                      json::object arguments) {
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", id},
                    {"method", "tools/call"},
                    {"params", json::object{{"name", tool}, {"arguments", std::move(arguments)}}}});
  return response(id);
}

}  // namespace x402proxy::testing
