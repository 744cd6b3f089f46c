// Our Solana exact-scheme transactions and their verification, against vectors computed with
// @solana/kit (tests/vectors/svm_vectors.json, from tests/vectors/svm_generate.mjs) and the one in
// research §4.6.
#include <fstream>
#include <functional>
#include <sstream>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "facilitator/rules/svm_exact_rules.h"
#include "signers/evm/hex.h"
#include "signers/solana/exact_svm_payment.h"
#include "signers/solana/pda.h"
#include "x402/base64.h"

using namespace x402proxy;
using namespace x402proxy::signers::solana;
namespace json = boost::json;

namespace {

SolanaKey key_from_seed_byte(std::uint8_t byte) {
  signers::SecretBytes seed(32);
  std::fill(seed.data(), seed.data() + 32, byte);
  return std::move(SolanaKey::from_seed(std::move(seed))).value();
}

x402::PaymentRequirements requirement(const std::string& amount = "1000",
                                      const std::string& memo = "") {
  x402::PaymentRequirements r;
  r.scheme = "exact";
  r.network = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
  r.amount = amount;
  r.asset = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
  r.pay_to = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
  r.max_timeout_seconds = 60;
  r.extra["feePayer"] = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
  if (!memo.empty())
    r.extra["memo"] = memo;
  r.has_extra = true;
  return r;
}

json::object load_vectors() {
  std::ifstream file(std::string(X402PROXY_VECTORS_DIR) + "/svm_vectors.json");
  std::stringstream text;
  text << file.rdbuf();
  return json::parse(text.str()).as_object();
}

const std::vector<std::string> kFeePayers = {"EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd"};

x402::PaymentPayload payment_with(const x402::PaymentRequirements& r,
                                  const std::string& transaction) {
  x402::PaymentPayload p;
  p.accepted = r;
  p.payload["transaction"] = transaction;
  return p;
}

}  // namespace

TEST_CASE("base58 round-trips and rejects foreign characters", "[solana]") {
  std::vector<std::uint8_t> zeros(32, 0);
  CHECK(base58_encode(zeros) == "11111111111111111111111111111111");
  auto key = key_from_seed_byte(1);
  CHECK(base58_encode(key.public_key()) == "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9");
  CHECK(decode_pubkey("AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9").value() == key.public_key());
  CHECK_FALSE(base58_decode("0OIl").ok());
  CHECK_FALSE(decode_pubkey("abc").ok());
}

