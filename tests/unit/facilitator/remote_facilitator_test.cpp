#include "facilitator/remote_facilitator.h"

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "tests/support/test_http_server.h"
#include "x402/codec.h"

using namespace x402proxy;
using facilitator::FailureKind;
using facilitator::RemoteFacilitator;
using testing::TestHttpServer;
using testing::TestResponse;
namespace asio = boost::asio;

namespace {

x402::PaymentRequirements requirements() {
  x402::PaymentRequirements r;
  r.scheme = "exact";
  r.network = "eip155:84532";
  r.amount = "1000";
  r.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  r.pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  r.max_timeout_seconds = 60;
  r.extra["name"] = "USDC";
  r.extra["version"] = "2";
  r.has_extra = true;
  return r;
}

x402::PaymentPayload payment() {
  x402::PaymentPayload p;
  p.accepted = requirements();
  p.payload["signature"] = "0x00";
  return p;
}

TestResponse json(unsigned status, std::string body) {
  return TestResponse{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

// Runs one facilitator call to completion on a private io_context.
template <class Call>
auto run(RemoteFacilitator& remote, asio::io_context& context, Call call) {
  using ResultType = decltype(call(remote))::value_type;
  std::optional<ResultType> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result.emplace(co_await call(remote)); },
      asio::detached);
  context.run();
  context.restart();
  REQUIRE(result.has_value());
  return std::move(*result);
}

std::shared_ptr<RemoteFacilitator> make(
    asio::io_context& context, const std::string& url,
    std::chrono::milliseconds budget = std::chrono::seconds(2)) {
  facilitator::RemoteFacilitatorOptions options;
  options.url = url;
  options.verify_timeout = budget;
  options.settle_timeout = budget;
  auto created = RemoteFacilitator::create(context.get_executor(), options);
  REQUIRE(created.ok());
  return *created;
}

// The awaitables keep references to their arguments until they run: the arguments must outlive
// the call expression.
const x402::PaymentPayload kPayment = payment();
const x402::PaymentRequirements kRequirements = requirements();
auto verify_call = [](RemoteFacilitator& r) { return r.verify(kPayment, kRequirements); };
auto settle_call = [](RemoteFacilitator& r) { return r.settle(kPayment, kRequirements); };

}  // namespace

TEST_CASE("verify sends the standard body and reads a valid answer", "[remote_facilitator]") {
  TestHttpServer server(
      [](const auto&) { return json(200, R"({"isValid":true,"payer":"0xabc"})"); });
  asio::io_context context;
  auto remote = make(context, server.url("/facilitator/"));
  auto result = run(*remote, context, verify_call);
  REQUIRE(result.ok());
  CHECK(result->payer == std::optional<std::string>("0xabc"));
  auto seen = server.requests().at(0);
  CHECK(seen.target == "/facilitator/verify");  // trailing slash of the base URL dropped
  auto body = boost::json::parse(seen.body).as_object();
  CHECK(body.at("x402Version") == 2);
  CHECK(body.at("paymentRequirements").at("amount").as_string() == "1000");
  CHECK(body.at("paymentPayload").at("accepted").at("network").as_string() == "eip155:84532");
}

TEST_CASE("each kind of facilitator failure is told apart", "[remote_facilitator]") {
  std::string mode;
  TestHttpServer server([&mode](const auto&) -> TestResponse {
    if (mode == "invalid")
      return json(200, R"({"isValid":false,"invalidReason":"insufficient_funds","payer":"0xp"})");
    if (mode == "500-body")
      return json(500, R"({"isValid":false,"invalidReason":"invalid_network"})");
    if (mode == "500-plain")
      return TestResponse{500, {}, "oops"};
    if (mode == "malformed")
      return json(200, "{\"isValid\":");
    if (mode == "wrong-shape")
      return json(200, R"({"valid":true})");
    if (mode == "slow") {
      auto r = json(200, R"({"isValid":true})");
      r.delay = std::chrono::milliseconds(800);
      return r;
    }
    return json(200, "{}");
  });
  asio::io_context context;
  auto remote = make(context, server.url(), std::chrono::milliseconds(300));

  mode = "invalid";
  auto invalid = run(*remote, context, verify_call);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().kind == FailureKind::payment_rejected);
  CHECK(invalid.error().reason == "insufficient_funds");
  CHECK(invalid.error().payer == "0xp");

  mode = "500-body";
  auto with_body = run(*remote, context, verify_call);
  CHECK(with_body.error().kind == FailureKind::payment_rejected);
  CHECK(with_body.error().reason == "invalid_network");
  CHECK(with_body.error().http_status == 500);

  mode = "500-plain";
  auto plain = run(*remote, context, verify_call);
  CHECK(plain.error().kind == FailureKind::http_status);
  CHECK(plain.error().http_status == 500);

  mode = "malformed";
  CHECK(run(*remote, context, verify_call).error().kind == FailureKind::malformed_answer);
  mode = "wrong-shape";
  CHECK(run(*remote, context, verify_call).error().kind == FailureKind::malformed_answer);

  mode = "slow";
  auto slow = run(*remote, context, verify_call);
  CHECK(slow.error().kind == FailureKind::timeout);
}

TEST_CASE("a facilitator that is not listening is unreachable", "[remote_facilitator]") {
  asio::io_context context;
  auto remote = make(context, "http://127.0.0.1:1");
  auto result = run(*remote, context, verify_call);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().kind == FailureKind::unreachable);
  CHECK_THAT(result.error().message, Catch::Contains("127.0.0.1:1"));
}

TEST_CASE("settle: success:false with HTTP 200 is a failed settlement", "[remote_facilitator]") {
  TestHttpServer server([](const auto&) {
    return json(
        200,
        R"({"success":false,"errorReason":"insufficient_funds","transaction":"","network":"eip155:84532"})");
  });
  asio::io_context context;
  auto remote = make(context, server.url());
  auto result = run(*remote, context, settle_call);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().kind == FailureKind::payment_rejected);
  CHECK(result.error().reason == "insufficient_funds");
}

TEST_CASE("connections are reused, and settle is never sent twice", "[remote_facilitator]") {
  int settles = 0;
  TestHttpServer server([&settles](const testing::RecordedRequest& request) -> TestResponse {
    if (request.target == "/settle") {
      ++settles;
      TestResponse gone;
      gone.hang_up = true;  // the answer is lost: the settlement may or may not have happened
      return gone;
    }
    return json(200, R"({"isValid":true})");
  });
  asio::io_context context;
  auto remote = make(context, server.url());
  for (int i = 0; i < 3; ++i)
    REQUIRE(run(*remote, context, verify_call).ok());
  CHECK(server.connections() == 1);
  auto settled = run(*remote, context, settle_call);
  REQUIRE_FALSE(settled.ok());
  CHECK(settled.error().kind == FailureKind::unreachable);
  CHECK(settles == 1);
}

TEST_CASE("a facilitator URL with an IPv6 literal works: http://[::1]:PORT",
          "[remote_facilitator][ipv6]") {
  TestHttpServer server(
      [](const auto&) { return json(200, R"({"isValid":true,"payer":"0xabc"})"); }, 0, "::1");
  REQUIRE_THAT(server.url(), Catch::StartsWith("http://[::1]:"));
  asio::io_context context;
  auto remote = make(context, server.url());
  auto result = run(*remote, context, verify_call);
  REQUIRE(result.ok());
  CHECK(result->payer == std::optional<std::string>("0xabc"));
  auto seen = server.requests().at(0);
  CHECK(seen.target == "/verify");
  CHECK(seen.header("host") == "[::1]");
}
