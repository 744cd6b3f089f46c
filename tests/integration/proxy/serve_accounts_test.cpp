// Account billing in serve with the real binary: API keys issued by `x402-mcp-proxy accounts`,
// user JWTs (HS256), prepaid balances charged per priced call, 401 for credentials that do not
// check out, concurrent calls that cannot overdraw, no debit when the upstream is never reached,
// and the billing tools injected into tools/list.
#include <openssl/hmac.h>

#include <thread>

#include "tests/support/serve_fixture.h"
#include "x402/base64.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

constexpr const char* kJwtSecret = "a-test-secret-for-hs256-that-is-long-enough";
constexpr const char* kAdminToken = "accounts-admin-token-0123456789";

std::string run_cli(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv{proxy_binary(), "accounts"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildOptions options{argv, {}, log, log + ".err"};
  ChildProcess cli(options);
  auto exit = cli.wait_for_exit(std::chrono::seconds(20));
  INFO(cli.stdout_text() << cli.stderr_text());
  REQUIRE(exit);
  REQUIRE(*exit == 0);
  return cli.stdout_text();
}

std::string base64url(std::string_view bytes) {
  std::string text = x402proxy::x402::base64_encode(bytes);
  for (char& c : text)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  return text;
}

std::string hs256_token(const json::object& claims, const std::string& secret = kJwtSecret) {
  const std::string header = base64url(R"({"alg":"HS256","typ":"JWT"})");
  const std::string body = base64url(json::serialize(claims));
  const std::string input = header + "." + body;
  unsigned char mac[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return input + "." + base64url(std::string(reinterpret_cast<char*>(mac), size));
}

struct AccountsServe {
  explicit AccountsServe(const std::string& credit = "$0.003", std::string upstream_url = {}) {
    dir = make_temp_dir("accounts");
    std::ofstream(dir + "/admin-token") << kAdminToken << "\n";
    ledger = dir + "/accounts.sqlite";
    std::string out =
        run_cli({"add-key", "--account", "alice", "--ledger", ledger}, dir + "/add-key.log");
    key = out.substr(0, out.find('\n'));
    REQUIRE(key.starts_with("x402k_"));
    run_cli(
        {"credit", "--account", "alice", "--amount", credit, "--asset", "USDC", "--ledger", ledger},
        dir + "/credit.log");
    ServeOptionsForTest options;
    options.upstream_url = std::move(upstream_url);
    options.extra_yaml = "accounts:\n  ledger: " + ledger +
                         "\n  jwt: { hs256_secret_env: TEST_JWT_SECRET, issuer: test-issuer }\n" +
                         "admin: { token_file: " + dir + "/admin-token }\n";
    options.env = {std::string("TEST_JWT_SECRET=") + kJwtSecret};
    serve = std::make_unique<ServeFixture>(options);
  }
  HttpReply call(const std::string& tool, const Headers& headers, int id = 1) {
    return mcp_post(serve->port, tool_call(tool, R"({"a":1,"b":2})", "", id), headers);
  }
  std::string dir, ledger, key;
  std::unique_ptr<ServeFixture> serve;
};

}  // namespace

TEST_CASE("a priced call with a valid API key is charged from credit, without x402", "[accounts]") {
  AccountsServe s;
  auto result = result_of(s.call("add", {{"X-API-Key", s.key}}));
  CHECK(result.at("content").at(0).at("text").as_string() == "3");
  CHECK_FALSE(result.contains("isError"));
  CHECK(s.serve->facilitator.settle_calls() == 0);
  auto bearer = result_of(s.call("add", {{"Authorization", "Bearer " + s.key}}));
  CHECK(bearer.at("content").at(0).at("text").as_string() == "3");
  // The proxy's credentials never reach the upstream.
  for (const auto& r : s.serve->upstream.requests()) {
    CHECK(r.header("x-api-key").empty());
    CHECK(r.header("authorization").empty());
  }
  auto balance =
      result_of(mcp_post(s.serve->port, tool_call("billing_balance"), {{"X-API-Key", s.key}}));
  CHECK(balance.at("structuredContent").at("balance").as_string() == "1000");  // 3000 - 2 × 1000
  auto show = run_cli({"show", "--account", "alice", "--ledger", s.ledger}, s.dir + "/show.log");
  CHECK_THAT(show, Catch::Contains("add"));
}

TEST_CASE("unknown, revoked and malformed API keys get 401 and never free access", "[accounts]") {
  AccountsServe s;
  // Well formed (12 hex id, 43 base64url characters of secret) but never issued.
  const std::string never_issued = "x402k_0123456789ab_" + std::string(43, 'A');
  auto unknown = s.call("echo", {{"X-API-Key", never_issued}});
  CHECK(unknown.status == 401);
  CHECK_THAT(unknown.body, Catch::Contains("unknown API key"));
  auto malformed = s.call("add", {{"Authorization", "Bearer x402k_garbage"}});
  CHECK(malformed.status == 401);
  CHECK_THAT(malformed.body, !Catch::Contains("x402k_garbage"));
  const std::string key_id = s.key.substr(6, s.key.find('_', 6) - 6);
  run_cli({"revoke-key", "--key-id", key_id, "--ledger", s.ledger}, s.dir + "/revoke.log");
  auto revoked = s.call("add", {{"X-API-Key", s.key}});
  CHECK(revoked.status == 401);
  CHECK_THAT(revoked.body, Catch::Contains("revoked"));
  CHECK(s.serve->upstream_tool_calls("add") == 0);
  CHECK_THAT(s.serve->proxy->output(), !Catch::Contains(s.key));
}

TEST_CASE("a JWT user is charged, and bad tokens are refused", "[accounts][jwt]") {
  AccountsServe s;
  run_cli(
      {"credit", "--account", "bob", "--amount", "$0.001", "--asset", "USDC", "--ledger", s.ledger},
      s.dir + "/credit-bob.log");
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  json::object claims{{"sub", "bob"}, {"iss", "test-issuer"}, {"exp", now + 300}};
  auto ok = result_of(s.call("add", {{"Authorization", "Bearer " + hs256_token(claims)}}));
  CHECK(ok.at("content").at(0).at("text").as_string() == "3");
  auto expired = claims;
  expired["exp"] = now - 3600;
  CHECK(s.call("add", {{"Authorization", "Bearer " + hs256_token(expired)}}).status == 401);
  auto wrong_issuer = claims;
  wrong_issuer["iss"] = "someone-else";
  CHECK(s.call("add", {{"Authorization", "Bearer " + hs256_token(wrong_issuer)}}).status == 401);
  CHECK(s.call("add", {{"Authorization", "Bearer " + hs256_token(claims, "wrong-secret-wrong")}})
            .status == 401);
  // bob's $0.001 is spent: the next call is offered x402 instead.
  auto poor = result_of(s.call("add", {{"Authorization", "Bearer " + hs256_token(claims)}}));
  CHECK(poor.at("isError").as_bool());
  CHECK_THAT(json::serialize(poor), Catch::Contains("insufficient credit"));
}

TEST_CASE("insufficient credit is answered with the x402 offer, and the upstream is not called",
          "[accounts]") {
  AccountsServe s("$0.0005");
  auto result = result_of(s.call("add", {{"X-API-Key", s.key}}));
  CHECK(result.at("isError").as_bool());
  CHECK_THAT(result.at("structuredContent").at("error").as_string().c_str(),
             Catch::Contains("insufficient credit"));
  CHECK(result.at("structuredContent").at("accepts").as_array().size() == 1);
  CHECK(s.serve->upstream_tool_calls("add") == 0);
  // MCP 2026-07-28: a tool result must carry resultType, the credit path's answer too.
  auto modern = result_of(mcp_post(s.serve->port, tool_call("add", R"({"a":1,"b":2})"),
                                   {{"X-API-Key", s.key},
                                    {"MCP-Protocol-Version", "2026-07-28"},
                                    {"Mcp-Method", "tools/call"},
                                    {"Mcp-Name", "add"}}));
  CHECK(modern.at("resultType").as_string() == "complete");
  CHECK(modern.at("isError").as_bool());
}

TEST_CASE("an \"x402/payment\": null is no payment: a known caller is charged from credit",
          "[accounts]") {
  AccountsServe s("$0.003");
  auto result = result_of(mcp_post(s.serve->port,
                                   tool_call("add", R"({"a":1,"b":2})", R"({"x402/payment":null})"),
                                   {{"X-API-Key", s.key}}));
  CHECK_FALSE(result.contains("isError"));
  CHECK(result.at("content").at(0).at("text").as_string() == "3");
  auto balance =
      result_of(mcp_post(s.serve->port, tool_call("billing_balance"), {{"X-API-Key", s.key}}));
  CHECK(balance.at("structuredContent").at("balance").as_string() == "2000");
}

TEST_CASE("concurrent calls never overdraw: N calls against credit for N-1", "[accounts]") {
  AccountsServe s("$0.003");
  constexpr int kCalls = 4;
  std::vector<HttpReply> replies(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i)
    threads.emplace_back([&, i] { replies[i] = s.call("add", {{"X-API-Key", s.key}}, 10 + i); });
  for (auto& t : threads)
    t.join();
  int served = 0;
  int refused = 0;
  for (const auto& reply : replies) {
    auto result = result_of(reply);
    result.contains("isError") ? ++refused : ++served;
  }
  CHECK(served == kCalls - 1);
  CHECK(refused == 1);
  auto balance =
      result_of(mcp_post(s.serve->port, tool_call("billing_balance"), {{"X-API-Key", s.key}}));
  CHECK(balance.at("structuredContent").at("balance").as_string() == "0");
}

TEST_CASE("no debit when the upstream is never reached", "[accounts]") {
  auto upstream = std::make_unique<TestHttpServer>(make_mcp_upstream());
  AccountsServe s("$0.003", upstream->url("/mcp"));
  upstream.reset();
  auto reply = s.call("add", {{"X-API-Key", s.key}});
  CHECK_THAT(reply.body, Catch::Contains("nothing was charged"));
  auto balance =
      result_of(mcp_post(s.serve->port, tool_call("billing_balance"), {{"X-API-Key", s.key}}));
  CHECK(balance.at("structuredContent").at("balance").as_string() == "3000");
}

TEST_CASE("tools/list gains the billing tools and each priced tool's price", "[accounts]") {
  AccountsServe s;
  auto reply = mcp_post(s.serve->port, R"({"jsonrpc":"2.0","id":5,"method":"tools/list"})");
  auto tools = result_of(reply).at("tools").as_array();
  std::map<std::string, json::object> by_name;
  for (const auto& t : tools)
    by_name[std::string(t.at("name").as_string())] = t.as_object();
  REQUIRE(by_name.count("billing_balance") == 1);
  REQUIRE(by_name.count("billing_history") == 1);
  REQUIRE(by_name.count("billing_topup") == 1);
  CHECK_THAT(std::string(by_name["add"].at("description").as_string()),
             Catch::Contains("price: $0.001"));
  CHECK(by_name["add"].at("_meta").at("x402/price").at("accepts").as_array().size() == 1);
  CHECK_FALSE(by_name["echo"].contains("_meta"));
  // Billing tools are answered by the proxy itself.
  const auto calls_before = s.serve->upstream.requests().size();
  auto history =
      result_of(mcp_post(s.serve->port, tool_call("billing_history"), {{"X-API-Key", s.key}}));
  CHECK(history.contains("structuredContent"));
  auto anonymous = result_of(mcp_post(s.serve->port, tool_call("billing_balance")));
  CHECK(anonymous.at("isError").as_bool());
  CHECK(s.serve->upstream.requests().size() == calls_before);
}

// Once the same payment comes again it is refused before any credit; that a settled top-up seen
// twice (its call, the reconciler) credits once is tests/unit/proxy/credit/account_billing_test.
TEST_CASE("a top-up paid with x402 is credited, the same payment sent again is refused, uncredited",
          "[accounts][topup]") {
  AccountsServe s("$0.001");
  const std::string topup = R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":)"
                            R"("billing_topup","arguments":{"amount":"$0.002"})";
  // Each way a top-up is refused before any payment: no account, an amount that is not money.
  auto anonymous = result_of(mcp_post(s.serve->port, topup + "}}"));
  CHECK(anonymous.at("isError").as_bool());
  CHECK_THAT(json::serialize(anonymous), Catch::Contains("need an API key"));
  auto nonsense = result_of(mcp_post(
      s.serve->port,
      R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"billing_topup","arguments":{"amount":"five dollars"}}})",
      {{"X-API-Key", s.key}}));
  CHECK(nonsense.at("isError").as_bool());
  CHECK_FALSE(nonsense.contains("structuredContent"));  // an error, not a payment request
  auto too_much = result_of(mcp_post(
      s.serve->port,
      R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"billing_topup","arguments":{"amount":"$20000"}}})",
      {{"X-API-Key", s.key}}));
  CHECK_THAT(json::serialize(too_much), Catch::Contains("between"));
  auto required = result_of(mcp_post(s.serve->port, topup + "}}", {{"X-API-Key", s.key}}));
  REQUIRE(required.at("isError").as_bool());
  auto offer = first_offer(required);
  CHECK(offer.at("amount").as_string() == "2000");
  const std::string paid_body =
      topup + R"(,"_meta":)" + meta_with_payment(evm_payment(offer)) + "}}";
  auto paid = result_of(mcp_post(s.serve->port, paid_body, {{"X-API-Key", s.key}}));
  INFO(json::serialize(paid));
  CHECK_FALSE(paid.contains("isError"));
  CHECK(paid.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK_THAT(std::string(paid.at("content").at(0).at("text").as_string()),
             Catch::Contains("Credited $0.002"));
  auto again = result_of(mcp_post(s.serve->port, paid_body, {{"X-API-Key", s.key}}));
  CHECK(again.at("isError").as_bool());  // the same payment: refused before anything else
  auto balance =
      result_of(mcp_post(s.serve->port, tool_call("billing_balance"), {{"X-API-Key", s.key}}));
  CHECK(balance.at("structuredContent").at("balance").as_string() == "3000");  // 1000 + 2000
  CHECK(s.serve->facilitator.settle_calls() == 1);
  CHECK(s.serve->upstream.requests().empty());
}

