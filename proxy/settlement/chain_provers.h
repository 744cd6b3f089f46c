// Proving a settlement from the chain itself, for the `rpc:` networks of serve's config (see
// proxy/settlement_prover.h for when this is asked).
//   EVM (EIP-3009, FiatTokenV2_2): the authorization's AuthorizationUsed(authorizer, nonce) event
//   and, in the same transaction, Transfer(from, payTo, amount) from the token; or its
//   AuthorizationCanceled; or authorizationState(authorizer, nonce) still false after
//   validBefore (it can never be used now).
//   Solana: the status of a transaction signature a facilitator named
//   (getSignatureStatuses, history included).
#pragma once

#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "net/json_rpc_client.h"
#include "proxy/settlement/settlement_prover.h"

namespace x402proxy::proxy {

struct ChainProverOptions {
  std::chrono::milliseconds call_budget{std::chrono::seconds(5)};
  std::uint64_t evm_log_window = 10'000;  // how many recent blocks an EVM log search covers
};

class ChainProvers final : public SettlementProver {
 public:
  // `rpc_urls`: CAIP-2 network → JSON-RPC URL.
  static Result<std::shared_ptr<ChainProvers>> create(
      boost::asio::any_io_executor executor, const std::map<std::string, std::string>& rpc_urls,
      ChainProverOptions options = {});

  bool covers(const std::string& network) const override;
  boost::asio::awaitable<ChainProof> prove(const JournalEntry& row,
                                           const x402::PaymentPayload& payment,
                                           const x402::PaymentRequirements& requirements) override;

 private:
  explicit ChainProvers(ChainProverOptions options) : options_(options) {}
  boost::asio::awaitable<ChainProof> prove_evm(net::JsonRpcClient& rpc, const JournalEntry& row,
                                               const x402::PaymentPayload& payment,
                                               const x402::PaymentRequirements& requirements);
  boost::asio::awaitable<ChainProof> prove_svm(net::JsonRpcClient& rpc, const JournalEntry& row);

  ChainProverOptions options_;
  std::map<std::string, std::shared_ptr<net::JsonRpcClient>> clients_;  // by CAIP-2
};

}  // namespace x402proxy::proxy
