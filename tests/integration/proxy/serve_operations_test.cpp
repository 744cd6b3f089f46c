// Operating serve: metrics after a known sequence of calls, health and readiness, reload by SIGHUP
// and by the admin endpoint (valid and invalid files, under load), draining on SIGTERM, the
// connection and request limits, JSON log lines. All through the real binary.
#include <signal.h>

#include <atomic>
#include <thread>

#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

constexpr const char* kAdminToken = "test-admin-token-0123456789";

std::string metrics_of(unsigned short port) {
  auto reply = get(port, "/metrics");
  INFO(reply.error);
  REQUIRE(reply.status == 200);
  return reply.body;
}

// The value of one series line ("name{labels} value"), or "" when absent.
std::string series(const std::string& metrics, const std::string& name_and_labels) {
  const std::string prefix = name_and_labels + " ";
  auto at = metrics.find("\n" + prefix);
  if (at == std::string::npos)
    return "";
  at += 1 + prefix.size();
  return metrics.substr(at, metrics.find('\n', at) - at);
}

std::string first_amount(unsigned short port) {
  auto result = result_of(mcp_post(port, tool_call("add")));
  return std::string(first_offer(result).at("amount").as_string());
}

void rewrite_add_price(const std::string& dir, const std::string& price) {
  std::ifstream in(dir + "/proxy.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string from = "add: \"$0.001\"";
  auto at = yaml.find(from);
  REQUIRE(at != std::string::npos);
  yaml.replace(at, from.size(), "add: \"" + price + "\"");
  std::ofstream(dir + "/proxy.yaml") << yaml;
}

}  // namespace

TEST_CASE("metrics count requests, payments, revenue and latencies after a known sequence",
          "[operations][metrics]") {
  ServeOptionsForTest options;
  options.log_level = "info";
  ServeFixture serve(options);
  // A free call, an unpaid priced call, a paid call, a payment for the wrong amount.
  result_of(mcp_post(serve.port, tool_call("echo", R"({"text":"x"})")));
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  auto paid = result_of(mcp_post(
      serve.port, tool_call("add", R"({"a":1,"b":2})", meta_with_payment(evm_payment(offer)))));
  REQUIRE(paid.contains("_meta"));
  auto tampered = offer;
  tampered["amount"] = "1";
  result_of(mcp_post(serve.port, tool_call("add", "{}", meta_with_payment(evm_payment(tampered)))));

  const std::string m = metrics_of(serve.port);
  INFO(m);
  CHECK(
      series(m, R"(x402_proxy_requests_total{method="tools/call",tool="",outcome="forwarded"})") ==
      "1");
  CHECK(
      series(
          m,
          R"(x402_proxy_requests_total{method="tools/call",tool="add",outcome="payment_required"})") ==
      "1");
  CHECK(series(m, R"(x402_proxy_requests_total{method="tools/call",tool="add",outcome="paid"})") ==
        "1");
  CHECK(
      series(
          m,
          R"(x402_proxy_requests_total{method="tools/call",tool="add",outcome="payment_rejected"})") ==
      "1");
  const std::string asset = std::string(offer.at("asset").as_string());
  CHECK(series(m, R"(x402_proxy_payments_total{state="verified",network="eip155:84532",asset=")" +
                      asset + "\"}") == "1");
  CHECK(series(m, R"(x402_proxy_payments_total{state="settled",network="eip155:84532",asset=")" +
                      asset + "\"}") == "1");
  CHECK(series(m, R"(x402_proxy_revenue_atomic_total{network="eip155:84532",asset=")" + asset +
                      "\"}") == "1000");
  CHECK(series(m, R"(x402_proxy_facilitator_seconds_count{operation="verify"})") == "1");
  CHECK(series(m, R"(x402_proxy_facilitator_seconds_count{operation="settle"})") == "1");
  CHECK(series(m, "x402_proxy_journal_open_payments") == "0");
  CHECK(series(m, "x402_proxy_requests_in_flight") == "1");  // the scrape itself
  CHECK_THAT(
      serve.proxy->output(),
      Catch::Contains("tool=add price=$0.001 payer=" + std::string(kPayer) + " outcome=paid"));
}

TEST_CASE("readiness follows the upstream, health only the process", "[operations][health]") {
  // An upstream this test owns, so that it can really go away (its port then refuses).
  auto upstream = std::make_unique<TestHttpServer>(make_mcp_upstream());
  ServeOptionsForTest options;
  options.upstream_url = upstream->url("/mcp");
  ServeFixture serve(options);
  CHECK(get(serve.port, "/healthz").status == 200);
  auto ready = get(serve.port, "/readyz");
  INFO(ready.body);
  CHECK(ready.status == 200);
  upstream.reset();
  auto down = get(serve.port, "/readyz");
  INFO(down.body);
  CHECK(down.status == 503);
  CHECK_THAT(down.body, Catch::Contains("cannot connect to upstream"));
  CHECK(get(serve.port, "/healthz").status == 200);
}

