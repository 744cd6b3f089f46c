#include "proxy/payment_journal.h"

#include <filesystem>

#include <catch2/catch.hpp>

using namespace x402proxy::proxy;

namespace {
JournalEntry sample() {
  JournalEntry entry;
  entry.tool = "add";
  entry.network = "eip155:84532";
  entry.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  entry.amount = "1000";
  entry.pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  entry.payer = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
  entry.replay_key = "evm:eip155:84532:0x857b:0x01";
  return entry;
}
}  // namespace

TEST_CASE("a payment moves through its states and keeps its record", "[journal]") {
  auto journal = PaymentJournal::open(":memory:");
  REQUIRE(journal.ok());
  auto id = (*journal)->record_verified(sample());
  REQUIRE(id.ok());
  REQUIRE((*journal)->update(*id, PaymentState::forwarded).ok());
  REQUIRE((*journal)->update(*id, PaymentState::settled, "0xabc").ok());
  auto row = (*journal)->find(*id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  CHECK(row->transaction == "0xabc");
  CHECK(row->payer == sample().payer);
  CHECK((*journal)->update(*id + 100, PaymentState::settled).error().reason == "journal.missing");
}

TEST_CASE("payments left open by a previous run are found after reopening the file", "[journal]") {
  auto path = std::filesystem::temp_directory_path() /
              ("journal-test-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(path);
  {
    auto journal = PaymentJournal::open(path.string());
    REQUIRE(journal.ok());
    auto open_one = (*journal)->record_verified(sample());
    auto forwarded = (*journal)->record_verified(sample());
    auto done = (*journal)->record_verified(sample());
    REQUIRE((*journal)->update(*forwarded, PaymentState::forwarded).ok());
    REQUIRE((*journal)->update(*done, PaymentState::settle_failed, "", "insufficient_funds").ok());
    (void)open_one;
  }
  auto reopened = PaymentJournal::open(path.string());
  REQUIRE(reopened.ok());
  auto open = (*reopened)->open_payments();
  REQUIRE(open.ok());
  REQUIRE(open->size() == 2);
  CHECK((*open)[0].state == PaymentState::verified);
  CHECK((*open)[1].state == PaymentState::forwarded);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST_CASE("a journal that cannot be opened says where and why", "[journal]") {
  auto journal = PaymentJournal::open("/nonexistent-dir/payments.sqlite");
  REQUIRE_FALSE(journal.ok());
  CHECK_THAT(journal.error().message, Catch::Contains("/nonexistent-dir/payments.sqlite"));
}
