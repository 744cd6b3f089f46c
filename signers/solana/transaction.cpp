#include "signers/solana/transaction.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace x402proxy::signers::solana {
namespace {

void write_compact_u16(std::vector<std::uint8_t>& out, std::size_t value) {
  while (true) {
    std::uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value == 0) {
      out.push_back(byte);
      return;
    }
    out.push_back(byte | 0x80);
  }
}

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool done() const { return position_ == bytes_.size(); }
  std::size_t position() const { return position_; }
  Result<std::uint8_t> byte() {
    if (position_ >= bytes_.size())
      return truncated();
    return bytes_[position_++];
  }
  Result<std::size_t> compact_u16() {
    std::size_t value = 0;
    for (int shift = 0; shift < 21; shift += 7) {
      auto b = byte();
      if (!b.ok())
        return b.error();
      value |= static_cast<std::size_t>(*b & 0x7f) << shift;
      if (!(*b & 0x80)) {
        if (value > 0xffff)
          break;
        return value;
      }
    }
    return make_error("invalid_exact_svm_payload_transaction_could_not_be_decoded",
                      "bad compact-u16");
  }
  Result<std::span<const std::uint8_t>> take(std::size_t n) {
    if (bytes_.size() - position_ < n)
      return truncated();
    auto out = bytes_.subspan(position_, n);
    position_ += n;
    return out;
  }

 private:
  static Error truncated() {
    return make_error("invalid_exact_svm_payload_transaction_could_not_be_decoded",
                      "the transaction ends early");
  }
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

// @solana/kit orders addresses with an ICU collator ("en", lower case first): compare
// case-insensitively (digits before letters), then lower case before upper at the first
// difference.
bool kit_address_less(const std::string& a, const std::string& b) {
  auto fold = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    char x = fold(a[i]), y = fold(b[i]);
    if (x != y)
      return x < y;
  }
  if (a.size() != b.size())
    return a.size() < b.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i])
      return std::islower(static_cast<unsigned char>(a[i])) != 0;
  }
  return false;
}

}  // namespace

bool Message::is_writable(std::size_t index) const {
  if (index < required_signatures)
    return index < static_cast<std::size_t>(required_signatures - readonly_signed);
  return index < account_keys.size() - readonly_unsigned;
}

std::vector<std::uint8_t> serialize_message(const Message& message) {
  std::vector<std::uint8_t> out;
  if (message.versioned)
    out.push_back(0x80);
  out.push_back(message.required_signatures);
  out.push_back(message.readonly_signed);
  out.push_back(message.readonly_unsigned);
  write_compact_u16(out, message.account_keys.size());
  for (const auto& key : message.account_keys)
    out.insert(out.end(), key.begin(), key.end());
  out.insert(out.end(), message.recent_blockhash.begin(), message.recent_blockhash.end());
  write_compact_u16(out, message.instructions.size());
  for (const auto& instruction : message.instructions) {
    out.push_back(instruction.program_index);
    write_compact_u16(out, instruction.accounts.size());
    out.insert(out.end(), instruction.accounts.begin(), instruction.accounts.end());
    write_compact_u16(out, instruction.data.size());
    out.insert(out.end(), instruction.data.begin(), instruction.data.end());
  }
  if (message.versioned)
    write_compact_u16(out, 0);  // no address table lookups
  return out;
}

std::vector<std::uint8_t> serialize_transaction(const std::vector<Signature64>& signatures,
                                                std::span<const std::uint8_t> message_bytes) {
  std::vector<std::uint8_t> out;
  write_compact_u16(out, signatures.size());
  for (const auto& signature : signatures)
    out.insert(out.end(), signature.begin(), signature.end());
  out.insert(out.end(), message_bytes.begin(), message_bytes.end());
  return out;
}

