// http:// and https:// URLs, parsed once for every client of the project (the facilitator, chain
// nodes, JWKS, the paid server, the upstream MCP server, the probe) with Boost.URL (RFC 3986), so
// that an IPv6 literal ("http://[::1]:4402") works wherever a URL is accepted.
#pragma once

#include <string>
#include <string_view>

#include "x402/result.h"

namespace x402proxy::net {

struct HttpUrl {
  bool tls = false;   // https
  std::string host;   // as a resolver takes it: "example.com", "127.0.0.1", "::1" (no brackets)
  std::string port;   // the URL's, or 80 / 443
  std::string path;   // as written, "" when the URL has none; never the query
  std::string query;  // without '?'; "" when none
  bool ipv6 = false;  // host is an IPv6 literal

  // host as a Host header or an authority names it: IPv6 literals in brackets.
  std::string host_for_header() const;
  // host_for_header() plus ":port" unless the port is the scheme's default.
  std::string authority() const;
};

// Reason "url": not an absolute http(s) URL, no host, user info (a password in a URL ends up in
// logs), a port that is not a number from 1 to 65535, or a fragment.
Result<HttpUrl> parse_http_url(std::string_view text);

}  // namespace x402proxy::net
