// The standalone facilitator (`x402-mcp-proxy facilitator`) behind the official x402 HTTP stack:
// the @x402/express 2.27 seller middleware asks it to verify and settle, and the official payers
// pay — @x402/fetch and @x402/axios with @x402/evm's exact client (EIP-3009), and @x402/svm's
// exact client whose Solana RPC is the facilitator's simulated /solana-rpc. Real processes on
// real sockets (tests/peers/x402-http, installed by tests/peers/install.sh): the paid request
// answers 200, the ledger moves exactly the price, and the same payment sent again is refused.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "signers/solana/base58.h"
#include "signers/solana/ed25519.h"
#include "signers/solana/pda.h"
#include "tests/integration/facilitator/facilitator_process.h"
#include "tests/support/chain_peer.h"
#include "tests/support/serve_fixture.h"
#include "x402/base64.h"

using namespace x402proxy::testing;
namespace json = boost::json;
namespace sol = x402proxy::signers::solana;

namespace {

constexpr const char* kUsdcBaseSepolia = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
constexpr const char* kDevnet = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
constexpr const char* kUsdcDevnet = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
constexpr const char* kFeePayer = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
constexpr const char* kSolanaSeller = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";

std::string peer_script() {
  return std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/x402-http/start.sh";
}

// The official seller, until the test ends (it exits when its stdin pipe closes).
struct Seller {
  Seller(const std::string& dir, std::vector<std::string> args) {
    ChildOptions options;
    options.argv = {peer_script(), "seller"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.stdout_path = dir + "/seller.out";
    options.stderr_path = dir + "/seller.log";
    options.stdin_pipe = true;
    process = std::make_unique<ChildProcess>(std::move(options));
    REQUIRE(process->started());
    auto line = process->wait_for_line("\"url\"", std::chrono::seconds(60));
    INFO("the x402-http seller did not start (exit 77: run tests/peers/install.sh): "
         << process->output());
    REQUIRE(line);
    url = std::string(json::parse(*line).at("url").as_string());
    port = port_of(url);
  }
  std::unique_ptr<ChildProcess> process;
  std::string url;
  unsigned short port = 0;
};

// Runs one official payer against `url` to its end; its one result line.
json::object pay(const std::string& dir, const std::string& payer, std::vector<std::string> args) {
  ChildOptions options;
  options.argv = {peer_script(), payer};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.argv.push_back("--trace");
  options.stdout_path = dir + "/" + payer + ".out";
  options.stderr_path = dir + "/" + payer + ".log";
  ChildProcess child(std::move(options));
  REQUIRE(child.started());
  auto status = child.wait_for_exit(std::chrono::seconds(90));
  INFO(payer << " exit " << (status ? *status : -1000) << "\n" << child.output());
  REQUIRE(status);
  REQUIRE(*status != 77);  // not installed
  std::string out = child.stdout_text();
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  auto line = json::parse(out.substr(out.rfind('\n') + 1));
  REQUIRE(line.is_object());
  return line.as_object();
}

// The PAYMENT-SIGNATURE header the payer sent on its paid retry, as it was on the wire.
std::string sent_payment_header(const json::object& result) {
  for (const auto& exchange : result.at("trace").as_array()) {
    const auto& headers = exchange.at("requestHeaders").as_object();
    if (const auto* header = headers.if_contains("payment-signature"))
      return std::string(header->as_string());
  }
  FAIL("the payer sent no PAYMENT-SIGNATURE");
  return "";
}

// The same payment again, straight at the seller: the middleware must refuse it with a 402 whose
// PAYMENT-REQUIRED error is the facilitator's reason.
std::string replay_refusal(const Seller& seller, const std::string& payment_header) {
  auto reply = http_request(seller.port, "GET", "/paid", "",
                            {{"PAYMENT-SIGNATURE", payment_header}}, std::chrono::seconds(30));
  INFO(reply.status << " " << reply.body);
  REQUIRE(reply.status == 402);
  REQUIRE(reply.headers.contains("payment-required"));
  auto decoded = x402proxy::x402::base64_decode(reply.headers.at("payment-required"));
  REQUIRE(decoded.ok());
  return std::string(json::parse(*decoded).at("error").as_string());
}

}  // namespace

TEST_CASE("the official seller and EVM payers pay through the standalone facilitator",
          "[facilitator][x402-http][evm]") {
  std::string dir = make_temp_dir("x402-http-evm");
  FacilitatorProcess facilitator(dir, "$1", "", "info");
  Seller seller(dir, {"--facilitator", facilitator.url(), "--network", "eip155:84532", "--asset",
                      kUsdcBaseSepolia, "--pay-to", kPayTo, "--price-atomic", "1000", "--name",
                      "USDC", "--version", "2"});

  auto paid = pay(dir, "pay-fetch", {"--url", seller.url + "/paid", "--evm-key", kPayerKey});
  INFO(json::serialize(paid) << "\n"
                             << seller.process->output() << "\n"
                             << facilitator.process->output());
  REQUIRE(paid.at("status") == 200);
  CHECK(paid.at("body").at("ok") == true);
  const auto& receipt = paid.at("paymentResponse").as_object();
  CHECK(receipt.at("success") == true);
  CHECK(receipt.at("payer") == kPayer);
  CHECK(receipt.at("network") == "eip155:84532");
  CHECK(receipt.at("amount") == "1000");
  CHECK(receipt.at("transaction").as_string().size() == 66);
  // Exactly the price moved: the payer's $1 starting balance less 1000, the seller 1000.
  CHECK(balance_of(facilitator.ledger, kPayTo) == "1000");
  CHECK(balance_of(facilitator.ledger, kPayer) == "999000");

  // The same EIP-3009 authorization again: its nonce is used.
  CHECK(replay_refusal(seller, sent_payment_header(paid)) ==
        "invalid_exact_evm_nonce_already_used");
  CHECK(balance_of(facilitator.ledger, kPayTo) == "1000");

  // The axios payer signs a fresh authorization: one more price, no more.
  auto again = pay(dir, "pay-axios", {"--url", seller.url + "/paid", "--evm-key", kPayerKey});
  INFO(json::serialize(again));
  CHECK(again.at("status") == 200);
  CHECK(balance_of(facilitator.ledger, kPayTo) == "2000");
  CHECK(balance_of(facilitator.ledger, kPayer) == "998000");
}

TEST_CASE("the official Solana payer pays with the facilitator's simulated RPC as its chain",
          "[facilitator][x402-http][solana]") {
  std::string dir = make_temp_dir("x402-http-svm");
  FacilitatorProcess facilitator(
      dir, "$1", std::string("solana_fee_payer: ") + kFeePayer + "\nsolana_rpc: true\n", "info");
  Seller seller(dir, {"--facilitator", facilitator.url(), "--network", kDevnet, "--asset",
                      kUsdcDevnet, "--pay-to", kSolanaSeller, "--price-atomic", "2500"});

  // A fixed buyer: the 64-byte secret @solana/kit takes is seed ‖ public key.
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x2a);
  auto buyer = sol::SolanaKey::from_seed(x402proxy::signers::SecretBytes(seed.data(), seed.size()));
  REQUIRE(buyer.ok());
  std::array<std::uint8_t, 64> secret{};
  std::copy(seed.begin(), seed.end(), secret.begin());
  std::copy(buyer->public_key().begin(), buyer->public_key().end(), secret.begin() + 32);
  const std::string buyer_address = sol::base58_encode(buyer->public_key());