Result<Transaction> parse_transaction(std::span<const std::uint8_t> wire) {
  const char* reason = "invalid_exact_svm_payload_transaction_could_not_be_decoded";
  Reader reader(wire);
  Transaction transaction;
  auto count = reader.compact_u16();
  if (!count.ok())
    return count.error();
  if (*count == 0 || *count > 12)
    return make_error(reason, "unreasonable signature count");
  for (std::size_t i = 0; i < *count; ++i) {
    auto bytes = reader.take(64);
    if (!bytes.ok())
      return bytes.error();
    Signature64 signature{};
    std::copy(bytes->begin(), bytes->end(), signature.begin());
    transaction.signatures.push_back(signature);
  }
  const std::size_t message_start = reader.position();
  Message& message = transaction.message;
  auto first = reader.byte();
  if (!first.ok())
    return first.error();
  if (*first & 0x80) {
    if ((*first & 0x7f) != 0)
      return make_error(reason, "only v0 and legacy messages are understood");
    message.versioned = true;
    first = reader.byte();
    if (!first.ok())
      return first.error();
  } else {
    message.versioned = false;
  }
  message.required_signatures = *first;
  auto readonly_signed = reader.byte();
  auto readonly_unsigned = reader.byte();
  if (!readonly_signed.ok() || !readonly_unsigned.ok())
    return make_error(reason, "truncated header");
  message.readonly_signed = *readonly_signed;
  message.readonly_unsigned = *readonly_unsigned;
  auto keys = reader.compact_u16();
  if (!keys.ok())
    return keys.error();
  for (std::size_t i = 0; i < *keys; ++i) {
    auto bytes = reader.take(32);
    if (!bytes.ok())
      return bytes.error();
    Pubkey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    message.account_keys.push_back(key);
  }
  if (message.required_signatures != transaction.signatures.size() ||
      message.required_signatures > message.account_keys.size() ||
      message.readonly_signed >= std::max<int>(message.required_signatures, 1) ||
      message.readonly_unsigned > message.account_keys.size() - message.required_signatures) {
    return make_error(reason, "inconsistent message header");
  }
  auto blockhash = reader.take(32);
  if (!blockhash.ok())
    return blockhash.error();
  std::copy(blockhash->begin(), blockhash->end(), message.recent_blockhash.begin());
  auto instructions = reader.compact_u16();
  if (!instructions.ok())
    return instructions.error();
  for (std::size_t i = 0; i < *instructions; ++i) {
    CompiledInstruction instruction;
    auto program = reader.byte();
    if (!program.ok())
      return program.error();
    instruction.program_index = *program;
    auto accounts = reader.compact_u16();
    if (!accounts.ok())
      return accounts.error();
    auto indices = reader.take(*accounts);
    if (!indices.ok())
      return indices.error();
    instruction.accounts.assign(indices->begin(), indices->end());
    auto length = reader.compact_u16();
    if (!length.ok())
      return length.error();
    auto data = reader.take(*length);
    if (!data.ok())
      return data.error();
    instruction.data.assign(data->begin(), data->end());
    if (instruction.program_index >= message.account_keys.size()) {
      return make_error(reason, "instruction program index out of range");
    }
    for (auto index : instruction.accounts) {
      if (index >= message.account_keys.size())
        return make_error(reason, "account index out of range");
    }
    message.instructions.push_back(std::move(instruction));
  }
  if (message.versioned) {
    auto lookups = reader.compact_u16();
    if (!lookups.ok())
      return lookups.error();
    if (*lookups != 0)
      return make_error(reason, "address lookup tables are not accepted");
  }
  if (!reader.done())
    return make_error(reason, "trailing bytes after the message");
  transaction.message_bytes.assign(wire.begin() + static_cast<std::ptrdiff_t>(message_start),
                                   wire.end());
  return transaction;
}

Message compile_message(const Pubkey& fee_payer, const Pubkey& recent_blockhash,
                        const std::vector<Instruction>& instructions) {
  // Merge every account's roles (signer or writable anywhere wins).
  std::map<Pubkey, AccountMeta> roles;
  roles[fee_payer] = AccountMeta{fee_payer, true, true};
  for (const auto& instruction : instructions) {
    roles.try_emplace(instruction.program, AccountMeta{instruction.program, false, false});
    for (const auto& meta : instruction.accounts) {
      auto [it, inserted] = roles.try_emplace(meta.key, meta);
      if (!inserted) {
        it->second.signer = it->second.signer || meta.signer;
        it->second.writable = it->second.writable || meta.writable;
      }
    }
  }
  std::vector<std::vector<AccountMeta>> groups(4);
  for (const auto& [key, meta] : roles) {
    if (key == fee_payer)
      continue;
    int group = meta.signer ? (meta.writable ? 0 : 1) : (meta.writable ? 2 : 3);
    groups[group].push_back(meta);
  }
  Message message;
  message.recent_blockhash = recent_blockhash;
  message.account_keys.push_back(fee_payer);
  for (auto& group : groups) {
    std::sort(group.begin(), group.end(), [](const AccountMeta& a, const AccountMeta& b) {
      return kit_address_less(base58_encode(a.key), base58_encode(b.key));
    });
    for (const auto& meta : group)
      message.account_keys.push_back(meta.key);
  }
  message.required_signatures = static_cast<std::uint8_t>(1 + groups[0].size() + groups[1].size());
  message.readonly_signed = static_cast<std::uint8_t>(groups[1].size());
  message.readonly_unsigned = static_cast<std::uint8_t>(groups[3].size());
  auto index_of = [&](const Pubkey& key) {
    return static_cast<std::uint8_t>(
        std::find(message.account_keys.begin(), message.account_keys.end(), key) -
        message.account_keys.begin());
  };
  for (const auto& instruction : instructions) {
    CompiledInstruction compiled;
    compiled.program_index = index_of(instruction.program);
    for (const auto& meta : instruction.accounts)
      compiled.accounts.push_back(index_of(meta.key));
    compiled.data = instruction.data;
    message.instructions.push_back(std::move(compiled));
  }
  return message;
}

}  // namespace x402proxy::signers::solana
