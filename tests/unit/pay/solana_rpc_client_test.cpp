#include "pay/solana_rpc_client.h"

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/test_http_server.h"

using namespace x402proxy;
using testing::RecordedRequest;
using testing::TestHttpServer;
using testing::TestResponse;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* kBlockhash = "4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZAMdL4VZHirAn";
constexpr const char* kMint = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

// A Solana JSON-RPC node answering the two calls the buyer makes; `mode` bends the answers.
TestResponse node(const RecordedRequest& request, const std::string& mode) {
  auto call = json::parse(request.body).as_object();
  const std::string method(call.at("method").as_string());
  json::object answer{{"jsonrpc", "2.0"}, {"id", call.at("id")}};
  if (mode == "rpc-error") {
    answer["error"] = json::object{{"code", -32005}, {"message", "Node is behind"}};
  } else if (method == "getLatestBlockhash") {
    answer["result"] =
        json::object{{"context", {{"slot", 1}}},
                     {"value", {{"blockhash", kBlockhash}, {"lastValidBlockHeight", 10}}}};
  } else if (method == "getAccountInfo") {
    if (mode == "missing") {
      answer["result"] = json::object{{"context", {{"slot", 1}}}, {"value", nullptr}};
    } else {
      std::string owner = mode == "not-a-mint" ? "11111111111111111111111111111111"
                                               : "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
      answer["result"] =
          json::object{{"context", {{"slot", 1}}},
                       {"value",
                        {{"owner", owner},
                         {"data",
                          {{"parsed", {{"type", "mint"}, {"info", {{"decimals", 6}}}}},
                           {"program", "spl-token"}}}}}};
    }
  }
  return TestResponse{200, {{"Content-Type", "application/json"}}, json::serialize(answer)};
}

Result<signers::solana::SolanaChainData> chain_data(const std::string& url) {
  asio::io_context context;
  auto client = pay::SolanaRpcClient::create(context.get_executor(), url, std::chrono::seconds(2));
  REQUIRE(client.ok());
  static x402::PaymentRequirements requirement;
  requirement.asset = kMint;
  std::optional<Result<signers::solana::SolanaChainData>> out;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await (*client)->chain_data_for(requirement));
      },
      asio::detached);
  context.run();
  REQUIRE(out);
  return std::move(*out);
}

}  // namespace

TEST_CASE("the buyer's chain data comes from the Solana node", "[solana_rpc]") {
  std::string mode = "ok";
  TestHttpServer server([&mode](const RecordedRequest& r) { return node(r, mode); });
  auto data = chain_data(server.url("/"));
  REQUIRE(data.ok());
  CHECK(signers::solana::base58_encode(data->recent_blockhash) == kBlockhash);
  CHECK(data->mint_decimals == 6);
  CHECK(data->token_program == signers::solana::program_pubkey(signers::solana::kTokenProgram));
  auto calls = server.requests();
  REQUIRE(calls.size() == 2);
  CHECK_THAT(calls[0].body, Catch::Contains("jsonParsed") && Catch::Contains(kMint));
}

TEST_CASE("node failures are errors that say what failed", "[solana_rpc]") {
  std::string mode;
  TestHttpServer server([&mode](const RecordedRequest& r) { return node(r, mode); });
  for (auto [bend, expected] :
       {std::pair{"rpc-error", "Node is behind"}, std::pair{"missing", "does not exist"},
        std::pair{"not-a-mint", "not an SPL token mint"}}) {
    mode = bend;
    auto data = chain_data(server.url("/"));
    REQUIRE_FALSE(data.ok());
    CHECK(data.error().reason == "solana_rpc");
    CHECK_THAT(data.error().message, Catch::Contains(expected));
  }
  auto unreachable = chain_data("http://127.0.0.1:1/");
  CHECK_FALSE(unreachable.ok());
}
