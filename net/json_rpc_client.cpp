#include "net/json_rpc_client.h"

#include <boost/json/serialize.hpp>

#include "net/redaction.h"
#include "x402/strict_json.h"

namespace x402proxy::net {
namespace json = boost::json;

namespace {
// GCC 12 rejects string-literal temporaries in a co_return full-expression: build locals.
Error rpc_error(const std::string& method, const std::string& message) {
  return make_error("rpc", method + ": " + message);
}
}  // namespace

Result<std::shared_ptr<JsonRpcClient>> JsonRpcClient::create(boost::asio::any_io_executor executor,
                                                             const std::string& url,
                                                             std::chrono::milliseconds budget,
                                                             std::size_t max_response_bytes) {
  HttpClientOptions options;
  options.max_response_bytes = max_response_bytes;
  auto http = HttpClient::create(std::move(executor), url, options);
  if (!http.ok())
    return http.error();
  return std::shared_ptr<JsonRpcClient>(new JsonRpcClient(std::move(http).value(), url, budget));
}

boost::asio::awaitable<Result<json::value>> JsonRpcClient::call(const std::string& method,
                                                                json::array params) {
  json::object request{
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}};
  auto response = co_await http_->request(boost::beast::http::verb::post, "",
                                          json::serialize(request), {}, budget_, true);
  if (!response.ok())
    co_return rpc_error(method, response.error().message);
  if (response->status / 100 != 2) {
    co_return rpc_error(method, "the node answered HTTP " + std::to_string(response->status));
  }
  auto parsed = x402::parse_strict_json(response->body);
  if (!parsed.ok() || !parsed->is_object()) {
    const std::string not_json = "the answer is not a JSON object";
    co_return rpc_error(method, not_json);
  }
  const json::object& answer = parsed->get_object();
  if (const json::value* error = answer.if_contains("error")) {
    std::string message = "error";
    if (error->is_object()) {
      if (const json::value* text = error->get_object().if_contains("message");
          text && text->is_string()) {
        message = redact_secrets(text->get_string());
      }
    }
    co_return rpc_error(method, message);
  }
  const json::value* result = answer.if_contains("result");
  if (result == nullptr) {
    const std::string no_result = "no result";
    co_return rpc_error(method, no_result);
  }
  co_return *result;
}

}  // namespace x402proxy::net
