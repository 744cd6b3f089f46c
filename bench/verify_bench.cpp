// Verifications per second per core of x402 exact EVM payments (signature recovery included), on
// one thread. Run by hand: build/bench/verify_bench [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "facilitator/rules/evm_exact_rules.h"
#include "signers/evm/exact_evm_payment.h"
#include "signers/key_material.h"

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
  return valid == iterations ? 0 : 1;
}
