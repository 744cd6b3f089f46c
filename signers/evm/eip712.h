// EIP-712 typed-data hashing of EIP-3009 TransferWithAuthorization, the message an x402 "exact"
// EVM payment signs (research §3.2): digest = keccak256(0x19 0x01 ‖ domainSeparator ‖ structHash).
#pragma once

#include <cstdint>
#include <string>

#include <boost/multiprecision/cpp_int.hpp>

#include "signers/evm/address.h"
#include "signers/evm/keccak.h"

namespace x402proxy::signers::evm {

using Uint256 = boost::multiprecision::uint256_t;

// EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
struct Eip712Domain {
  std::string name;     // the token's name(): extra.name ("USDC", "USD Coin")
  std::string version;  // the token's version(): extra.version ("2")
  std::uint64_t chain_id = 0;
  Address verifying_contract;  // the token (requirements.asset)
};

// TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,
//                           uint256 validBefore,bytes32 nonce)
struct TransferAuthorization {
  Address from;
  Address to;
  Uint256 value = 0;
  Uint256 valid_after = 0;
  Uint256 valid_before = 0;
  Hash32 nonce{};
};

Hash32 domain_separator(const Eip712Domain& domain);
Hash32 struct_hash(const TransferAuthorization& authorization);
Hash32 typed_data_digest(const Eip712Domain& domain, const TransferAuthorization& authorization);

}  // namespace x402proxy::signers::evm
