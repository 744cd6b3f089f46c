// The settlement outcomes through the service's real seams: the embedded facilitator and its
// ledger, a journal in memory, and a scripted facilitator where the fault itself is the point
// (a timeout, a 429, settlement_pending, an answer that comes after the waiter gave up). About 500
// lines: one case per settlement outcome and per recovery path.
#include "proxy/settlement/settlement_service.h"

#include <ctime>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>

#include "facilitator/embedded/embedded_facilitator.h"
#include "facilitator/rules/payment_identity.h"
#include "proxy/settlement/ledger_prover.h"
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
  auto identity = facilitator::payment_identity(payment, requirements);
  REQUIRE(identity.ok());
  entry.replay_key = *identity;
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

std::shared_ptr<PaymentJournal> open_journal() {
  auto journal = PaymentJournal::open(":memory:");
  REQUIRE(journal.ok());
  return std::shared_ptr<PaymentJournal>(std::move(journal).value());
}

std::int64_t record(PaymentJournal& journal, const JournalEntry& entry, PaymentState state) {
  auto id = journal.record_verified(entry);
  REQUIRE(id.ok());
  if (state == PaymentState::forwarded)
    REQUIRE(journal.mark_forwarded(*id).ok());
  else if (state != PaymentState::verified)
    REQUIRE(journal.update(*id, state).ok());
  return *id;
}

template <class T>
T run(boost::asio::io_context& context, boost::asio::awaitable<T> task) {
  std::optional<T> out;
  boost::asio::co_spawn(
      context, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); },
      boost::asio::detached);
  context.run();
  context.restart();
  REQUIRE(out.has_value());
  return std::move(*out);
}

SettlementOptions fast_options() {
  SettlementOptions options;
  options.first_retry = std::chrono::milliseconds(20);
  options.max_retry = std::chrono::milliseconds(80);
  options.expiry_grace = std::chrono::seconds(0);
  options.request_timeout = std::chrono::seconds(5);
  return options;
}

std::shared_ptr<SettlementService> service(boost::asio::io_context& context,
                                           std::shared_ptr<facilitator::Facilitator> facilitator,
                                           std::shared_ptr<PaymentJournal> journal,
                                           std::shared_ptr<SettlementProver> prover = {}) {
  return std::make_shared<SettlementService>(context.get_executor(), std::move(facilitator),
                                             std::move(journal), std::make_shared<ServeMetrics>(),
                                             fast_options(), std::move(prover));
}

SettlementService::RecoveryReport recover(boost::asio::io_context& context,
                                          SettlementService& settlement) {
  return run(context, settlement.recover(std::chrono::seconds(5)));
}

// A facilitator that answers settle from a script: each answer after its delay, the last one
// again once the script is used up. Verify and supported are never asked here.
class ScriptedFacilitator final : public facilitator::Facilitator {
 public:
  struct Answer {
    std::chrono::milliseconds delay{0};
    facilitator::FacilitatorResult<x402::SettleResponse> result;
  };
  void push(Answer answer) { answers_.push_back(std::move(answer)); }
  int settle_calls = 0;

  boost::asio::awaitable<facilitator::FacilitatorResult<x402::VerifyResponse>> verify(
      const x402::PaymentPayload&, const x402::PaymentRequirements&) override {
    co_return facilitator::FacilitatorError{facilitator::FailureKind::unreachable, "unused", ""};
  }
  boost::asio::awaitable<facilitator::FacilitatorResult<x402::SettleResponse>> settle(
      const x402::PaymentPayload&, const x402::PaymentRequirements&,
      std::chrono::steady_clock::time_point) override {
    ++settle_calls;
    Answer answer = answers_.front();
    if (answers_.size() > 1)
      answers_.pop_front();
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, answer.delay);
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return answer.result;
  }
  boost::asio::awaitable<facilitator::FacilitatorResult<x402::SupportedResponse>> supported()
      override {
    co_return x402::SupportedResponse{};
  }

 private:
  std::deque<Answer> answers_;
};

