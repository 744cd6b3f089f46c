#include "net/url.h"

// Boost.URL is compiled here, once for the program (Boost 1.81 ships it as sources).
#include <boost/url/src.hpp>

namespace x402proxy::net {
namespace urls = boost::urls;

std::string HttpUrl::host_for_header() const {
  return ipv6 ? "[" + host + "]" : host;
}

std::string HttpUrl::authority() const {
  const bool default_port = port == (tls ? "443" : "80");
  return default_port ? host_for_header() : host_for_header() + ":" + port;
}

Result<HttpUrl> parse_http_url(std::string_view text) {
  auto parsed = urls::parse_absolute_uri(text);
  if (!parsed) {
    return make_error("url", "expected an http:// or https:// URL, got \"" + std::string(text) +
                                 "\" (" + parsed.error().message() + ")");
  }
  const urls::url_view& url = *parsed;
  HttpUrl out;
  if (url.scheme_id() == urls::scheme::https)
    out.tls = true;
  else if (url.scheme_id() != urls::scheme::http)
    return make_error("url", "expected an http:// or https:// URL, got " + std::string(text));
  if (!url.has_authority() || url.encoded_host().empty())
    return make_error("url", "no host in " + std::string(text));
  if (url.has_userinfo())
    return make_error("url", "a URL with user info is not accepted: " + std::string(text));
  if (url.has_fragment())
    return make_error("url", "a URL with a fragment is not accepted: " + std::string(text));
  switch (url.host_type()) {
    case urls::host_type::ipv6:
      out.ipv6 = true;
      out.host = url.host_ipv6_address().to_string();
      break;
    case urls::host_type::ipvfuture:
      return make_error("url", "unsupported host in " + std::string(text));
    default:
      out.host = url.host();
  }
  if (url.has_port()) {
    const std::string_view port = url.port();
    // port_number() is 16 bits: 99999 would wrap into another port.
    if (port.empty() || port.size() > 5 || std::stoul(std::string(port)) > 65535 ||
        url.port_number() == 0)
      return make_error("url", "bad port in " + std::string(text));
    out.port = std::string(port);
  } else {
    out.port = out.tls ? "443" : "80";
  }
  out.path = std::string(url.encoded_path());
  if (url.has_query())
    out.query = std::string(url.encoded_query());
  return out;
}

}  // namespace x402proxy::net
