// The money path on the real Solana runtime: serve paid through the official x402 SVM
// facilitator (@x402/core + @x402/svm 2.27) settling into LiteSVM (tests/peers/chain-svm), with
// faults the chain and its RPC produce. Balances are read from the chain.
#include <thread>

#include "signers/solana/base58.h"
#include "signers/solana/ed25519.h"
#include "signers/solana/exact_svm_payment.h"
#include "tests/support/chain_peer.h"
#include "tests/support/eventually.h"
#include "tests/support/journal_reader.h"
#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;
namespace sol = x402proxy::signers::solana;

namespace {

struct SolanaServe {
  explicit SolanaServe(std::string settle_timeout = "10s", bool settle_before = false)
      : upstream(make_mcp_upstream()),
        dir(make_temp_dir("serve-chain-svm")),
        chain(ChainPeer::Kind::svm, dir, {"--quiet"}) {
    std::ofstream(dir + "/proxy.yaml")
        << "listen: 127.0.0.1:0\n"
        << "upstream: { url: " << upstream.url("/mcp") << " }\n"
        << "facilitator: { url: " << chain.facilitator_url()
        << ", verify_timeout: 10s, settle_timeout: " << settle_timeout
        << ", settle_request_timeout: 60s }\n"
        << "pay_to: { solana: " << chain.str("payTo") << " }\n"
        << "accept: [ { network: \"" << chain.network() << "\", asset: " << chain.str("mint")
        << ", symbol: USDC, decimals: 6 } ]\n"
        << "rpc: { \"" << chain.network() << "\": \"" << chain.rpc_url() << "\" }\n"
        << "tools: { echo: free, add: "
        << (settle_before ? "{ price: \"$0.001\", settle: before }" : "\"$0.001\"") << " }\n"
        << "journal: " << dir << "/payments.sqlite\n"
        << "threads: 2\nlog_level: info\n";
    proxy = std::make_unique<ChildProcess>(
        std::vector<std::string>{proxy_binary(), "serve", "--config", dir + "/proxy.yaml"},
        dir + "/proxy.log");
    auto line = proxy->wait_for_line("listening on", std::chrono::seconds(20));
    INFO(proxy->output());
    REQUIRE(line);
    port = port_from_listening_line(*line);
  }

  json::object offer() { return first_offer(result_of(mcp_post(port, tool_call("add")))); }

  // The payer's partially signed transfer, built as the reference client builds it, on the
  // chain's current blockhash.
  json::object payment(const json::object& accepted) {
    auto blockhash = post(port_of(chain.rpc_url()), "/",
                          R"({"jsonrpc":"2.0","id":1,"method":"getLatestBlockhash","params":[]})",
                          {{"Content-Type", "application/json"}});
    REQUIRE(blockhash.status == 200);
    const std::string hash(
        json::parse(blockhash.body).at("result").at("value").at("blockhash").as_string());
    sol::SolanaChainData data;
    auto decoded = sol::base58_decode(hash);
    REQUIRE(decoded.ok());
    REQUIRE(decoded->size() == 32);
    std::copy(decoded->begin(), decoded->end(), data.recent_blockhash.begin());
    auto secret = sol::base58_decode(chain.payer_key());
    REQUIRE(secret.ok());
    REQUIRE(secret->size() == 64);
    auto key = sol::SolanaKey::from_seed(x402proxy::signers::SecretBytes(secret->data(), 32));
    REQUIRE(key.ok());
    auto requirement = x402proxy::x402::requirements_from_json(accepted, 2);
    REQUIRE(requirement.ok());
    auto payload = sol::create_exact_svm_payload(*key, *requirement, data);
    REQUIRE(payload.ok());
    return json::object{{"x402Version", 2}, {"accepted", accepted}, {"payload", *payload}};
  }

  json::object call(const json::object& payment) {
    auto reply = http_request(
        port, "POST", "/mcp", tool_call("add", R"({"a":2,"b":3})", meta_with_payment(payment)),
        {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}},
        std::chrono::seconds(60));
    INFO(reply.body << "\n" << proxy->output());
    return result_of(reply);
  }

  std::vector<JournalRow> journal() const { return journal_rows(dir + "/payments.sqlite"); }

  TestHttpServer upstream;
  std::string dir;
  ChainPeer chain;
  std::unique_ptr<ChildProcess> proxy;
  unsigned short port = 0;
};

json::object receipt_of(const json::object& result) {
  return result.at("_meta").at("x402/payment-response").as_object();
}

}  // namespace

TEST_CASE("a Solana payment settles on the runtime: exactly the price moves", "[chain][svm]") {
  SolanaServe serve;
  auto offer = serve.offer();
  CHECK(offer.at("extra").at("feePayer").as_string() == serve.chain.str("feePayer"));
  auto result = serve.call(serve.payment(offer));
  CHECK_FALSE(result.contains("isError"));
  CHECK(result.at("content").at(0).at("text").as_string() == "5");
  CHECK(serve.chain.balance(serve.chain.str("payTo")) == "1000");
  auto transfers = serve.chain.transfers();
  REQUIRE(transfers.size() == 1);
  const std::string signature(transfers[0].at("signature").as_string());
  CHECK(receipt_of(result).at("transaction").as_string() == signature);
  auto rows = serve.journal();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].transaction == signature);
}

TEST_CASE(
    "a 429 while confirming a Solana settlement: pending with its signature, then settled "
    "once",
    "[chain][svm][pending]") {
  SolanaServe serve;
  auto payment = serve.payment(serve.offer());
  serve.chain.fault(
      R"({"kind":"rpc_status","method":"getSignatureStatuses","status":429,"count":1})");
  auto result = serve.call(payment);
  CHECK_FALSE(result.contains("isError"));
  auto transfers = serve.chain.transfers();
  REQUIRE(transfers.size() == 1);
  const std::string signature(transfers[0].at("signature").as_string());
  CHECK(receipt_of(result).at("transaction").as_string() == signature);
  auto rows = serve.journal();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].seen_transactions.find(signature) != std::string::npos);
  CHECK(serve.chain.balance(serve.chain.str("payTo")) == "1000");
}

TEST_CASE("a lost Solana settle answer is never booked as settled without its signature's status",
          "[chain][svm][lost]") {
  SolanaServe serve("3s");
  auto payment = serve.payment(serve.offer());
  serve.chain.fault(R"({"kind":"settle_hangup","count":1})");
  auto result = serve.call(payment);
  CHECK(result.at("isError").as_bool());
  CHECK(receipt_of(result).at("errorReason").as_string() == "settlement_pending");
  CHECK(serve.chain.transfers().size() == 1);
  auto rows = serve.journal();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settle_pending");  // "duplicate_settlement" proves nothing by itself
}

TEST_CASE("settle: before settles a Solana payment first, then runs the tool", "[chain][svm]") {
  SolanaServe serve("10s", true);
  auto offer = serve.offer();
  CHECK(offer.at("extra").at("paymentFlow").as_string() == "upfront");
  auto result = serve.call(serve.payment(offer));
  CHECK_FALSE(result.contains("isError"));
  CHECK(result.at("content").at(0).at("text").as_string() == "5");
  auto transfers = serve.chain.transfers();
  REQUIRE(transfers.size() == 1);
  CHECK(receipt_of(result).at("transaction").as_string() ==
        transfers[0].at("signature").as_string());
  auto rows = serve.journal();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  // Marked once the answer's write has returned, which may be just after the client read it.
  CHECK(eventually([&] { return serve.journal()[0].delivered_ms != 0; }, std::chrono::seconds(2)));
}
