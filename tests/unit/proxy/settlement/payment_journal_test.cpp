#include "proxy/settlement/payment_journal.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/journal_v1.h"

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

TEST_CASE("a payment keeps the payment and requirement JSON that settle needs", "[journal]") {
  auto journal = PaymentJournal::open(":memory:");
  REQUIRE(journal.ok());
  JournalEntry entry = sample();
  entry.payment_json = R"({"x402Version":2,"payload":{}})";
  entry.requirements_json = R"({"scheme":"exact","network":"eip155:84532"})";
  auto id = (*journal)->record_verified(entry);
  REQUIRE(id.ok());
  REQUIRE((*journal)->update(*id, PaymentState::forwarded).ok());
  auto open = (*journal)->open_payments();
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  CHECK((*open)[0].payment_json == entry.payment_json);
  CHECK((*open)[0].requirements_json == entry.requirements_json);
  auto row = (*journal)->find(*id);
  REQUIRE(row.ok());
  CHECK(row->payment_json == entry.payment_json);
  CHECK(row->requirements_json == entry.requirements_json);
}

TEST_CASE("an abandoned payment is closed and reads back as abandoned", "[journal]") {
  auto journal = PaymentJournal::open(":memory:");
  REQUIRE(journal.ok());
  auto id = (*journal)->record_verified(sample());
  REQUIRE(id.ok());
  REQUIRE((*journal)->update(*id, PaymentState::abandoned, "", "never forwarded").ok());
  auto row = (*journal)->find(*id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::abandoned);
  CHECK(row->detail == "never forwarded");
  CHECK(std::string(to_string(PaymentState::abandoned)) == "abandoned");
  auto open = (*journal)->open_payments();
  REQUIRE(open.ok());
  CHECK(open->empty());
}

TEST_CASE("a journal written before the settlement columns gains them and keeps its rows",
          "[journal]") {
  auto path = std::filesystem::temp_directory_path() /
              ("journal-old-schema-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(path);
  // The schema of the first released version, as it created the table.
  REQUIRE(x402proxy::testing::write_v1_journal(
              path.string(),
              "INSERT INTO payments (created_ms, updated_ms, tool, network, asset, amount, pay_to,"
              " payer, replay_key, state) VALUES (1, 1, 'add', 'eip155:84532', '0xasset', '1000',"
              " '0xpayto', '0xpayer', 'key-1', 'forwarded');") == "");
  for (int round = 0; round < 2; ++round) {  // the second open finds the columns present
    auto journal = PaymentJournal::open(path.string());
    INFO((journal.ok() ? "" : journal.error().message));
    REQUIRE(journal.ok());
    auto open = (*journal)->open_payments();
    REQUIRE(open.ok());
    REQUIRE(open->size() == 1 + static_cast<std::size_t>(round));
    CHECK((*open)[0].tool == "add");
    CHECK((*open)[0].state == PaymentState::forwarded);
    CHECK((*open)[0].payment_json.empty());
    CHECK((*open)[0].requirements_json.empty());
    if (round == 0) {
      JournalEntry entry = sample();
      entry.payment_json = "{}";
      entry.requirements_json = "{\"scheme\":\"exact\"}";
      auto id = (*journal)->record_verified(entry);
      REQUIRE(id.ok());
      auto row = (*journal)->find(*id);
      REQUIRE(row.ok());
      CHECK(row->requirements_json == entry.requirements_json);
    }
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
