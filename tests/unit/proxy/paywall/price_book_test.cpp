#include "proxy/paywall/price_book.h"

#include <catch2/catch.hpp>

#include "config/serve_config.h"
#include "proxy/operations/serve_operations.h"

using namespace x402proxy;
using namespace x402proxy::proxy;

namespace {

std::shared_ptr<const PriceBook> book(const std::string& prices) {
  const std::string yaml =
      "upstream: { url: http://127.0.0.1:3001/mcp }\n"
      "facilitator: { url: http://127.0.0.1:4020 }\n"
      "pay_to: { eip155: \"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\" }\n"
      "accept: [ { network: base-sepolia, asset: USDC } ]\n" +
      prices;
  auto config = config::parse_serve_config(yaml, "proxy.yaml");
  INFO((config.ok() ? "" : config.error().message));
  REQUIRE(config.ok());
  auto built = build_price_book(**config, "");
  REQUIRE(built.ok());
  return *built;
}

}  // namespace

TEST_CASE("the price book gives a priced tool its offer and a free tool none", "[price_book]") {
  auto prices = book(
      "tools:\n  echo: free\n  add: \"$0.001\"\n"
      "  slow: { price: \"$0.01\", description: \"slow tool\", settle: before }\n");
  CHECK(prices->find("echo") == nullptr);
  CHECK(prices->find("unlisted") == nullptr);  // no default price: free
  const ToolOffer* add = prices->find("add");
  REQUIRE(add != nullptr);
  REQUIRE(add->accepts.size() == 1);
  CHECK(add->accepts[0].amount == "1000");  // $0.001 in USDC's 6 decimals
  CHECK(add->accepts[0].network == "eip155:84532");
  CHECK(add->usd == "$0.001");
  CHECK_FALSE(add->settle_before);
  const ToolOffer* slow = prices->find("slow");
  REQUIRE(slow != nullptr);
  CHECK(slow->settle_before);
  CHECK(slow->description == "slow tool");
  CHECK(slow->price().accepts.size() == 1);
  CHECK(prices->priced_tools() == 2);
  CHECK_FALSE(prices->has_default());
}

TEST_CASE("a default price applies to every unlisted tool, not to those listed free",
          "[price_book]") {
  auto prices = book("tools: { echo: free }\ndefault: \"$0.002\"\n");
  CHECK(prices->find("echo") == nullptr);
  const ToolOffer* other = prices->find("anything");
  REQUIRE(other != nullptr);
  CHECK(other->accepts.at(0).amount == "2000");
  CHECK(prices->has_default());
}

TEST_CASE("charge_tool_errors is per tool, true unless written false, and a wrong value is refused",
          "[price_book]") {
  auto prices = book(
      "tools:\n  add: \"$0.001\"\n"
      "  lenient: { price: \"$0.001\", charge_tool_errors: false }\n"
      "  strict: { price: \"$0.001\", charge_tool_errors: true }\n");
  CHECK(prices->find("add")->charge_tool_errors);
  CHECK(prices->find("strict")->charge_tool_errors);
  CHECK_FALSE(prices->find("lenient")->charge_tool_errors);
  CHECK_FALSE(prices->find("lenient")->price().charge_tool_errors);
  auto refused = config::parse_serve_config(
      "upstream: { url: http://127.0.0.1:3001/mcp }\n"
      "facilitator: { url: http://127.0.0.1:4020 }\n"
      "pay_to: { eip155: \"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\" }\n"
      "accept: [ { network: base-sepolia, asset: USDC } ]\n"
      "tools:\n  add: { price: \"$0.001\", charge_tool_errors: sometimes }\n",
      "proxy.yaml");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("tools.add.charge_tool_errors"));
  auto upfront = config::parse_serve_config(
      "upstream: { url: http://127.0.0.1:3001/mcp }\n"
      "facilitator: { url: http://127.0.0.1:4020 }\n"
      "pay_to: { eip155: \"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\" }\n"
      "accept: [ { network: base-sepolia, asset: USDC } ]\n"
      "tools:\n  add: { price: \"$0.001\", settle: before, charge_tool_errors: false }\n",
      "proxy.yaml");
  REQUIRE_FALSE(upfront.ok());
  CHECK_THAT(upfront.error().message, Catch::Contains("settle: before"));
}