constexpr const char* kTransaction =
    "0x1111111111111111111111111111111111111111111111111111111111111111";

x402::SettleResponse success() {
  x402::SettleResponse response;
  response.success = true;
  response.transaction = kTransaction;
  response.network = "eip155:84532";
  response.payer = kPayer;
  return response;
}

facilitator::FacilitatorError refusal(std::string reason, std::string transaction = {}) {
  facilitator::FacilitatorError error{facilitator::FailureKind::payment_rejected, std::move(reason),
                                      "", 200, kPayer};
  error.transaction = std::move(transaction);
  return error;
}

facilitator::FacilitatorError http_status(int status) {
  return facilitator::FacilitatorError{facilitator::FailureKind::http_status,
                                       "http_" + std::to_string(status), "", status};
}

facilitator::FacilitatorError not_sent() {
  facilitator::FacilitatorError error{facilitator::FailureKind::unreachable, "http.not_sent",
                                      "connection refused"};
  error.sent = false;
  return error;
}

// A row as the paid call leaves it just before asking settle.
std::int64_t settling_row(PaymentJournal& journal, JournalEntry entry, std::int64_t valid_until) {
  entry.valid_until = valid_until;
  auto id = journal.record_verified(entry);
  REQUIRE(id.ok());
  REQUIRE(journal.mark_forwarded(*id).ok());
  REQUIRE(journal.mark_settling(*id, R"({"content":[]})", 0).ok());
  return *id;
}

std::int64_t in_an_hour() {
  return static_cast<std::int64_t>(std::time(nullptr)) + 3600;
}

const x402::Amount kPlenty = 1'000'000'000;

}  // namespace

TEST_CASE("a payment whose call was forwarded before the crash is settled at start-up",
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto id = record(*journal, signed_entry(base_sepolia_usdc()), PaymentState::forwarded);

  auto settlement = service(context, facilitator, journal);
  auto report = recover(context, *settlement);
  CHECK(report.settled == 1);
  CHECK(report.settle_failed + report.abandoned + report.left_open + report.pending == 0);
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
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto id = record(*journal, signed_entry(base_sepolia_usdc()), PaymentState::verified);

  auto settlement = service(context, facilitator, journal);
  auto report = recover(context, *settlement);
  CHECK(report.abandoned == 1);
  CHECK(report.settled + report.settle_failed + report.left_open + report.pending == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::abandoned);
  CHECK(row->transaction.empty());
  CHECK(facilitator->ledger().transfers()->empty());
}

TEST_CASE("a forwarded payment the facilitator refuses with proof is recorded with the reason",
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(0);  // the payer holds nothing
  auto id = record(*journal, signed_entry(base_sepolia_usdc()), PaymentState::forwarded);

  auto settlement = service(context, facilitator, journal);
  auto report = recover(context, *settlement);
  CHECK(report.settle_failed == 1);
  CHECK(report.settled + report.abandoned + report.left_open + report.pending == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settle_failed);
  CHECK_THAT(row->detail, Catch::StartsWith("invalid_exact_evm_insufficient_balance"));
  CHECK(facilitator->ledger().transfers()->empty());
}

TEST_CASE("a settlement made just before the crash is proven from the ledger, not charged twice",
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto entry = signed_entry(base_sepolia_usdc());
  entry.valid_until = in_an_hour();
  auto id = record(*journal, entry, PaymentState::forwarded);
  REQUIRE(journal->mark_settling(id, "", 0).ok());
  // The previous run's settle went through; it died before writing the outcome.
  auto payment = x402::payment_payload_from_json(boost::json::parse(entry.payment_json));
  REQUIRE(payment.ok());
  auto first = facilitator->settle_now(*payment, base_sepolia_usdc());
  REQUIRE(first.ok());

  auto settlement =
      service(context, facilitator, journal, std::make_shared<LedgerProver>(facilitator));
  auto report = recover(context, *settlement);
  CHECK(report.settled == 1);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  CHECK(row->transaction == first->transaction);
  CHECK(facilitator->ledger().transfers()->size() == 1);
}

