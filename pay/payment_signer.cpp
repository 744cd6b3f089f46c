#include "pay/payment_signer.h"

#include <ctime>

#include "pay/solana_rpc_client.h"
#include "signers/evm/exact_evm_payment.h"
#include "signers/key_material.h"
#include "signers/solana/base58.h"
#include "signers/solana/exact_svm_payment.h"

namespace x402proxy::pay {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

Error signer_failed(const std::string& who, const std::string& why) {
  return make_error("signer.failed", who + ": " + why);
}

class EvmPaymentSigner final : public PaymentSigner {
 public:
  explicit EvmPaymentSigner(signers::evm::EvmKey key)
      : key_(std::move(key)), address_(signers::evm::to_checksum_string(key_.address())) {}
  x402::NetworkFamily family() const override { return x402::NetworkFamily::evm; }
  const std::string& address() const override { return address_; }
  asio::awaitable<Result<json::object>> create_payload(
      const x402::PaymentRequirements& offer) override {
    auto payload = signers::evm::create_exact_evm_payload(key_, offer, std::time(nullptr));
    if (!payload.ok())
      co_return signer_failed("evm signer " + address_, payload.error().message);
    co_return std::move(payload).value();
  }

 private:
  signers::evm::EvmKey key_;
  std::string address_;
};

class SolanaPaymentSigner final : public PaymentSigner {
 public:
  SolanaPaymentSigner(signers::solana::SolanaKey key, std::shared_ptr<SolanaRpcClient> rpc)
      : key_(std::move(key)),
        rpc_(std::move(rpc)),
        address_(signers::solana::base58_encode(key_.public_key())) {}
  x402::NetworkFamily family() const override { return x402::NetworkFamily::solana; }
  const std::string& address() const override { return address_; }
  asio::awaitable<Result<json::object>> create_payload(
      const x402::PaymentRequirements& offer) override {
    auto chain = co_await rpc_->chain_data_for(offer);
    if (!chain.ok())
      co_return signer_failed("solana signer " + address_, chain.error().message);
    auto payload = signers::solana::create_exact_svm_payload(key_, offer, *chain);
    if (!payload.ok())
      co_return signer_failed("solana signer " + address_, payload.error().message);
    co_return std::move(payload).value();
  }

 private:
  signers::solana::SolanaKey key_;
  std::shared_ptr<SolanaRpcClient> rpc_;
  std::string address_;
};

Result<signers::SecretBytes> load_secret(const config::SignerConfig& signer) {
  if (!signer.key_file.empty())
    return signers::load_key_file(signer.key_file);
  return signers::load_key_env(signer.key_env);
}

}  // namespace

Result<std::vector<std::unique_ptr<PaymentSigner>>> load_payment_signers(
    asio::any_io_executor executor, const config::PayConfig& config) {
  std::vector<std::unique_ptr<PaymentSigner>> out;
  for (std::size_t i = 0; i < config.signers.size(); ++i) {
    const config::SignerConfig& signer = config.signers[i];
    const std::string who = config.source + ": signers[" + std::to_string(i) + "]";
    auto secret = load_secret(signer);
    if (!secret.ok())
      return make_error("signer.key", who + ": " + secret.error().message);
    if (signer.family == x402::NetworkFamily::evm) {
      auto key = signers::evm::EvmKey::from_secret(std::move(secret).value());
      if (!key.ok())
        return make_error("signer.key", who + ": " + key.error().message);
      out.push_back(std::make_unique<EvmPaymentSigner>(std::move(key).value()));
      continue;
    }
    auto key = signers::solana::SolanaKey::from_seed(std::move(secret).value());
    if (!key.ok())
      return make_error("signer.key", who + ": " + key.error().message);
    auto rpc = SolanaRpcClient::create(executor, signer.rpc, signer.rpc_timeout);
    if (!rpc.ok())
      return make_error("signer.rpc", who + ".rpc: " + rpc.error().message);
    out.push_back(
        std::make_unique<SolanaPaymentSigner>(std::move(key).value(), std::move(rpc).value()));
  }
  return out;
}

}  // namespace x402proxy::pay
