// Verifications per second per core of x402 exact EVM payments (signature recovery included), on
// one thread. Run by hand: build/bench/verify_bench [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "facilitator/rules/evm_exact_rules.h"
#include "facilitator/rules/svm_exact_rules.h"
#include "signers/evm/exact_evm_payment.h"
#include "signers/key_material.h"
#include "signers/solana/exact_svm_payment.h"

using namespace x402proxy;

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  x402::PaymentRequirements requirement;
  requirement.scheme = "exact";
  requirement.network = "eip155:84532";
  requirement.amount = "1000";
  requirement.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  requirement.pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  requirement.max_timeout_seconds = 60;
  requirement.extra["name"] = "USDC";
  requirement.extra["version"] = "2";
  auto key = signers::evm::EvmKey::generate();
  const std::int64_t now = 1'800'000'000;
  std::vector<x402::PaymentPayload> payments(256);
  for (auto& payment : payments) {
    payment.accepted = requirement;
    payment.payload = *signers::evm::create_exact_evm_payload(*key, requirement, now);
  }
  auto start = std::chrono::steady_clock::now();
  int valid = 0;
  for (int i = 0; i < iterations; ++i) {
    valid += facilitator::verify_exact_evm(payments[i % payments.size()], requirement, now, 5).ok();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "EVM exact verify: %d iterations in %.3f s = %.0f verifications/s on one core (%d valid)\n",
      iterations, seconds, iterations / seconds, valid);
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations / 4; ++i) {
    (void)signers::evm::create_exact_evm_payload(*key, requirement, now);
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("EVM exact sign:   %.0f payments/s on one core\n", (iterations / 4) / seconds);

  // Solana: parse the wire transaction, check every instruction, derive the payee's ATA, verify
  // the buyer's Ed25519 signature.
  x402::PaymentRequirements svm;
  svm.scheme = "exact";
  svm.network = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
  svm.amount = "1000";
  svm.asset = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
  svm.pay_to = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
  svm.max_timeout_seconds = 60;
  svm.extra["feePayer"] = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
  const std::vector<std::string> fee_payers = {"EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd"};
  auto buyer = signers::solana::SolanaKey::generate();
  std::vector<x402::PaymentPayload> svm_payments(64);
  for (auto& payment : svm_payments) {
    payment.accepted = svm;
    payment.payload = *signers::solana::create_exact_svm_payload(*buyer, svm, {});
  }
  const int svm_iterations = iterations / 10;
  int svm_valid = 0;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < svm_iterations; ++i) {
    svm_valid +=
        facilitator::verify_exact_svm(svm_payments[i % svm_payments.size()], svm, fee_payers).ok();
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "SVM exact verify: %d iterations in %.3f s = %.0f verifications/s on one core (%d valid)\n",
      svm_iterations, seconds, svm_iterations / seconds, svm_valid);
  return valid == iterations && svm_valid == svm_iterations ? 0 : 1;
}