TEST_CASE("without a proof an \"already used\" answer is never booked as settled",
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto entry = signed_entry(base_sepolia_usdc());
  entry.valid_until = in_an_hour();
  auto id = record(*journal, entry, PaymentState::forwarded);
  REQUIRE(journal->mark_settling(id, "", 0).ok());
  auto payment = x402::payment_payload_from_json(boost::json::parse(entry.payment_json));
  REQUIRE(facilitator->settle_now(*payment, base_sepolia_usdc()).ok());

  auto settlement = service(context, facilitator, journal);  // no prover
  auto report = recover(context, *settlement);
  CHECK(report.settled == 0);
  CHECK(report.pending == 1);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settle_pending);
  CHECK(row->transaction.empty());
  CHECK_THAT(row->detail, Catch::StartsWith("invalid_exact_evm_nonce_already_used"));
}

TEST_CASE("an x402 v1 payment is settled with the v1 requirement it was verified against",
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto requirements = base_sepolia_usdc();
  requirements.network = "base-sepolia";
  requirements.v1_resource =
      x402::ResourceInfo{"mcp://tool/add", std::string(""), std::string("application/json")};
  auto id = record(*journal, signed_entry(requirements, 1), PaymentState::forwarded);

  auto settlement = service(context, facilitator, journal);
  auto report = recover(context, *settlement);
  CHECK(report.settled == 1);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  INFO(row->detail);
  CHECK(row->state == PaymentState::settled);
  CHECK(facilitator->ledger().transfers()->size() == 1);
}

TEST_CASE("a row without the payment data is left open for a manual check",
          "[settlement][recovery]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = embedded(kPlenty);
  auto entry = signed_entry(base_sepolia_usdc());
  entry.payment_json.clear();
  entry.requirements_json.clear();
  auto id = record(*journal, entry, PaymentState::forwarded);

  auto settlement = service(context, facilitator, journal);
  auto report = recover(context, *settlement);
  CHECK(report.left_open == 1);
  CHECK(report.settled + report.settle_failed + report.abandoned == 0);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::forwarded);
  CHECK(facilitator->ledger().transfers()->empty());
}

TEST_CASE("a settle answer that comes after the call stopped waiting is still booked",
          "[settlement]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = std::make_shared<ScriptedFacilitator>();
  facilitator->push({std::chrono::milliseconds(300), success()});
  auto id = settling_row(*journal, signed_entry(base_sepolia_usdc()), in_an_hour());
  auto settlement = service(context, facilitator, journal);
  SettlementJob job = *settlement_job_from(*journal->find(id));

  auto outcome = run(context, settlement->settle(job, std::chrono::milliseconds(50)));
  // The waiter gave up at 50 ms with the outcome unknown; the request went on (run() waits for
  // every task) and its answer was recorded.
  CHECK(outcome.outcome == facilitator::SettlementOutcome::unknown);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  CHECK(row->transaction == kTransaction);
  CHECK(facilitator->settle_calls == 1);
}

TEST_CASE("a 429 and then settlement_pending with a transaction are retried until settled",
          "[settlement]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = std::make_shared<ScriptedFacilitator>();
  facilitator->push({std::chrono::milliseconds(0), http_status(429)});
  facilitator->push({std::chrono::milliseconds(0), refusal("settlement_pending", kTransaction)});
  facilitator->push({std::chrono::milliseconds(0), success()});
  auto id = settling_row(*journal, signed_entry(base_sepolia_usdc()), in_an_hour());
  auto settlement = service(context, facilitator, journal);
  SettlementJob job = *settlement_job_from(*journal->find(id));

  auto outcome = run(context, settlement->settle(job, std::chrono::seconds(5)));
  CHECK(outcome.outcome == facilitator::SettlementOutcome::settled);
  CHECK(facilitator->settle_calls == 3);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  CHECK(row->transaction == kTransaction);
  CHECK(row->seen_transactions == kTransaction);
  CHECK(row->attempts == 3);
}

