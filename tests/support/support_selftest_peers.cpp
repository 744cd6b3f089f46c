// Self-tests of the other test peers over real sockets: the fake facilitator, the SSE parsing of
// the HTTP client, and the child-process launcher.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <regex>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/child_process.h"
#include "tests/support/fake_facilitator.h"
#include "tests/support/http_test_client.h"
#include "tests/support/selftest_helpers.h"

using namespace x402proxy::testing;
using namespace x402proxy::testing::selftest;
namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// A facilitator request body with the fields the fake reads.
const std::string kFacilitatorBody =
    R"({"x402Version":2,"paymentPayload":{"x402Version":2,"payload":{"authorization":)"
    R"({"from":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}}},)"
    R"("paymentRequirements":{"scheme":"exact","network":"eip155:84532"}})";

}  // namespace

TEST_CASE("the fake facilitator verifies and settles in valid mode and records each call",
          "[support][facilitator]") {
  FakeFacilitator facilitator;
  auto verify =
      post(facilitator.port(), "/verify", kFacilitatorBody, {{"Content-Type", "application/json"}});
  REQUIRE(verify.status == 200);
  auto verified = parse_object(verify.body);
  CHECK(verified.at("isValid").as_bool());
  CHECK(verified.at("payer").as_string() == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

  auto settle = post(facilitator.port(), "/settle", kFacilitatorBody);
  auto settled = parse_object(settle.body);
  CHECK(settled.at("success").as_bool());
  CHECK(std::regex_match(std::string(settled.at("transaction").as_string()),
                         std::regex("0x[0-9a-f]{64}")));
  CHECK(settled.at("network").as_string() == "eip155:84532");
  CHECK(settled.at("payer").as_string() == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

  auto supported = parse_object(get(facilitator.port(), "/supported").body);
  CHECK(supported.at("kinds").as_array().size() >= 1);

  CHECK(facilitator.verify_calls() == 1);
  CHECK(facilitator.settle_calls() == 1);
  auto calls = facilitator.requests();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].target == "/verify");
  CHECK(calls[0].body == kFacilitatorBody);
  CHECK(calls[1].target == "/settle");
}

TEST_CASE("the fake facilitator refuses, fails and misbehaves as told", "[support][facilitator]") {
  FakeFacilitator facilitator;
  const auto port = facilitator.port();

  facilitator.set_mode(FakeFacilitator::Mode::invalid);
  facilitator.set_invalid_reason("invalid_exact_evm_payload_signature");
  auto invalid = parse_object(post(port, "/verify", kFacilitatorBody).body);
  CHECK_FALSE(invalid.at("isValid").as_bool());
  CHECK(invalid.at("invalidReason").as_string() == "invalid_exact_evm_payload_signature");

  facilitator.set_mode(FakeFacilitator::Mode::settle_fails);
  CHECK(parse_object(post(port, "/verify", kFacilitatorBody).body).at("isValid").as_bool());
  auto failed = post(port, "/settle", kFacilitatorBody);
  CHECK(failed.status == 200);  // a failed settlement can come with HTTP 200
  CHECK_FALSE(parse_object(failed.body).at("success").as_bool());
  CHECK(parse_object(failed.body).at("errorReason").as_string() ==
        FakeFacilitator::kSettleErrorReason);

  facilitator.set_mode(FakeFacilitator::Mode::http_500);
  CHECK(post(port, "/verify", kFacilitatorBody).status == 500);

  facilitator.set_mode(FakeFacilitator::Mode::malformed);
  auto malformed = post(port, "/settle", kFacilitatorBody);
  CHECK(malformed.status == 200);
  boost::system::error_code ec;
  json::parse(malformed.body, ec);
  CHECK(ec);

  facilitator.set_mode(FakeFacilitator::Mode::hang_up);
  CHECK(post(port, "/verify", kFacilitatorBody).status == 0);

  facilitator.set_mode(FakeFacilitator::Mode::slow);
  facilitator.set_slow_delay(milliseconds(400));
  auto impatient = post(port, "/verify", kFacilitatorBody, {}, milliseconds(150));
  CHECK_THAT(impatient.error, Catch::Contains("timeout"));
  auto started = Clock::now();
  CHECK(post(port, "/verify", kFacilitatorBody).status == 200);
  CHECK(Clock::now() - started >= milliseconds(400));

  facilitator.set_mode(FakeFacilitator::Mode::down);
  CHECK_THAT(post(port, "/verify", kFacilitatorBody).error, Catch::StartsWith("connect"));
  facilitator.set_mode(FakeFacilitator::Mode::valid);
  CHECK(facilitator.port() == port);
  CHECK(parse_object(post(port, "/verify", kFacilitatorBody).body).at("isValid").as_bool());
}

