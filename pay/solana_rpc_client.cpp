#include "pay/solana_rpc_client.h"

#include <boost/json.hpp>

namespace x402proxy::pay {
namespace asio = boost::asio;
namespace json = boost::json;
namespace sol = signers::solana;

namespace {
using namespace std::string_literals;
// GCC 12 rejects string-literal (array) temporaries in a co_return/co_await full-expression
// ("array used as initializer"): messages are std::string prvalues ("…"s) or locals.
Error rpc_error(const std::string& message) {
  return make_error("solana_rpc", message);
}
}  // namespace

Result<std::shared_ptr<SolanaRpcClient>> SolanaRpcClient::create(asio::any_io_executor executor,
                                                                 const std::string& url,
                                                                 std::chrono::milliseconds budget) {
  // The answers are a blockhash and one account: 256 KiB is plenty.
  auto rpc = net::JsonRpcClient::create(std::move(executor), url, budget, 256 * 1024);
  if (!rpc.ok())
    return rpc.error();
  return std::shared_ptr<SolanaRpcClient>(new SolanaRpcClient(std::move(rpc).value()));
}

// Reads are idempotent: the JSON-RPC client retries a stale keep-alive connection once.
asio::awaitable<Result<json::value>> SolanaRpcClient::call(const std::string& method,
                                                           json::array params) {
  auto result = co_await rpc_->call(method, std::move(params));
  if (!result.ok())
    co_return rpc_error(result.error().message);
  co_return std::move(result).value();
}

asio::awaitable<Result<sol::Pubkey>> SolanaRpcClient::latest_blockhash() {
  json::array params{json::object{{"commitment", "confirmed"}}};
  auto result = co_await call("getLatestBlockhash"s, std::move(params));
  if (!result.ok())
    co_return result.error();
  const json::value* value =
      result->is_object() ? result->get_object().if_contains("value") : nullptr;
  const json::value* hash =
      value && value->is_object() ? value->get_object().if_contains("blockhash") : nullptr;
  if (hash == nullptr || !hash->is_string())
    co_return rpc_error("getLatestBlockhash: no blockhash"s);
  auto decoded = sol::decode_pubkey(hash->get_string());
  if (!decoded.ok())
    co_return rpc_error("getLatestBlockhash: the blockhash is not base58 32 bytes"s);
  // (Built first: GCC 12 cannot co_return a braced or array-typed value directly.)
  Result<sol::Pubkey> out(*decoded);
  co_return out;
}

asio::awaitable<Result<SolanaRpcClient::MintInfo>> SolanaRpcClient::mint_info(
    const std::string& mint) {
  json::array params{mint, json::object{{"encoding", "jsonParsed"}, {"commitment", "confirmed"}}};
  auto result = co_await call("getAccountInfo"s, std::move(params));
  if (!result.ok())
    co_return result.error();
  try {
    const json::value& value = result->at("value");
    if (value.is_null())
      co_return rpc_error("getAccountInfo: mint "s + mint + " does not exist");
    auto program = sol::decode_pubkey(value.at("owner").as_string());
    const json::object& info = value.at("data").at("parsed").at("info").as_object();
    if (!program.ok())
      co_return rpc_error("getAccountInfo: bad owner"s);
    if (!(*program == sol::program_pubkey(sol::kTokenProgram)) &&
        !(*program == sol::program_pubkey(sol::kToken2022Program))) {
      co_return rpc_error("getAccountInfo: "s + mint + " is not an SPL token mint");
    }
    const std::int64_t decimals = info.at("decimals").to_number<std::int64_t>();
    if (decimals < 0 || decimals > 18)
      co_return rpc_error("getAccountInfo: implausible decimals"s);
    MintInfo mint_info;
    mint_info.decimals = static_cast<unsigned>(decimals);
    mint_info.token_program = *program;
    Result<MintInfo> out(mint_info);
    co_return out;
  } catch (const std::exception&) {
    // Boost.JSON's at()/as_*() throw on a shape mismatch; it ends here as a value.
    co_return rpc_error("getAccountInfo: unexpected answer shape for mint "s + mint);
  }
}

asio::awaitable<Result<sol::SolanaChainData>> SolanaRpcClient::chain_data_for(
    const x402::PaymentRequirements& requirements) {
  auto mint = co_await mint_info(requirements.asset);
  if (!mint.ok())
    co_return mint.error();
  auto blockhash = co_await latest_blockhash();
  if (!blockhash.ok())
    co_return blockhash.error();
  sol::SolanaChainData data;
  data.recent_blockhash = *blockhash;
  data.mint_decimals = mint->decimals;
  data.token_program = mint->token_program;
  Result<sol::SolanaChainData> out(data);
  co_return out;
}

}  // namespace x402proxy::pay
