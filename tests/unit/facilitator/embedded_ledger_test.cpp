#include "facilitator/embedded/ledger.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

using namespace x402proxy;
using facilitator::Ledger;
using facilitator::LedgerBalance;
using facilitator::LedgerTransfer;

namespace {
LedgerTransfer transfer(std::string id, unsigned amount) {
  LedgerTransfer t;
  t.network = "eip155:84532";
  t.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  t.payer = "0xPayer";
  t.payee = "0xPayee";
  t.amount = amount;
  t.payment_id = std::move(id);
  t.resource = "mcp://tool/add";
  t.transaction = "0x01";
  return t;
}
}  // namespace

TEST_CASE("a settlement moves the amount from payer to a payee that starts from nothing",
          "[ledger]") {
  auto ledger = Ledger::open(":memory:", 5000);
  REQUIRE(ledger.ok());
  auto first = (*ledger)->record(transfer("a", 1200));
  INFO((first.ok() ? "" : first.error().message));
  REQUIRE(first.ok());
  auto t = transfer("", 0);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayer") == 3800);
  // The starting balance is for payers only: the payee holds exactly what it was paid.
  auto balances = (*ledger)->balances();
  REQUIRE(balances.ok());
  bool payee_seen = false;
  for (const auto& b : *balances) {
    if (b.account == "0xPayee") {
      payee_seen = true;
      CHECK(b.amount == 1200);
    }
  }
  CHECK(payee_seen);
  CHECK(*(*ledger)->was_settled("a"));
  CHECK_FALSE(*(*ledger)->was_settled("b"));
  REQUIRE((*ledger)->transfers()->size() == 1);
}

TEST_CASE("the same payment settles at most once", "[ledger]") {
  auto ledger = Ledger::open(":memory:", 5000);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->record(transfer("a", 100)).ok());
  auto again = (*ledger)->record(transfer("a", 100));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().reason == "duplicate_settlement");
  auto t = transfer("", 0);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayer") == 4900);
}

TEST_CASE("a payer cannot spend more than it holds, and a refusal changes nothing", "[ledger]") {
  auto ledger = Ledger::open(":memory:", 1000);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->record(transfer("a", 600)).ok());
  auto refused = (*ledger)->record(transfer("b", 600));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "insufficient_funds");
  CHECK_THAT(refused.error().message, Catch::Contains("400") && Catch::Contains("600"));
  CHECK_FALSE(*(*ledger)->was_settled("b"));  // rolled back, the id stays usable
  auto t = transfer("", 0);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayer") == 400);
}

TEST_CASE("balances lists every recorded account, sorted, and no one else", "[ledger]") {
  auto ledger = Ledger::open(":memory:", 5000);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->balances()->empty());
  REQUIRE((*ledger)->record(transfer("a", 1200)).ok());
  auto other = transfer("b", 300);
  other.payer = "0xAnother";
  REQUIRE((*ledger)->record(other).ok());
  auto balances = (*ledger)->balances();
  REQUIRE(balances.ok());
  REQUIRE(balances->size() == 3);
  const LedgerBalance& first = (*balances)[0];
  CHECK(first.network == "eip155:84532");
  CHECK(first.asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e");
  CHECK(first.account == "0xAnother");
  CHECK(first.amount == 4700);
  CHECK((*balances)[1].account == "0xPayee");
  CHECK((*balances)[1].amount == 1500);  // 1200 + 300: payees start from nothing
  CHECK((*balances)[2].account == "0xPayer");
  CHECK((*balances)[2].amount == 3800);
}

TEST_CASE("a report opens an existing ledger read-only and never creates one", "[ledger]") {
  auto path = std::filesystem::temp_directory_path() /
              ("ledger-test-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(path);
  auto missing = Ledger::open_existing_read_only(path.string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().reason == "ledger.missing");
  CHECK(missing.error().message == "no ledger at " + path.string());
  CHECK_FALSE(std::filesystem::exists(path));

  {
    auto writer = Ledger::open(path.string(), 5000);
    REQUIRE(writer.ok());
    REQUIRE((*writer)->record(transfer("a", 1200)).ok());
    // Read while the writer still has it open, as `--balances` does next to a running service.
    auto reader = Ledger::open_existing_read_only(path.string());
    REQUIRE(reader.ok());
    CHECK((*reader)->transfers()->size() == 1);
    REQUIRE((*reader)->balances()->size() == 2);
    auto refused = (*reader)->record(transfer("b", 1));
    CHECK_FALSE(refused.ok());
  }
  auto closed = Ledger::open_existing_read_only(path.string());
  REQUIRE(closed.ok());
  CHECK((*closed)->balances()->size() == 2);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST_CASE("a new ledger file is private, and one written before schema versions still opens",
          "[ledger]") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ledger-old-" + std::to_string(::getpid()) + ".sqlite"))
                               .string();
  auto remove_files = [&] {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
  };
  remove_files();
  {
    auto fresh = Ledger::open(path, 0);
    REQUIRE(fresh.ok());
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  }
  remove_files();
  // The schema of the releases before versions (user_version 0), in a file others may read.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw,
                       "CREATE TABLE balances (network TEXT NOT NULL, asset TEXT NOT NULL,"
                       " account TEXT NOT NULL, amount TEXT NOT NULL,"
                       " PRIMARY KEY (network, asset, account));"
                       "CREATE TABLE transfers (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                       " settled_ms INTEGER NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL,"
                       " payer TEXT NOT NULL, payee TEXT NOT NULL, amount TEXT NOT NULL,"
                       " payment_id TEXT NOT NULL UNIQUE, resource TEXT NOT NULL,"
                       " transaction_id TEXT NOT NULL);"
                       "INSERT INTO balances VALUES ('eip155:84532', 'USDC', '0xPayee', '700');"
                       "INSERT INTO transfers (settled_ms, network, asset, payer, payee, amount,"
                       " payment_id, resource, transaction_id) VALUES (1, 'eip155:84532', 'USDC',"
                       " '0xPayer', '0xPayee', '700', 'old', 'mcp://tool/add', '0x02');",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  std::filesystem::permissions(path, std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  {
    auto old = Ledger::open(path, 0);
    REQUIRE(old.ok());
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
    CHECK((*old)->settled_transaction("old")->value_or("") == "0x02");
    CHECK(*(*old)->balance("eip155:84532", "USDC", "0xPayee") == 700);
    CHECK((*old)->record(transfer("old", 1)).error().reason == "duplicate_settlement");
  }
  remove_files();
}
