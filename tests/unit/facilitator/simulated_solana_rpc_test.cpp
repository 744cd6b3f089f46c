#include "facilitator/service/simulated_solana_rpc.h"

#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/service/facilitator_http_service.h"
#include "pay/solana_rpc_client.h"
#include "tests/support/http_test_client.h"

using namespace x402proxy;
namespace asio = boost::asio;
namespace json = boost::json;
namespace sol = signers::solana;

namespace {

constexpr const char* kDevnetUsdcMint = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

// A real facilitator service on 127.0.0.1:0 in front of an embedded facilitator with an in-memory
// ledger, served on its own thread.
class RunningService {
 public:
  explicit RunningService(bool simulate_solana_rpc) {
    facilitator::EmbeddedOptions options;
    options.ledger_path = ":memory:";
    auto embedded = facilitator::EmbeddedFacilitator::create(options);
    REQUIRE(embedded.ok());
    auto service = facilitator::FacilitatorHttpService::bind(context_, "127.0.0.1:0", *embedded,
                                                             simulate_solana_rpc);
    REQUIRE(service.ok());
    service_ = std::move(service).value();
    asio::co_spawn(context_, service_->run(), asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~RunningService() {
    asio::post(context_, [this] {
      service_->close();
      context_.stop();
    });
    thread_.join();
  }
  unsigned short port() const { return service_->local_endpoint().port(); }
  std::string rpc_url() const {
    return "http://127.0.0.1:" + std::to_string(port()) + "/solana-rpc";
  }

 private:
  asio::io_context context_;
  std::unique_ptr<facilitator::FacilitatorHttpService> service_;
  std::thread thread_;
};

// Runs one SolanaRpcClient call against `url` to completion.
template <class T, class Call>
Result<T> with_client(const std::string& url, Call call) {
  asio::io_context context;
  auto client = pay::SolanaRpcClient::create(context.get_executor(), url, std::chrono::seconds(5));
  REQUIRE(client.ok());
  std::optional<Result<T>> out;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { out.emplace(co_await call(**client)); },
      asio::detached);
  context.run();
  REQUIRE(out);
  return std::move(*out);
}

Result<sol::Pubkey> latest_blockhash(const std::string& url) {
  return with_client<sol::Pubkey>(
      url, [](pay::SolanaRpcClient& client) { return client.latest_blockhash(); });
}

Result<pay::SolanaRpcClient::MintInfo> mint_info(const std::string& url, std::string mint) {
  return with_client<pay::SolanaRpcClient::MintInfo>(
      url, [mint](pay::SolanaRpcClient& client) { return client.mint_info(mint); });
}

json::object answer(std::string_view request) {
  return json::parse(facilitator::answer_simulated_solana_rpc(request)).as_object();
}

}  // namespace

TEST_CASE("the buyer's Solana client gets a fresh blockhash from the simulated RPC",
          "[simulated_solana_rpc]") {
  RunningService service(true);
  auto first = latest_blockhash(service.rpc_url());
  INFO((first.ok() ? "" : first.error().message));
  REQUIRE(first.ok());
  auto second = latest_blockhash(service.rpc_url());
  REQUIRE(second.ok());
  CHECK(first->size() == 32);
  CHECK(*first != *second);
}

TEST_CASE("the simulated RPC knows the registry's mints and no others", "[simulated_solana_rpc]") {
  RunningService service(true);
  auto usdc = mint_info(service.rpc_url(), kDevnetUsdcMint);
  INFO((usdc.ok() ? "" : usdc.error().message));
  REQUIRE(usdc.ok());
  CHECK(usdc->decimals == 6);
  CHECK(usdc->token_program == sol::program_pubkey(sol::kTokenProgram));

  auto unknown = mint_info(service.rpc_url(), "11111111111111111111111111111111");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message, Catch::Contains("does not exist"));
}

TEST_CASE("without the flag the Solana RPC path is unknown", "[simulated_solana_rpc]") {
  RunningService service(false);
  auto reply = testing::post(service.port(), "/solana-rpc",
                             R"({"jsonrpc":"2.0","id":1,"method":"getLatestBlockhash"})",
                             {{"Content-Type", "application/json"}}, std::chrono::seconds(5));
  CHECK(reply.status == 404);
  CHECK_FALSE(latest_blockhash(service.rpc_url()).ok());
}

TEST_CASE("an unknown method is a JSON-RPC error naming it, with the request's id",
          "[simulated_solana_rpc]") {
  RunningService service(true);
  auto reply =
      testing::post(service.port(), "/solana-rpc",
                    R"({"jsonrpc":"2.0","id":"req-7","method":"sendTransaction","params":[]})",
                    {{"Content-Type", "application/json"}}, std::chrono::seconds(5));
  REQUIRE(reply.status == 200);
  auto body = json::parse(reply.body).as_object();
  CHECK(body.at("id") == "req-7");
  CHECK(body.at("error").at("code") == -32601);
  CHECK_THAT(std::string(body.at("error").at("message").as_string()),
             Catch::Contains("sendTransaction"));
}

TEST_CASE("a body that is not JSON is a JSON-RPC parse error", "[simulated_solana_rpc]") {
  RunningService service(true);
  auto reply = testing::post(service.port(), "/solana-rpc", "{not json",
                             {{"Content-Type", "application/json"}}, std::chrono::seconds(5));
  REQUIRE(reply.status == 200);
  auto body = json::parse(reply.body).as_object();
  CHECK(body.at("id").is_null());
  CHECK(body.at("error").at("code") == -32700);
}

TEST_CASE("the simulated answers keep the request id and refuse what they cannot answer",
          "[simulated_solana_rpc]") {
  auto blockhash = answer(R"({"jsonrpc":"2.0","id":42,"method":"getLatestBlockhash"})");
  CHECK(blockhash.at("id") == 42);
  const json::value& result = blockhash.at("result");
  CHECK(result.at("value").at("lastValidBlockHeight").to_number<std::uint64_t>() >
        result.at("context").at("slot").to_number<std::uint64_t>());

  auto unknown_mint = answer(
      R"({"jsonrpc":"2.0","id":3,"method":"getAccountInfo",)"
      R"("params":["EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd",{"encoding":"jsonParsed"}]})");
  CHECK(unknown_mint.at("result").at("value").is_null());

  auto zstd = answer(R"({"jsonrpc":"2.0","id":4,"method":"getAccountInfo",)"
                     R"("params":["4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",)"
                     R"({"encoding":"base64+zstd"}]})");
  CHECK(zstd.at("id") == 4);
  CHECK(zstd.at("error").at("code") == -32602);

  auto no_method = answer(R"({"jsonrpc":"2.0","id":5})");
  CHECK(no_method.at("id") == 5);
  CHECK(no_method.at("error").at("code") == -32600);
}