TEST_CASE("a refusal after an attempt that may have landed proves nothing", "[settlement]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = std::make_shared<ScriptedFacilitator>();
  // The first request hangs past the wait, then fails after it may have been sent; the retry is
  // refused with a reason that would otherwise prove nothing moved.
  facilitator->push({std::chrono::milliseconds(0), http_status(503)});
  facilitator->push({std::chrono::milliseconds(0),
                     refusal("invalid_exact_evm_payload_authorization_valid_before")});
  auto id = settling_row(*journal, signed_entry(base_sepolia_usdc()), in_an_hour());
  auto settlement = service(context, facilitator, journal);
  SettlementJob job = *settlement_job_from(*journal->find(id));

  auto outcome = run(context, settlement->settle(job, std::chrono::milliseconds(200)));
  CHECK(outcome.outcome == facilitator::SettlementOutcome::unknown);
  CHECK(facilitator->settle_calls >= 2);  // retried until the wait ended, never concluded
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settle_pending);
}

TEST_CASE("a first refusal that proves nothing moved is final", "[settlement]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = std::make_shared<ScriptedFacilitator>();
  facilitator->push(
      {std::chrono::milliseconds(0), refusal("invalid_exact_evm_insufficient_balance")});
  auto id = settling_row(*journal, signed_entry(base_sepolia_usdc()), in_an_hour());
  auto settlement = service(context, facilitator, journal);
  SettlementJob job = *settlement_job_from(*journal->find(id));
  job.may_have_landed = false;  // the call's first attempt

  auto outcome = run(context, settlement->settle(job, std::chrono::seconds(5)));
  CHECK(outcome.outcome == facilitator::SettlementOutcome::refused);
  CHECK(facilitator->settle_calls == 1);
  CHECK(journal->find(id)->state == PaymentState::settle_failed);
}

TEST_CASE("an authorization that expired with its outcome unknown is settle_unproven",
          "[settlement]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = std::make_shared<ScriptedFacilitator>();
  facilitator->push(
      {std::chrono::milliseconds(0), refusal("invalid_exact_evm_nonce_already_used")});
  const auto expired = static_cast<std::int64_t>(std::time(nullptr)) - 10;
  auto id = settling_row(*journal, signed_entry(base_sepolia_usdc()), expired);
  auto settlement = service(context, facilitator, journal);
  SettlementJob job = *settlement_job_from(*journal->find(id));

  auto outcome = run(context, settlement->settle(job, std::chrono::seconds(5)));
  CHECK(outcome.outcome == facilitator::SettlementOutcome::unknown);
  auto row = journal->find(id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settle_unproven);
  CHECK(journal->open_payments()->empty());
}

TEST_CASE(
    "an authorization that expired without a request ever reaching a facilitator is "
    "refused",
    "[settlement]") {
  boost::asio::io_context context;
  auto journal = open_journal();
  auto facilitator = std::make_shared<ScriptedFacilitator>();
  facilitator->push({std::chrono::milliseconds(0), not_sent()});
  const auto expired = static_cast<std::int64_t>(std::time(nullptr)) - 10;
  auto entry = signed_entry(base_sepolia_usdc());
  entry.valid_until = expired;
  auto id = journal->record_verified(entry);
  REQUIRE(id.ok());
  REQUIRE(journal->mark_forwarded(*id).ok());
  auto settlement = service(context, facilitator, journal);
  SettlementJob job = *settlement_job_from(*journal->find(*id));
  job.may_have_landed = false;

  auto outcome = run(context, settlement->settle(job, std::chrono::seconds(5)));
  CHECK(outcome.outcome == facilitator::SettlementOutcome::refused);
  auto row = journal->find(*id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settle_failed);
  CHECK_THAT(row->detail, Catch::StartsWith("authorization_expired_unsent"));
}