TEST_CASE("Ed25519 matches RFC 8032 test 1", "[solana]") {
  signers::SecretBytes seed(32);
  auto bytes =
      signers::evm::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  std::copy(bytes->begin(), bytes->end(), seed.data());
  auto key = SolanaKey::from_seed(std::move(seed));
  REQUIRE(key.ok());
  CHECK(signers::evm::to_hex(key->public_key(), false) ==
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto signature = key->sign({});
  CHECK(signers::evm::to_hex(signature, false) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
        "f9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(verify_signature(key->public_key(), {}, signature));
  signature[0] ^= 1;
  CHECK_FALSE(verify_signature(key->public_key(), {}, signature));
}

TEST_CASE("associated token accounts derive as on chain", "[solana]") {
  auto mint = *decode_pubkey("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");
  auto token = program_pubkey(kTokenProgram);
  auto source = associated_token_account(key_from_seed_byte(1).public_key(), mint, token);
  REQUIRE(source.ok());
  CHECK(base58_encode(*source) == "H1AviagU5Y17z77v1F9qZPJ9kCbCsL4ewiZABNfGYoRs");
  auto destination = associated_token_account(
      *decode_pubkey("2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4"), mint, token);
  CHECK(base58_encode(*destination) == "A6cvo72FWB5PKDznP79KJv64DbT1aw7YbEfCm4AALHg8");
}

TEST_CASE("the research vector transaction is reproduced byte for byte", "[solana][vectors]") {
  auto key = key_from_seed_byte(1);
  SolanaChainData chain;  // blockhash all zeros, 6 decimals, SPL Token
  auto payload = create_exact_svm_payload(key, requirement("1000", "pi_3abc123def456"), chain);
  REQUIRE(payload.ok());
  CHECK(payload->at("transaction").as_string() ==
        "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACyRS"
        "LFHPr+"
        "MzKOXd/YADMWXpuWUhtSMpBTbANQal7B+a60D/W4trXbWAAX9/"
        "uZn+5BpZ2WMxSHeE19q+HfbU8IgAIBBAjPHwZnA01T2C3Htl"
        "AjTEVC4T/PLYANrujgwBsph3Jm2oqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/"
        "N0iAG0D29chym1sSR1ISgbpclL8xwEkaOR7MUU"
        "ttiwAKDWSvmKgAXtxjbgQB4pwJnqJwOAZZHm5AvuwQkVBwJdu/5tY3Yf4jtELLORIVfxOpM9ATQoLQMrX/"
        "7NAaLb8bd5BgjfAC"
        "6nAwZGb+UhFzL/"
        "7K26csOb57yM5bvF9xJrLEObOkAAAAAFSlNamSkhBk0k6HFg2jh8fDW13bySu4HkH6hAQQVEjQbd9uHXZaGT"
        "2cvhRs7reawctIXtX1s3kTqM9YV+/"
        "wCpAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEBQAFAiBOAAAFAAkDAQAAAAAA"
        "AAAHBAMEAgEKDOgDAAAAAAAABgYAEHBpXzNhYmMxMjNkZWY0NTYA");
}

TEST_CASE("every @solana/kit vector is reproduced byte for byte and verifies",
          "[solana][vectors]") {
  auto all = load_vectors();
  const auto& vectors = all.at("vectors").as_array();
  REQUIRE(vectors.size() >= 3);
  for (const auto& value : vectors) {
    const auto& v = value.as_object();
    INFO(v.at("memo").as_string());
    auto key = key_from_seed_byte(static_cast<std::uint8_t>(v.at("seed_byte").to_number<int>()));
    CHECK(base58_encode(key.public_key()) == v.at("buyer").as_string());
    auto r = requirement(std::string(v.at("amount").as_string()));
    r.asset = std::string(v.at("mint").as_string());
    SolanaChainData chain;
    chain.recent_blockhash = *decode_pubkey(v.at("blockhash").as_string());
    auto payload = create_exact_svm_payload(key, r, chain, std::string(v.at("memo").as_string()));
    REQUIRE(payload.ok());
    CHECK(payload->at("transaction").as_string() == v.at("transaction").as_string());
    auto verified = facilitator::verify_exact_svm(
        payment_with(r, std::string(v.at("transaction").as_string())), r, kFeePayers);
    REQUIRE(verified.ok());
    CHECK(verified->payer == v.at("buyer").as_string());
    CHECK(verified->destination == v.at("destination").as_string());
  }
}

TEST_CASE("each kit-built negative vector is refused with its reason", "[solana][vectors]") {
  auto all = load_vectors();
  for (const auto& value : all.at("negatives").as_array()) {
    const auto& n = value.as_object();
    INFO(n.at("name").as_string());
    auto r = requirement();
    auto verified = facilitator::verify_exact_svm(
        payment_with(r, std::string(n.at("transaction").as_string())), r, kFeePayers);
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().reason == n.at("reason").as_string());
  }
}

TEST_CASE("the Solana rules refuse what does not match the requirement", "[solana][rules]") {
  auto key = key_from_seed_byte(9);
  auto r = requirement("1000", "invoice-7");
  auto payload = create_exact_svm_payload(key, r, SolanaChainData{});
  REQUIRE(payload.ok());
  auto payment = payment_with(r, std::string(payload->at("transaction").as_string()));
  REQUIRE(facilitator::verify_exact_svm(payment, r, kFeePayers).ok());
  auto reason = [&](const x402::PaymentPayload& p, const x402::PaymentRequirements& req,
                    const std::vector<std::string>& payers = kFeePayers) {
    auto result = facilitator::verify_exact_svm(p, req, payers);
    REQUIRE_FALSE(result.ok());
    return result.error().reason;
  };
  CHECK(reason(payment, r, {"11111111111111111111111111111111"}) ==
        "invalid_exact_svm_fee_payer_not_managed_by_facilitator");
  auto no_fee_payer = r;
  no_fee_payer.extra.erase("feePayer");
  CHECK(reason(payment, no_fee_payer) == "invalid_exact_svm_payload_missing_fee_payer");
  auto other_network = payment;
  other_network.accepted.network = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
  CHECK(reason(other_network, r) == "invalid_exact_svm_network_mismatch");
  auto scheme = r;
  scheme.scheme = "upto";
  CHECK(reason(payment, scheme) == "invalid_exact_svm_unsupported_scheme");
  CHECK(reason(payment_with(r, "not base64!"), r) ==
        "invalid_exact_svm_payload_transaction_could_not_be_decoded");
  CHECK(reason(payment_with(r, "AAAA"), r) ==
        "invalid_exact_svm_payload_transaction_could_not_be_decoded");
  auto other_memo = r;
  other_memo.extra["memo"] = "invoice-8";
  CHECK(reason(payment, other_memo) == "invalid_exact_svm_payload_memo_mismatch");
  auto dearer = r;
  dearer.amount = "1001";
  CHECK(reason(payment, dearer) == "invalid_exact_svm_payload_amount_mismatch");
}

TEST_CASE("a transaction built by our signer is valid for @solana/kit too",
          "[solana][vectors][node]") {
  const std::string dir = X402PROXY_VECTORS_DIR;
  if (std::system(
          ("test -d " + dir + "/node_modules/@solana/kit && command -v node >/dev/null").c_str()) !=
      0) {
    WARN("skipped: node or tests/vectors/node_modules missing");
    return;
  }
  auto key = SolanaKey::generate();
  REQUIRE(key.ok());
  auto payload = create_exact_svm_payload(*key, requirement("4242"), SolanaChainData{});
  REQUIRE(payload.ok());
  std::string command = "node " + dir + "/svm_verify.mjs " +
                        std::string(payload->at("transaction").as_string()) +
                        " EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd 4242 >/dev/null";
  CHECK(std::system(command.c_str()) == 0);
}

namespace {

// A hand-assembled exact-scheme transaction whose instructions a test can bend, signed by `buyer`.
std::string craft(const SolanaKey& buyer, const x402::PaymentRequirements& r,
                  const std::function<void(std::vector<Instruction>&)>& bend) {
  const Pubkey fee_payer = *decode_pubkey(r.extra.at("feePayer").as_string());
  const Pubkey mint = *decode_pubkey(r.asset);
  const Pubkey token = program_pubkey(kTokenProgram);
  const Pubkey budget = program_pubkey(kComputeBudgetProgram);
  auto source = *associated_token_account(buyer.public_key(), mint, token);
  auto destination = *associated_token_account(*decode_pubkey(r.pay_to), mint, token);
  std::vector<Instruction> instructions(4);
  instructions[0] = {budget, {}, {0x02, 0x20, 0x4e, 0x00, 0x00}};
  instructions[1] = {budget, {}, {0x03, 1, 0, 0, 0, 0, 0, 0, 0}};
  instructions[2] = {token,
                     {{source, false, true},
                      {mint, false, false},
                      {destination, false, true},
                      {buyer.public_key(), true, false}},
                     {0x0c, 0xe8, 0x03, 0, 0, 0, 0, 0, 0, 6}};
  instructions[3] = {program_pubkey(kMemoProgram), {}, {'m', 'e', 'm', 'o'}};
  bend(instructions);
  Message message = compile_message(fee_payer, Pubkey{}, instructions);
  auto bytes = serialize_message(message);
  std::vector<Signature64> signatures(message.required_signatures);
  for (std::size_t i = 0; i < message.required_signatures; ++i) {
    if (message.account_keys[i] == buyer.public_key())
      signatures[i] = buyer.sign(bytes);
  }
  auto wire = serialize_transaction(signatures, bytes);
  return x402::base64_encode(
      std::string_view(reinterpret_cast<const char*>(wire.data()), wire.size()));
}

}  // namespace

TEST_CASE("every Solana instruction rule has its own reason", "[solana][rules]") {
  auto buyer = key_from_seed_byte(5);
  auto r = requirement();
  auto reason_for = [&](const std::function<void(std::vector<Instruction>&)>& bend,
                        const x402::PaymentRequirements& req) {
    auto result =
        facilitator::verify_exact_svm(payment_with(req, craft(buyer, req, bend)), req, kFeePayers);
    return result.ok() ? std::string("accepted") : result.error().reason;
  };
  auto reason = [&](const std::function<void(std::vector<Instruction>&)>& bend) {
    return reason_for(bend, r);
  };
  CHECK(reason([](auto&) {}) == "accepted");
  CHECK(reason([](auto& ix) { ix.resize(2); }) ==
        "invalid_exact_svm_payload_transaction_instructions_length");
  CHECK(reason([](auto& ix) { ix.resize(7, ix[3]); }) ==
        "invalid_exact_svm_payload_transaction_instructions_length");
  CHECK(reason([](auto& ix) {
          ix[0].data = {0x04, 0, 0, 0, 0};
        }) == "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction");
  CHECK(reason([](auto& ix) {
          ix[1].data = {0x03, 1};
        }) == "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction");
  CHECK(reason([](auto& ix) { ix[2].data[0] = 0x03; }) ==
        "invalid_exact_svm_payload_no_transfer_instruction");
  CHECK(reason([](auto& ix) { ix[2].program = program_pubkey(kMemoProgram); }) ==
        "invalid_exact_svm_payload_no_transfer_instruction");
  CHECK(reason([](auto& ix) {
          ix.push_back(ix[3]);
          ix.back().program = program_pubkey(kAssociatedTokenProgram);
        }) == "invalid_exact_svm_payload_unknown_fifth_instruction");
  CHECK(reason([](auto& ix) { ix[3].program = program_pubkey(kAssociatedTokenProgram); }) ==
        "invalid_exact_svm_payload_unknown_fourth_instruction");
  CHECK(reason([](auto& ix) {
          ix.push_back(ix[3]);
          ix.push_back(ix[3]);
          ix.back().program = program_pubkey(kAssociatedTokenProgram);
        }) == "invalid_exact_svm_payload_unknown_sixth_instruction");
  // A fee payer named in an instruction could be made to move funds.
  CHECK(reason([](auto& ix) {
          ix[3].accounts.push_back(
              {*decode_pubkey("EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd"), false, false});
        }) == "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds");
  auto with_memo = requirement("1000", "memo");
  CHECK(reason_for([](auto&) {}, with_memo) == "accepted");
  CHECK(reason_for([](auto& ix) { ix.push_back(ix[3]); }, with_memo) ==
        "invalid_exact_svm_payload_memo_count");
  CHECK(reason_for([](auto& ix) { ix.resize(3); }, with_memo) ==
        "invalid_exact_svm_payload_memo_count");
  auto other_fee_payer = r;
  other_fee_payer.extra["feePayer"] = "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9";
  auto crafted = craft(buyer, r, [](auto&) {});
  CHECK(facilitator::verify_exact_svm(
            payment_with(other_fee_payer, crafted), other_fee_payer,
            std::vector<std::string>{"AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"})
            .error()
            .reason == "invalid_exact_svm_fee_payer_mismatch");
}
