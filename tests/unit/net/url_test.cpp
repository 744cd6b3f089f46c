#include "net/url.h"

#include <catch2/catch.hpp>

using x402proxy::net::parse_http_url;

TEST_CASE("http and https URLs give host, port, path and query, IPv6 literals lose brackets",
          "[url]") {
  auto plain = parse_http_url("http://127.0.0.1:3001/mcp");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->tls);
  CHECK(plain->host == "127.0.0.1");
  CHECK(plain->port == "3001");
  CHECK(plain->path == "/mcp");
  CHECK(plain->authority() == "127.0.0.1:3001");

  auto v6 = parse_http_url("http://[::1]:4402");
  REQUIRE(v6.ok());
  CHECK(v6->ipv6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == "4402");
  CHECK(v6->path.empty());
  CHECK(v6->host_for_header() == "[::1]");
  CHECK(v6->authority() == "[::1]:4402");

  auto tls = parse_http_url("https://x402.org/facilitator?key=abc");
  REQUIRE(tls.ok());
  CHECK(tls->tls);
  CHECK(tls->port == "443");
  CHECK(tls->path == "/facilitator");
  CHECK(tls->query == "key=abc");
  CHECK(tls->authority() == "x402.org");
}

TEST_CASE("what is not an absolute http(s) URL with a host is refused", "[url]") {
  for (const char* bad : {"", "127.0.0.1:3001/mcp", "ftp://host/x", "http://", "http:///mcp",
                          "http://user:secret@host/mcp", "http://host:0/", "http://host:99999/",
                          "http://host/mcp#part", "http://[::1/mcp"}) {
    INFO(bad);
    auto parsed = parse_http_url(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "url");
  }
}
