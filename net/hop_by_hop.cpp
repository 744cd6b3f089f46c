#include "net/hop_by_hop.h"

#include <array>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

namespace x402proxy::net {
namespace http = boost::beast::http;

namespace {

constexpr std::array<std::string_view, 9> kHopByHop = {"connection",
                                                       "keep-alive",
                                                       "proxy-connection",
                                                       "proxy-authenticate",
                                                       "proxy-authorization",
                                                       "te",
                                                       "trailer",
                                                       "transfer-encoding",
                                                       "upgrade"};

}  // namespace

bool named_by_connection(const http::fields& fields, std::string_view name) {
  auto connection = fields[http::field::connection];
  while (!connection.empty()) {
    std::size_t comma = connection.find(',');
    auto token = connection.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
      token.remove_suffix(1);
    if (!token.empty() && boost::beast::iequals(token, name))
      return true;
    if (comma == std::string_view::npos)
      break;
    connection.remove_prefix(comma + 1);
  }
  return false;
}

bool is_hop_by_hop_header(std::string_view name) {
  for (auto hop : kHopByHop) {
    if (boost::beast::iequals(name, hop))
      return true;
  }
  return false;
}

void copy_end_to_end_headers(const http::fields& from, http::fields& to) {
  for (const auto& field : from) {
    auto name = field.name_string();
    if (is_hop_by_hop_header(name) || named_by_connection(from, name))
      continue;
    to.insert(field.name(), name, field.value());
  }
}

}  // namespace x402proxy::net