TEST_CASE("sse_events splits an event stream by the WHATWG rules", "[support][client]") {
  HttpReply reply;
  reply.body =
      ": a comment\r\nevent: ping\r\nid: 4\r\ndata: one\r\ndata:two\r\n\r\n"
      "data: {\"x\":1}\n\nid: only-id\n\ndata: unfinished";
  reply.pieces.emplace_back(Clock::now(), reply.body);
  auto events = sse_events(reply);
  REQUIRE(events.size() == 3);
  CHECK(events[0].event == "ping");
  CHECK(events[0].id == "4");
  CHECK(events[0].data == "one\ntwo");
  CHECK(events[1].event == "message");
  CHECK(events[1].data == "{\"x\":1}");
  CHECK(events[2].id == "only-id");
  CHECK(events[2].data.empty());
}

TEST_CASE("a child process gets its argv and environment and its output lines can be awaited",
          "[support][child]") {
  const std::string dir = make_temp_dir("selftest-child");
  ChildProcess child(ChildOptions{
      {"/bin/sh", "-c",
       "echo out-$SELFTEST_VALUE; echo err-line >&2; echo listening on 127.0.0.1:4321 >&2; "
       "exec sleep 30"},
      {"SELFTEST_VALUE=bar"},
      dir + "/out.log",
      dir + "/err.log"});
  REQUIRE(child.started());
  CHECK(child.wait_for_line("out-", std::chrono::seconds(5)) ==
        std::optional<std::string>("out-bar"));
  auto listening =
      child.wait_for_line(std::regex(R"(listening on [\d.]+:\d+)"), std::chrono::seconds(5));
  REQUIRE(listening);
  CHECK(port_from_listening_line(*listening) == 4321);
  CHECK_THAT(child.stderr_text(), Catch::Contains("err-line"));
  CHECK_THAT(child.stdout_text(), !Catch::Contains("err-line"));
  CHECK(child.running());
  const pid_t pid = child.pid();
  CHECK(child.terminate(std::chrono::seconds(2)) == -SIGTERM);
  CHECK_FALSE(child.running());
  // Reaped: no zombie is left behind.
  CHECK(waitpid(pid, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("a child that ignores SIGTERM is killed after the grace period", "[support][child]") {
  const std::string dir = make_temp_dir("selftest-child");
  ChildProcess child({"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
                     dir + "/log");
  REQUIRE(child.wait_for_line("ready", std::chrono::seconds(5)));
  const auto started = Clock::now();
  CHECK(child.terminate(milliseconds(300)) == -SIGKILL);
  CHECK(Clock::now() - started >= milliseconds(300));
}

TEST_CASE("waiting on a child ends when it exits or cannot start", "[support][child]") {
  const std::string dir = make_temp_dir("selftest-child");
  ChildProcess quitter({"/bin/sh", "-c", "echo bye; exit 3"}, dir + "/log");
  const auto started = Clock::now();
  CHECK_FALSE(quitter.wait_for_line("never printed", std::chrono::seconds(10)));
  CHECK(Clock::now() - started < std::chrono::seconds(5));
  CHECK(quitter.wait_for_exit(std::chrono::seconds(1)) == std::optional<int>(3));
  CHECK(quitter.output() == "bye\n");

  ChildProcess missing({"/nonexistent/program"}, dir + "/missing.log");
  CHECK_FALSE(missing.started());
  CHECK_FALSE(missing.wait_for_line("x", milliseconds(100)));
}
