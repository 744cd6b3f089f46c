// A wallet key that can pay x402 "exact" offers of its chain family. Two implementations: EVM
// (EIP-3009 authorization, signed at once) and Solana (a partially signed transfer transaction,
// which needs a recent blockhash and the mint's decimals from a Solana JSON-RPC node, within a
// time budget so that a dead node makes `pay` fall back to the next signer quickly).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "config/pay_config.h"
#include "x402/networks.h"
#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::pay {

class PaymentSigner {
 public:
  virtual ~PaymentSigner() = default;
  virtual x402::NetworkFamily family() const = 0;
  virtual const std::string& address() const = 0;
  // The scheme payload ({signature, authorization} or {transaction}) for `offer`. Reason
  // "signer.failed" with what went wrong (never key material).
  virtual boost::asio::awaitable<Result<boost::json::object>> create_payload(
      const x402::PaymentRequirements& offer) = 0;
};

// Loads every configured signer in priority order. Errors name the signer (signers[i]) and the
// file or variable, never the key.
Result<std::vector<std::unique_ptr<PaymentSigner>>> load_payment_signers(
    boost::asio::any_io_executor executor, const config::PayConfig& config);

}  // namespace x402proxy::pay
