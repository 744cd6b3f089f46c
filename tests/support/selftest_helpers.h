// Small helpers shared by the test peers' self-tests.
#pragma once

#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/http_test_client.h"

namespace x402proxy::testing::selftest {

inline boost::json::object parse_object(const std::string& text) {
  INFO(text);
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(value.is_object());
  return value.as_object();
}

inline boost::json::object result_of(const HttpReply& reply) {
  INFO(reply.status << " " << reply.body << " " << reply.error);
  REQUIRE(reply.status == 200);
  auto message = parse_object(reply.body);
  REQUIRE(message.contains("result"));
  return message.at("result").as_object();
}

}  // namespace x402proxy::testing::selftest