  auto paid = pay(dir, "pay-svm",
                  {"--url", seller.url + "/paid", "--secret", sol::base58_encode(secret), "--rpc",
                   facilitator.url() + "/solana-rpc"});
  INFO(json::serialize(paid) << "\n"
                             << seller.process->output() << "\n"
                             << facilitator.process->output());
  REQUIRE(paid.at("status") == 200);
  const auto& receipt = paid.at("paymentResponse").as_object();
  CHECK(receipt.at("success") == true);
  CHECK(receipt.at("payer").as_string() == buyer_address);
  CHECK(receipt.at("network") == kDevnet);
  CHECK(balance_of(facilitator.ledger, kSolanaSeller) == "2500");
  CHECK(balance_of(facilitator.ledger, buyer_address) == "997500");

  // The identical transaction again: Solana de-duplicates it.
  CHECK(replay_refusal(seller, sent_payment_header(paid)) == "duplicate_settlement");
  CHECK(balance_of(facilitator.ledger, kSolanaSeller) == "2500");

  // The official payer read its chain data from the simulated RPC (the mint, in base64).
  auto metrics = http_request(facilitator.port, "GET", "/metrics");
  CHECK_THAT(metrics.body,
             Catch::Contains(R"(x402_facilitator_http_requests_total{route="/solana-rpc",)"
                             R"(status="200"})"));

  // The simulated chain now shows the seller's token account holding what it was paid.
  auto ata = sol::associated_token_account(*sol::decode_pubkey(kSolanaSeller),
                                           *sol::decode_pubkey(kUsdcDevnet),
                                           sol::program_pubkey(sol::kTokenProgram));
  REQUIRE(ata.ok());
  auto rpc =
      http_request(facilitator.port, "POST", "/solana-rpc",
                   R"({"jsonrpc":"2.0","id":1,"method":"getTokenAccountBalance","params":[")" +
                       sol::base58_encode(*ata) + R"("]})",
                   {{"Content-Type", "application/json"}});
  REQUIRE(rpc.status == 200);
  CHECK(json::parse(rpc.body).at("result").at("value").at("amount") == "2500");
}
