#include "proxy/journal_recovery.h"

#include <ctime>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "facilitator/embedded/embedded_facilitator.h"
#include "signers/evm/exact_evm_payment.h"
#include "signers/key_material.h"
#include "x402/codec.h"

using namespace x402proxy;
using namespace x402proxy::proxy;

namespace {

// Anvil/Hardhat account #1: a well-known test key, never used for real money.
constexpr const char* kPayerKey =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
constexpr const char* kPayer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
constexpr const char* kPayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

x402::PaymentRequirements base_sepolia_usdc() {
  x402::PaymentRequirements requirements;
  requirements.scheme = "exact";
  requirements.network = "eip155:84532";
  requirements.amount = "1000";
  requirements.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  requirements.pay_to = kPayTo;
  requirements.max_timeout_seconds = 300;
  requirements.extra = boost::json::object{{"name", "USDC"}, {"version", "2"}};
  requirements.has_extra = true;
  return requirements;
}

// A journal row as serve writes it for a verified payment: a real signed payment for
// `requirements` (in the form the facilitator is called with), stored with its JSON.
JournalEntry signed_entry(const x402::PaymentRequirements& requirements, int x402_version = 2) {
  auto secret = signers::parse_key_text(kPayerKey);
  REQUIRE(secret.ok());
  auto key = signers::evm::EvmKey::from_secret(std::move(secret).value());
  REQUIRE(key.ok());
  auto payload = signers::evm::create_exact_evm_payload(
      *key, requirements, static_cast<std::int64_t>(std::time(nullptr)));
  REQUIRE(payload.ok());
  x402::PaymentPayload payment;
  payment.x402_version = x402_version;
  payment.accepted = requirements;
  payment.payload = *payload;

  JournalEntry entry;
  entry.tool = "add";
  entry.network = requirements.network;
  entry.asset = requirements.asset;
  entry.amount = requirements.amount;
  entry.pay_to = requirements.pay_to;
  entry.payer = kPayer;
  entry.replay_key = "evm:" + requirements.network + ":" + kPayer;
  entry.payment_json = boost::json::serialize(x402::to_json(payment));
  entry.requirements_json = boost::json::serialize(x402::to_json(requirements, x402_version));
  return entry;
}

std::shared_ptr<facilitator::EmbeddedFacilitator> embedded(x402::Amount starting_balance) {
  facilitator::EmbeddedOptions options;
  options.ledger_path = ":memory:";
  options.starting_balance = starting_balance;
  auto created = facilitator::EmbeddedFacilitator::create(options);
  REQUIRE(created.ok());
  return *created;
}

std::unique_ptr<PaymentJournal> open_journal() {
  auto journal = PaymentJournal::open(":memory:");
  REQUIRE(journal.ok());
  return std::move(journal).value();
}

std::int64_t record(PaymentJournal& journal, const JournalEntry& entry, PaymentState state) {
  auto id = journal.record_verified(entry);
  REQUIRE(id.ok());
  if (state != PaymentState::verified)
    REQUIRE(journal.update(*id, state).ok());
  return *id;
}

RecoveryReport recover(PaymentJournal& journal, facilitator::Facilitator& facilitator) {
  boost::asio::io_context context;
  std::optional<RecoveryReport> report;
  boost::asio::co_spawn(
      context,
      [&]() -> boost::asio::awaitable<void> {
        report.emplace(co_await resolve_open_payments(journal, facilitator));
      },
      boost::asio::detached);
  context.run();
  REQUIRE(report.has_value());
  return *report;
}

const x402::Amount kPlenty = 1'000'000'000;

}  // namespace

TEST_CASE("a payment whose call was forwarded before the crash is settled at start-up",
          "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto id = record(*journal, signed_entry(base_sepolia_usdc()), PaymentState::forwarded);

  auto report = recover(*journal, *facilitator);
  CHECK(report.settled == 1);
  CHECK(report.settle_failed + report.abandoned + report.left_open == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  auto transfers = facilitator->ledger().transfers();
  REQUIRE(transfers.ok());
  REQUIRE(transfers->size() == 1);
  CHECK((*transfers)[0].payer == kPayer);
  CHECK((*transfers)[0].payee == kPayTo);
  CHECK((*transfers)[0].amount == 1000);
  CHECK(row->transaction == (*transfers)[0].transaction);
  CHECK(journal->open_payments()->empty());
}

TEST_CASE("a payment that never reached the upstream is abandoned and never settled",
          "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto id = record(*journal, signed_entry(base_sepolia_usdc()), PaymentState::verified);

  auto report = recover(*journal, *facilitator);
  CHECK(report.abandoned == 1);
  CHECK(report.settled + report.settle_failed + report.left_open == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::abandoned);
  CHECK(row->transaction.empty());
  auto transfers = facilitator->ledger().transfers();
  REQUIRE(transfers.ok());
  CHECK(transfers->empty());
}

TEST_CASE("a forwarded payment the facilitator refuses to settle is recorded with the reason",
          "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(0);  // the payer holds nothing
  auto id = record(*journal, signed_entry(base_sepolia_usdc()), PaymentState::forwarded);

  auto report = recover(*journal, *facilitator);
  CHECK(report.settle_failed == 1);
  CHECK(report.settled + report.abandoned + report.left_open == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settle_failed);
  CHECK_THAT(row->detail, Catch::StartsWith("insufficient_funds"));
  CHECK(facilitator->ledger().transfers()->empty());
}

TEST_CASE("a payment settled just before the crash counts as settled, not charged twice",
          "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto entry = signed_entry(base_sepolia_usdc());
  auto id = record(*journal, entry, PaymentState::forwarded);
  // The previous run's settle went through; it died before writing `settled`.
  auto payment = x402::payment_payload_from_json(boost::json::parse(entry.payment_json));
  REQUIRE(payment.ok());
  REQUIRE(facilitator->settle_now(*payment, base_sepolia_usdc()).ok());

  auto report = recover(*journal, *facilitator);
  CHECK(report.settled == 1);
  CHECK(report.settle_failed == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  CHECK_THAT(row->detail, Catch::Contains("already settled"));
  CHECK(facilitator->ledger().transfers()->size() == 1);
}

TEST_CASE("an x402 v1 payment is settled with the v1 requirement it was verified against",
          "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto requirements = base_sepolia_usdc();
  requirements.network = "base-sepolia";
  requirements.v1_resource =
      x402::ResourceInfo{"mcp://tool/add", std::string(""), std::string("application/json")};
  auto id = record(*journal, signed_entry(requirements, 1), PaymentState::forwarded);

  auto report = recover(*journal, *facilitator);
  CHECK(report.settled == 1);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  INFO(row->detail);
  CHECK(row->state == PaymentState::settled);
  CHECK(facilitator->ledger().transfers()->size() == 1);
}

TEST_CASE("a row without the payment data is left open for a manual check", "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto entry = signed_entry(base_sepolia_usdc());
  entry.payment_json.clear();
  entry.requirements_json.clear();
  auto id = record(*journal, entry, PaymentState::forwarded);

  auto report = recover(*journal, *facilitator);
  CHECK(report.left_open == 1);
  CHECK(report.resolved() == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::forwarded);
  CHECK(journal->open_payments()->size() == 1);
  CHECK(facilitator->ledger().transfers()->empty());
}

TEST_CASE("a start with nothing open reports nothing", "[recovery]") {
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto report = recover(*journal, *facilitator);
  CHECK(report.resolved() == 0);
  CHECK(report.left_open == 0);
  CHECK(report.journal_error.empty());
}
