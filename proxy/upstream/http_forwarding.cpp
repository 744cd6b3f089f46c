#include "proxy/upstream/http_forwarding.h"

#include "net/hop_by_hop.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

namespace x402proxy::proxy {
namespace http = boost::beast::http;

namespace {

// x402 payment headers: PAYMENT-SIGNATURE (v2) and X-PAYMENT (v1). Consumed by the paywall.
bool is_payment_header(std::string_view name) {
  return boost::beast::iequals(name, "payment-signature") ||
         boost::beast::iequals(name, "x-payment");
}

}  // namespace

http::request<http::string_body> make_upstream_request(
    const http::request<http::string_body>& client_request, const UpstreamEndpoint& upstream,
    std::string body) {
  http::request<http::string_body> request;
  request.method(client_request.method());
  if (client_request.method() == http::verb::unknown) {
    request.method_string(client_request.method_string());
  }
  request.version(11);
  std::string_view target = client_request.target();
  std::size_t query = target.find('?');
  request.target(query == std::string_view::npos
                     ? upstream.path
                     : upstream.path + std::string(target.substr(query)));
  for (const auto& field : client_request) {
    auto name = field.name_string();
    if (net::is_hop_by_hop_header(name) || net::named_by_connection(client_request, name))
      continue;
    if (field.name() == http::field::host || field.name() == http::field::content_length ||
        field.name() == http::field::expect || is_payment_header(name))
      continue;
    request.insert(field.name(), name, field.value());
  }
  request.set(http::field::host, upstream.authority);
  request.keep_alive(true);
  const bool has_body = !body.empty() || client_request.method() == http::verb::post;
  request.body() = std::move(body);
  if (has_body)
    request.prepare_payload();
  return request;
}

}  // namespace x402proxy::proxy
