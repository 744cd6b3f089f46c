// The little chain data a Solana buyer needs to build an exact-scheme payment — a recent
// blockhash, and the mint's decimals and token program — from a Solana JSON-RPC node
// (getLatestBlockhash, getAccountInfo with jsonParsed), each call within a time budget.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "net/json_rpc_client.h"
#include "signers/solana/exact_svm_payment.h"
#include "x402/types.h"

namespace x402proxy::pay {

class SolanaRpcClient {
 public:
  static Result<std::shared_ptr<SolanaRpcClient>> create(
      boost::asio::any_io_executor executor, const std::string& url,
      std::chrono::milliseconds budget = std::chrono::seconds(5));

  boost::asio::awaitable<Result<signers::solana::Pubkey>> latest_blockhash();
  struct MintInfo {
    unsigned decimals = 0;
    signers::solana::Pubkey token_program{};
  };
  boost::asio::awaitable<Result<MintInfo>> mint_info(const std::string& mint);
  // Both, for the requirement's asset. Reason "solana_rpc" with what failed.
  boost::asio::awaitable<Result<signers::solana::SolanaChainData>> chain_data_for(
      const x402::PaymentRequirements& requirements);

 private:
  explicit SolanaRpcClient(std::shared_ptr<net::JsonRpcClient> rpc) : rpc_(std::move(rpc)) {}
  boost::asio::awaitable<Result<boost::json::value>> call(const std::string& method,
                                                          boost::json::array params);

  std::shared_ptr<net::JsonRpcClient> rpc_;
};

}  // namespace x402proxy::pay
