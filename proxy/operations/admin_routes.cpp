#include "proxy/operations/admin_routes.h"

#include <openssl/crypto.h>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "net/http_reply.h"
#include "proxy/credit/admin_accounts.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

std::string error_body(const std::string& message) {
  return json::serialize(json::object{{"error", message}});
}

asio::awaitable<bool> readiness(const ServeState& state, beast::tcp_stream& client,
                                bool keep_alive) {
  json::object body;
  bool ready = true;
  auto upstream = co_await state.upstream->acquire(/*fresh=*/true);
  if (upstream.ok()) {
    state.upstream->release(std::move(upstream).value());
    body["upstream"] = "ok";
  } else {
    ready = false;
    body["upstream"] = upstream.error().message;
  }
  if (state.facilitator_ready) {
    auto facilitator = co_await state.facilitator_ready();
    body["facilitator"] = facilitator.ok() ? std::string("ok") : facilitator.error().message;
    ready = ready && facilitator.ok();
  }
  if (state.store_ready) {
    auto store = co_await state.store_ready();
    body["store"] = store.ok() ? std::string("ok") : store.error().message;
    ready = ready && store.ok();
  }
  if (state.draining()) {
    ready = false;
    body["draining"] = true;
  }
  const auto status = ready ? http::status::ok : http::status::service_unavailable;
  std::string text = json::serialize(body);
  co_return co_await net::write_reply(client, status, std::move(text), keep_alive,
                                      state.options.client_write_timeout);
}

bool presents_admin_token(const ServeState& state,
                          const http::request<http::string_body>& request) {
  std::string_view presented;
  if (auto it = request.find(http::field::authorization); it != request.end()) {
    std::string_view value = it->value();
    if (value.size() > 7 && beast::iequals(value.substr(0, 7), "Bearer "))
      presented = value.substr(7);
  }
  return token_matches(presented, state.admin.token);
}

asio::awaitable<bool> accounts_admin(const ServeState& state, beast::tcp_stream& client,
                                     const http::request<http::string_body>& request,
                                     std::string_view path, bool keep_alive) {
  const auto timeout = state.options.client_write_timeout;
  if (state.admin.token.empty() || !state.accounts) {
    std::string body =
        error_body("the accounts admin API is off (needs accounts and an admin token)");
    co_return co_await net::write_reply(client, http::status::not_found, std::move(body),
                                        keep_alive, timeout);
  }
  if (!presents_admin_token(state, request)) {
    spdlog::warn("accounts admin request refused: missing or wrong bearer token");
    std::string body = error_body("a valid admin bearer token is required");
    co_return co_await net::write_reply(client, http::status::unauthorized, std::move(body),
                                        keep_alive, timeout);
  }
  auto answer = answer_accounts_admin(*state.accounts, std::string(request.method_string()), path,
                                      request.body());
  co_return co_await net::write_reply(client, static_cast<http::status>(answer.status),
                                      std::move(answer.body), keep_alive, timeout);
}

asio::awaitable<bool> reload(const ServeState& state, beast::tcp_stream& client,
                             const http::request<http::string_body>& request, bool keep_alive) {
  const auto timeout = state.options.client_write_timeout;
  // (Bodies are built before each co_await: GCC 12 mishandles string-literal temporaries in a
  // co_await full-expression.)
  if (state.admin.token.empty() || !state.reload) {
    std::string body = error_body("the admin reload endpoint is off (no admin token)");
    co_return co_await net::write_reply(client, http::status::not_found, std::move(body),
                                        keep_alive, timeout);
  }
  if (request.method() != http::verb::post) {
    std::string body = error_body("use POST /admin/reload");
    co_return co_await net::write_reply(client, http::status::method_not_allowed, std::move(body),
                                        keep_alive, timeout);
  }
  if (!presents_admin_token(state, request)) {
    spdlog::warn("admin reload refused: missing or wrong bearer token");
    std::string body = error_body("a valid admin bearer token is required");
    co_return co_await net::write_reply(client, http::status::unauthorized, std::move(body),
                                        keep_alive, timeout);
  }
  auto reloaded = state.reload();
  if (!reloaded.ok()) {
    std::string body =
        error_body("config not reloaded, the previous one stays: " + reloaded.error().message);
    co_return co_await net::write_reply(client, http::status::unprocessable_entity, std::move(body),
                                        keep_alive, timeout);
  }
  std::string body = json::serialize(json::object{{"reloaded", true}});
  co_return co_await net::write_reply(client, http::status::ok, std::move(body), keep_alive,
                                      timeout);
}

}  // namespace

bool token_matches(std::string_view presented, std::string_view expected) {
  if (expected.empty() || presented.size() != expected.size())
    return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

asio::awaitable<std::optional<bool>> answer_admin_route(
    const ServeState& state, beast::tcp_stream& client,
    const http::request<http::string_body>& request, bool admin_allowed) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const bool keep_alive = request.keep_alive() && !state.draining();
  const auto timeout = state.options.client_write_timeout;
  if (path == "/healthz") {
    std::string body = "ok\n";
    co_return co_await net::write_reply(client, http::status::ok, std::move(body), keep_alive,
                                        timeout, "text/plain");
  }
  if (!admin_allowed)
    co_return std::nullopt;
  if (path == "/readyz")
    co_return co_await readiness(state, client, keep_alive);
  if (path == "/metrics") {
    std::int64_t backlog = -1;
    if (state.journal) {
      if (auto open = state.journal->open_count(); open.ok())
        backlog = static_cast<std::int64_t>(*open);
    }
    std::string body = state.metrics->render(backlog);
    co_return co_await net::write_reply(client, http::status::ok, std::move(body), keep_alive,
                                        timeout, "text/plain; version=0.0.4");
  }
  if (path == "/admin/reload")
    co_return co_await reload(state, client, request, keep_alive);
  if (path.starts_with("/admin/accounts") || path.starts_with("/admin/keys/"))
    co_return co_await accounts_admin(state, client, request, path, keep_alive);
  co_return std::nullopt;
}

}  // namespace x402proxy::proxy
