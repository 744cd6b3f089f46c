#include "proxy/upstream/http_forwarding.h"

#include <catch2/catch.hpp>

namespace http = boost::beast::http;
using x402proxy::proxy::make_upstream_request;
using x402proxy::proxy::parse_upstream_url;

TEST_CASE("an upstream URL gives the resolver's host and the Host header, IPv6 too", "[upstream]") {
  auto v6 = parse_upstream_url("http://[::1]:3001/mcp");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == "3001");
  CHECK(v6->path == "/mcp");
  CHECK(v6->authority == "[::1]:3001");
  auto default_port = parse_upstream_url("http://localhost/");
  REQUIRE(default_port.ok());
  CHECK(default_port->port == "80");
  CHECK(default_port->authority == "localhost");
  CHECK(parse_upstream_url("https://example.com/mcp").error().reason == "upstream.url");
  CHECK(parse_upstream_url("127.0.0.1:3001").error().reason == "upstream.url");
}

TEST_CASE("the upstream request carries end-to-end headers, the upstream's path and Host",
          "[upstream]") {
  auto upstream = parse_upstream_url("http://[::1]:3001/mcp");
  REQUIRE(upstream.ok());
  http::request<http::string_body> client{http::verb::post, "/mcp?session=1", 11};
  client.set(http::field::host, "proxy.example");
  client.set(http::field::connection, "keep-alive, X-Hop");
  client.set("X-Hop", "drop me");
  client.set("Mcp-Session-Id", "abc");
  client.set("PAYMENT-SIGNATURE", "secret");
  auto forwarded = make_upstream_request(client, *upstream, "{}");
  CHECK(forwarded.target() == "/mcp?session=1");
  CHECK(forwarded[http::field::host] == "[::1]:3001");
  CHECK(forwarded["Mcp-Session-Id"] == "abc");
  CHECK(forwarded.find("X-Hop") == forwarded.end());
  CHECK(forwarded.find("PAYMENT-SIGNATURE") == forwarded.end());
  CHECK(forwarded.body() == "{}");
}
