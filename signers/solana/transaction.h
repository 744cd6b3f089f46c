// Solana transactions in the wire format (versioned v0 messages, no address lookup tables, as the
// x402 exact SVM client builds them): compact-u16 signature count, 64-byte signatures in signer
// order, then the message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "signers/solana/base58.h"
#include "signers/solana/ed25519.h"
#include "x402/result.h"

namespace x402proxy::signers::solana {

struct CompiledInstruction {
  std::uint8_t program_index = 0;
  std::vector<std::uint8_t> accounts;  // indices into the account keys
  std::vector<std::uint8_t> data;
};

struct Message {
  bool versioned = true;  // v0 (prefix 0x80); legacy when false
  std::uint8_t required_signatures = 0;
  std::uint8_t readonly_signed = 0;
  std::uint8_t readonly_unsigned = 0;
  std::vector<Pubkey> account_keys;
  Pubkey recent_blockhash{};
  std::vector<CompiledInstruction> instructions;

  bool is_signer(std::size_t index) const { return index < required_signatures; }
  bool is_writable(std::size_t index) const;
};

struct Transaction {
  std::vector<Signature64> signatures;
  Message message;
  std::vector<std::uint8_t> message_bytes;  // exactly as signed
};

std::vector<std::uint8_t> serialize_message(const Message& message);
std::vector<std::uint8_t> serialize_transaction(const std::vector<Signature64>& signatures,
                                                std::span<const std::uint8_t> message_bytes);
// Refuses trailing bytes, out-of-range indices, address lookup tables and truncated input.
Result<Transaction> parse_transaction(std::span<const std::uint8_t> wire);

// A message-building account, before compilation assigns its index.
struct AccountMeta {
  Pubkey key{};
  bool signer = false;
  bool writable = false;
};
struct Instruction {
  Pubkey program{};
  std::vector<AccountMeta> accounts;
  std::vector<std::uint8_t> data;
};

// Compiles instructions into a v0 message: fee payer first, then writable signers, readonly
// signers, writable and readonly non-signers, each group in @solana/kit's address order.
Message compile_message(const Pubkey& fee_payer, const Pubkey& recent_blockhash,
                        const std::vector<Instruction>& instructions);

}  // namespace x402proxy::signers::solana