TEST_CASE("the accounts admin API issues keys, credits and revokes while serve runs",
          "[accounts][admin]") {
  AccountsServe s;
  const Headers admin{{"Authorization", std::string("Bearer ") + kAdminToken},
                      {"Content-Type", "application/json"}};
  CHECK(post(s.serve->port, "/admin/accounts/carol/keys", "", {{"Authorization", "Bearer no"}})
            .status == 401);
  auto issued = post(s.serve->port, "/admin/accounts/carol/keys", "", admin);
  REQUIRE(issued.status == 200);
  const std::string key(json::parse(issued.body).at("key").as_string());
  const std::string key_id(json::parse(issued.body).at("keyId").as_string());
  auto credited =
      post(s.serve->port, "/admin/accounts/carol/credit", R"({"amount":"$0.001"})", admin);
  REQUIRE(credited.status == 200);
  CHECK(json::parse(credited.body).at("balance").as_string() == "1000");
  auto paid = result_of(s.call("add", {{"X-API-Key", key}}));
  CHECK(paid.at("content").at(0).at("text").as_string() == "3");
  auto shown = get(s.serve->port, "/admin/accounts/carol", admin);
  REQUIRE(shown.status == 200);
  CHECK(json::parse(shown.body).at("balance").as_string() == "0");
  auto listed = get(s.serve->port, "/admin/accounts", admin);
  CHECK_THAT(listed.body, Catch::Contains("carol") && Catch::Contains("alice"));
  auto overdraw = post(s.serve->port, "/admin/accounts/carol/debit", R"({"amount":"1"})", admin);
  CHECK(overdraw.status == 409);
  CHECK(post(s.serve->port, "/admin/keys/" + key_id + "/revoke", "", admin).status == 200);
  CHECK(s.call("add", {{"X-API-Key", key}}).status == 401);
  CHECK_THAT(s.serve->proxy->output(), !Catch::Contains(key));
}