TEST_CASE(
    "reload by SIGHUP and by the admin endpoint applies a valid file and keeps the old "
    "table for an invalid one, with no failed request meanwhile",
    "[operations][reload]") {
  std::string secrets = make_temp_dir("admin-token");
  std::ofstream(secrets + "/token") << kAdminToken << "\n";
  ServeOptionsForTest options;
  options.extra_yaml = "admin: { token_file: " + secrets + "/token }\n";
  options.log_level = "info";
  ServeFixture serve(options);
  REQUIRE(first_amount(serve.port) == "1000");

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::thread load([&] {
    while (!stop) {
      auto reply = mcp_post(serve.port, tool_call("echo", R"({"text":"load"})"));
      (reply.status == 200 ? ok : failed)++;
    }
  });
  struct JoinOnExit {  // a failed REQUIRE must not leave a joinable thread behind
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinOnExit() {
      stop = true;
      if (thread.joinable())
        thread.join();
    }
  } join_on_exit{stop, load};

  rewrite_add_price(serve.dir, "$0.002");
  REQUIRE(kill(serve.proxy->pid(), SIGHUP) == 0);
  REQUIRE(serve.proxy->wait_for_line("reloaded", std::chrono::seconds(5)));
  CHECK(first_amount(serve.port) == "2000");

  // An invalid file through the admin endpoint: refused with the error, the table stays.
  std::ofstream(serve.dir + "/proxy.yaml", std::ios::app) << "tools: [this is: not valid\n";
  auto refused = post(serve.port, "/admin/reload", "",
                      {{"Authorization", std::string("Bearer ") + kAdminToken}});
  CHECK(refused.status == 422);
  CHECK_THAT(refused.body, Catch::Contains("proxy.yaml"));
  auto wrong_token = post(serve.port, "/admin/reload", "", {{"Authorization", "Bearer nope"}});
  CHECK(wrong_token.status == 401);
  CHECK_THAT(wrong_token.body, !Catch::Contains(kAdminToken));
  CHECK(first_amount(serve.port) == "2000");

  stop = true;
  load.join();
  CHECK(ok > 0);
  CHECK(failed == 0);
  const std::string m = metrics_of(serve.port);
  CHECK(series(m, R"(x402_proxy_config_reloads_total{result="ok"})") == "1");
  CHECK(series(m, R"(x402_proxy_config_reloads_total{result="failed"})") == "1");
  CHECK_THAT(serve.proxy->output(), !Catch::Contains(kAdminToken));
}

TEST_CASE("SIGTERM lets a call in flight finish, then serve exits", "[operations][drain]") {
  ServeOptionsForTest options;
  options.tools = "tools:\n  add: \"$0.001\"\n";  // slow_progress is free here
  options.log_level = "info";
  ServeFixture serve(options);
  HttpReply slow;
  std::thread call([&] {
    slow = mcp_post(serve.port, tool_call("slow_progress", R"({"steps":5,"interval_ms":200})",
                                          R"({"progressToken":"t"})"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(kill(serve.proxy->pid(), SIGTERM) == 0);
  call.join();
  INFO(slow.body << slow.error);
  CHECK(slow.status == 200);
  CHECK_THAT(slow.body, Catch::Contains("\"result\""));
  auto exit = serve.proxy->wait_for_exit(std::chrono::seconds(10));
  REQUIRE(exit);
  CHECK(*exit == 0);
  CHECK_THAT(serve.proxy->output(), Catch::Contains("drained"));
}

TEST_CASE("connection, rate and header limits answer with clear HTTP errors",
          "[operations][limits]") {
  ServeOptionsForTest options;
  options.extra_yaml = "limits: { rate_per_ip: 1, burst: 3, header_limit: 2KiB }\n";
  ServeFixture serve(options);
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto reply = mcp_post(serve.port, tool_call("echo", R"({"text":"x"})"));
    if (reply.status == 429) {
      ++limited;
      CHECK_THAT(reply.body, Catch::Contains("rate limit"));
    }
  }
  CHECK(limited >= 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const std::string big(3000, 'a');
  auto too_big = mcp_post(serve.port, tool_call("echo"), {{"X-Padding", big}});
  CHECK(too_big.status == 431);

  ServeOptionsForTest few;
  few.extra_yaml = "limits: { max_connections: 1 }\n";
  ServeFixture small(few);
  // One connection held open by a pending request, a second one is refused with 503.
  std::thread holder([&] {
    raw_exchange(small.port, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{",
                 std::chrono::milliseconds(1500));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto refused = mcp_post(small.port, tool_call("echo"));
  CHECK(refused.status == 503);
  CHECK_THAT(refused.body, Catch::Contains("too many connections"));
  holder.join();
}

TEST_CASE("with the json log format every log line is a JSON object", "[operations][logs]") {
  ServeOptionsForTest options;
  options.extra_args = {"--log-format", "json"};
  options.log_level = "info";
  ServeFixture serve(options);
  result_of(mcp_post(serve.port, tool_call("echo", R"({"text":"x"})")));
  serve.proxy->stop();
  std::istringstream lines(serve.proxy->stderr_text().empty() ? serve.proxy->output()
                                                              : serve.proxy->stderr_text());
  int json_lines = 0;
  bool call_line = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("listening on"))
      continue;
    boost::system::error_code ec;
    auto value = json::parse(line, ec);
    INFO(line);
    REQUIRE_FALSE(ec);
    CHECK(value.as_object().contains("time"));
    CHECK(value.as_object().contains("level"));
    call_line = call_line || value.at("msg").as_string().find("call id=") != json::string::npos;
    ++json_lines;
  }
  CHECK(json_lines > 0);
  CHECK(call_line);
}
