// The spending limits and their ledger file: each limit, the rolling 24 h, concurrent reservations
// through two connections, held payments, old files and their modes. About 550 lines: one
// concern, many cases.
#include "pay/spending_limits.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace x402proxy;
using namespace x402proxy::pay;
using x402::Amount;

namespace {

constexpr std::int64_t kNow = 1'764'633'600;  // 2025-12-02 00:00:00 UTC
constexpr std::int64_t kHour = 3600;
constexpr const char* kBaseSepolia = "eip155:84532";
constexpr const char* kSeller = "https://tools.example/mcp";
constexpr const char* kPayee = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

// A USDC payment: 6 decimals, so atomic units are micro-dollars.
PlannedPayment payment(const std::string& tool, unsigned usd_micros) {
  PlannedPayment planned;
  planned.tool = tool;
  planned.seller = kSeller;
  planned.network = kBaseSepolia;
  planned.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  planned.pay_to = kPayee;
  planned.amount = usd_micros;
  planned.usd_micros = usd_micros;
  return planned;
}

std::unique_ptr<SpendingLedger> open_ledger(SpendingLimits limits,
                                            const std::string& path = ":memory:") {
  auto ledger = SpendingLedger::open(path, std::move(limits));
  REQUIRE(ledger.ok());
  return std::move(ledger).value();
}

// A fresh file in the temp directory, removed (with its WAL files) at the end of the test.
struct TempLedgerFile {
  std::string path;
  explicit TempLedgerFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() /
              ("spending-" + name + "-" + std::to_string(::getpid()) + ".sqlite"))
                 .string()) {
    remove_all();
  }
  ~TempLedgerFile() { remove_all(); }
  void remove_all() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
  }
};

}  // namespace

TEST_CASE("a payment within every limit is reserved and recorded", "[spending]") {
  SpendingLimits limits;
  limits.per_call = 50'000;
  limits.per_day = 1'000'000;
  auto ledger = open_ledger(limits);
  auto id = ledger->reserve(payment("search", 10'000), kNow);
  REQUIRE(id.ok());
  auto rows = ledger->rows();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  const auto& row = rows->front();
  CHECK(row.id == *id);
  CHECK(row.time == kNow);
  CHECK(row.tool == "search");
  CHECK(row.seller == kSeller);
  CHECK(row.network == kBaseSepolia);
  CHECK(row.pay_to == kPayee);
  CHECK(row.amount == "10000");
  CHECK(row.usd_micros == "10000");
  CHECK(row.state == "reserved");
}

TEST_CASE("a network outside the allow-list is refused", "[spending]") {
  SpendingLimits limits;
  limits.networks = {"eip155:8453", "eip155:84532"};
  auto ledger = open_ledger(limits);
  auto planned = payment("search", 10'000);
  planned.network = "eip155:1";
  auto refused = ledger->reserve(planned, kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.network");
  CHECK_THAT(refused.error().message, Catch::Contains("eip155:8453, eip155:84532") &&
                                          Catch::Contains("eip155:1") && Catch::Contains("$0.01"));
  CHECK(ledger->reserve(payment("search", 10'000), kNow).ok());
  CHECK(ledger->rows()->size() == 1);
}

TEST_CASE("a network allow-list written with x402 v1 names matches CAIP-2 ids", "[spending]") {
  SpendingLimits limits;
  limits.networks = {"base-sepolia"};
  auto ledger = open_ledger(limits);
  CHECK(ledger->reserve(payment("search", 10'000), kNow).ok());
}

TEST_CASE("a payee outside the allow-list is refused", "[spending]") {
  SpendingLimits limits;
  limits.payees = {"0x857b06519E91e3A54538791bDbb0E22373e36b66"};
  auto ledger = open_ledger(limits);
  auto refused = ledger->reserve(payment("search", 10'000), kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.payee");
  CHECK_THAT(
      refused.error().message,
      Catch::Contains("0x857b06519E91e3A54538791bDbb0E22373e36b66") && Catch::Contains(kPayee));
}

TEST_CASE("an EVM payee matches the allow-list whatever its letter case", "[spending]") {
  SpendingLimits limits;
  limits.payees = {"0x209693bc6afc0c5328ba36faf03c514ef312287c"};
  auto ledger = open_ledger(limits);
  CHECK(ledger->reserve(payment("search", 10'000), kNow).ok());
}

TEST_CASE("a Solana payee must match the allow-list exactly", "[spending]") {
  SpendingLimits limits;
  limits.payees = {"EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd"};
  auto ledger = open_ledger(limits);
  auto planned = payment("search", 10'000);
  planned.network = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
  planned.pay_to = "ewwqge4zfklofuestmu4lddk7xm1n4algdzccwyugwgd";
  auto refused = ledger->reserve(planned, kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.payee");
  planned.pay_to = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
  CHECK(ledger->reserve(planned, kNow).ok());
}

TEST_CASE("a payment above per_call is refused with the limit and the price in dollars",
          "[spending]") {
  SpendingLimits limits;
  limits.per_call = 10'000;
  auto ledger = open_ledger(limits);
  auto refused = ledger->reserve(payment("search", 50'000), kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.per_call");
  CHECK(refused.error().message == "spending limit per_call is $0.01; this call costs $0.05");
  CHECK(ledger->reserve(payment("search", 10'000), kNow).ok());
}

TEST_CASE("per_tool counts only that tool and names what it already cost", "[spending]") {
  SpendingLimits limits;
  limits.per_tool["search"] = 100'000;
  auto ledger = open_ledger(limits);
  REQUIRE(ledger->reserve(payment("search", 80'000), kNow).ok());
  REQUIRE(ledger->reserve(payment("translate", 500'000), kNow).ok());
  auto refused = ledger->reserve(payment("search", 50'000), kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.per_tool");
  CHECK_THAT(refused.error().message, Catch::Contains("\"search\"") && Catch::Contains("$0.1") &&
                                          Catch::Contains("$0.08 already spent") &&
                                          Catch::Contains("$0.05"));
  CHECK(ledger->reserve(payment("search", 20'000), kNow).ok());
  CHECK(ledger->reserve(payment("translate", 500'000), kNow).ok());
}

TEST_CASE("per_day counts every tool and seller together", "[spending]") {
  SpendingLimits limits;
  limits.per_day = 1'000'000;
  auto ledger = open_ledger(limits);
  REQUIRE(ledger->reserve(payment("search", 600'000), kNow).ok());
  auto other_seller = payment("translate", 380'000);
  other_seller.seller = "https://other.example/mcp";
  REQUIRE(ledger->reserve(other_seller, kNow).ok());
  auto refused = ledger->reserve(payment("summarize", 50'000), kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.per_day");
  CHECK_THAT(refused.error().message, Catch::Contains("per_day is $1") &&
                                          Catch::Contains("$0.98 already spent") &&
                                          Catch::Contains("costs $0.05"));
  CHECK(ledger->reserve(payment("summarize", 20'000), kNow).ok());
}

TEST_CASE("the per_day window rolls so 25 hours ago no longer counts but 23 hours ago does",
          "[spending]") {
  SpendingLimits limits;
  limits.per_day = 100'000;
  auto ledger = open_ledger(limits);
  REQUIRE(ledger->reserve(payment("search", 40'000), kNow - 25 * kHour).ok());
  REQUIRE(ledger->reserve(payment("search", 60'000), kNow - 23 * kHour).ok());
  // Had the 25-hour-old payment counted, the window would hold $0.1 and refuse this.
  CHECK(ledger->reserve(payment("search", 40'000), kNow).ok());
  // The 23-hour-old one counts: $0.06 + $0.04 is the whole limit.
  CHECK(ledger->reserve(payment("search", 1), kNow).error().reason == "limit.per_day");
  // An hour and a second later the 23-hour-old payment has left the window too.
  CHECK(ledger->reserve(payment("search", 60'000), kNow + kHour + 1).ok());
}

TEST_CASE("the per_tool window rolls like per_day", "[spending]") {
  SpendingLimits limits;
  limits.per_tool["search"] = 100'000;
  auto ledger = open_ledger(limits);
  REQUIRE(ledger->reserve(payment("search", 40'000), kNow - 25 * kHour).ok());
  REQUIRE(ledger->reserve(payment("search", 60'000), kNow - 23 * kHour).ok());
  CHECK(ledger->reserve(payment("search", 40'000), kNow).ok());
  CHECK(ledger->reserve(payment("search", 1), kNow).error().reason == "limit.per_tool");
}

TEST_CASE("released payments stop counting and unconfirmed ones keep counting", "[spending]") {
  SpendingLimits limits;
  limits.per_day = 100'000;
  auto ledger = open_ledger(limits);
  auto released = ledger->reserve(payment("search", 100'000), kNow);
  REQUIRE(released.ok());
  REQUIRE(ledger->release(*released, "seller refused: invalid_payload").ok());
  auto unconfirmed = ledger->reserve(payment("search", 100'000), kNow);
  REQUIRE(unconfirmed.ok());
  REQUIRE(ledger->mark_unconfirmed(*unconfirmed, "seller unreachable after sending").ok());
  CHECK(ledger->reserve(payment("search", 1), kNow).error().reason == "limit.per_day");
  auto rows = ledger->rows();
  REQUIRE(rows.ok());
  CHECK((*rows)[0].state == "released");
  CHECK((*rows)[0].detail == "seller refused: invalid_payload");
  CHECK((*rows)[1].state == "unconfirmed");
}

TEST_CASE("paid payments keep their transaction and receipt and keep counting", "[spending]") {
  SpendingLimits limits;
  limits.per_day = 100'000;
  auto ledger = open_ledger(limits);
  auto id = ledger->reserve(payment("search", 100'000), kNow);
  REQUIRE(id.ok());
  REQUIRE(ledger->mark_paid(*id, "0xabc", R"({"success":true})").ok());
  CHECK(ledger->reserve(payment("search", 1), kNow).error().reason == "limit.per_day");
  auto row = ledger->rows()->front();
  CHECK(row.state == "paid");
  CHECK(row.transaction == "0xabc");
  CHECK(row.receipt == R"({"success":true})");
}

TEST_CASE("a paid payment cannot be released and an unknown row is reported", "[spending]") {
  auto ledger = open_ledger({});
  auto id = ledger->reserve(payment("search", 10'000), kNow);
  REQUIRE(id.ok());
  REQUIRE(ledger->mark_paid(*id, "0xabc", "{}").ok());
  auto refused = ledger->release(*id, "too late");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "ledger.state");
  CHECK_THAT(refused.error().message, Catch::Contains("paid"));
  CHECK(ledger->mark_paid(*id + 100, "0xdef", "{}").error().reason == "ledger.missing");
  CHECK(ledger->rows()->front().state == "paid");
}

TEST_CASE("an unconfirmed payment can still be confirmed or released later", "[spending]") {
  auto ledger = open_ledger({});
  auto confirmed = ledger->reserve(payment("search", 10'000), kNow);
  auto released = ledger->reserve(payment("search", 10'000), kNow);
  REQUIRE(ledger->mark_unconfirmed(*confirmed, "timeout").ok());
  REQUIRE(ledger->mark_unconfirmed(*released, "timeout").ok());
  CHECK(ledger->mark_paid(*confirmed, "0xabc", "{}").ok());
  CHECK(ledger->release(*released, "facilitator reports no settlement").ok());
}

TEST_CASE("limits are still enforced after the ledger file is reopened", "[spending]") {
  TempLedgerFile file("reopen");
  SpendingLimits limits;
  limits.per_day = 100'000;
  {
    auto ledger = open_ledger(limits, file.path);
    auto id = ledger->reserve(payment("search", 70'000), kNow);
    REQUIRE(id.ok());
    REQUIRE(ledger->mark_paid(*id, "0xabc", "{}").ok());
  }
  auto reopened = open_ledger(limits, file.path);
  auto refused = reopened->reserve(payment("search", 40'000), kNow + kHour);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.per_day");
  CHECK(reopened->reserve(payment("search", 30'000), kNow + kHour).ok());
  CHECK(reopened->rows()->size() == 2);
}

TEST_CASE("two ledgers on the same file cannot together exceed per_day", "[spending]") {
  TempLedgerFile file("shared");
  SpendingLimits limits;
  limits.per_day = 1'000'000;
  auto first = open_ledger(limits, file.path);
  auto second = open_ledger(limits, file.path);
  REQUIRE(first->reserve(payment("search", 600'000), kNow).ok());
  auto refused = second->reserve(payment("search", 600'000), kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "limit.per_day");
}

TEST_CASE("two ledgers reserving at the same time on one file stop exactly at per_day",
          "[spending]") {
  TempLedgerFile file("race");
  SpendingLimits limits;
  limits.per_day = 1'000'000;
  auto first = open_ledger(limits, file.path);
  auto second = open_ledger(limits, file.path);
  // Catch2 assertions are not thread-safe: each thread only collects its outcomes.
  struct Outcomes {
    int accepted = 0;
    std::vector<std::string> unexpected;  // e.g. a lock that was never granted
  };
  std::atomic<bool> start{false};
  auto spend = [&start](SpendingLedger& ledger, Outcomes& outcomes) {
    while (!start.load())
      std::this_thread::yield();
    // Many small payments so that the two threads' reservations interleave.
    for (int i = 0; i < 400; ++i) {
      auto id = ledger.reserve(payment("search", 5'000), kNow);
      if (id.ok())
        ++outcomes.accepted;
      else if (id.error().reason != "limit.per_day")
        outcomes.unexpected.push_back(id.error().reason + ": " + id.error().message);
    }
  };
  Outcomes first_outcomes, second_outcomes;
  std::thread other([&] { spend(*second, second_outcomes); });
  start = true;
  spend(*first, first_outcomes);
  other.join();
  CHECK(first_outcomes.unexpected.empty());
  CHECK(second_outcomes.unexpected.empty());
  CHECK(first_outcomes.accepted + second_outcomes.accepted == 200);
  CHECK(first->rows()->size() == 200);
}

TEST_CASE("atomic amounts become micro-dollars rounded up", "[spending]") {
  CHECK(usd_micros_from_atomic(12'345, 6) == 12'345);
  CHECK(usd_micros_from_atomic(0, 18) == 0);
  CHECK(usd_micros_from_atomic(Amount{1'000'000'000'000}, 18) == 1);
  CHECK(usd_micros_from_atomic(Amount{1'000'000'000'001}, 18) == 2);
  CHECK(usd_micros_from_atomic(Amount{1}, 18) == 1);
  CHECK(usd_micros_from_atomic(Amount{10'000'000'000'000'000}, 18) == 10'000);
  CHECK(usd_micros_from_atomic(5, 2) == 50'000);
  CHECK(usd_micros_from_atomic(5, 0) == 5'000'000);
  CHECK(usd_micros_from_atomic(1, 200) == 1);
}

TEST_CASE("a conversion too large for 256 bits saturates instead of wrapping", "[spending]") {
  const Amount max = std::numeric_limits<Amount>::max();
  CHECK(usd_micros_from_atomic(max, 0) == max);
  CHECK(usd_micros_from_atomic(max / 1000, 2) == max);
}

TEST_CASE("the report shows spending per day and seller then totals", "[spending]") {
  auto ledger = open_ledger({});
  auto pay = [&](const std::string& seller, unsigned usd_micros, std::int64_t time) {
    auto planned = payment("search", usd_micros);
    planned.seller = seller;
    auto id = ledger->reserve(planned, time);
    REQUIRE(id.ok());
    return *id;
  };
  const std::string seller_a = "https://a.example/mcp";
  const std::string seller_b = "https://b.example/mcp";
  const std::int64_t day_one = kNow + 10 * kHour;     // 2025-12-02
  const std::int64_t day_two = day_one + 24 * kHour;  // 2025-12-03
  REQUIRE(ledger->mark_paid(pay(seller_a, 10'000, day_one), "0x1", "{}").ok());
  REQUIRE(ledger->mark_paid(pay(seller_a, 20'000, day_one), "0x2", "{}").ok());
  REQUIRE(ledger->mark_paid(pay(seller_b, 5'000, day_one), "0x3", "{}").ok());
  REQUIRE(ledger->mark_unconfirmed(pay(seller_b, 1'000'000, day_two), "timeout").ok());
  REQUIRE(ledger->release(pay(seller_a, 70'000, day_two), "refused").ok());
  pay(seller_a, 80'000, day_two);  // still reserved: not spent yet

  auto report = ledger->report();
  REQUIRE(report.ok());
  CHECK(*report ==
        "Spending per UTC day and seller (paid):\n"
        "2025-12-02\n"
        "  https://a.example/mcp: $0.03 in 2 payments\n"
        "  https://b.example/mcp: $0.005 in 1 payment\n"
        "Totals per seller (paid):\n"
        "  https://a.example/mcp: $0.03 in 2 payments\n"
        "  https://b.example/mcp: $0.005 in 1 payment\n"
        "Total: $0.035 in 3 payments\n"
        "unconfirmed: 1 payment, $1, pending settlement or failed (money that may have moved; it "
        "counts against the limits):\n"
        "  2025-12-03 https://b.example/mcp tool search: $1 on eip155:84532 (timeout)\n");
}

TEST_CASE("the report lists unconfirmed payments on their own, with what the seller said",
          "[spending]") {
  auto ledger = open_ledger({});
  auto pending = ledger->reserve(payment("add", 1'000), kNow);
  auto failed = ledger->reserve(payment("add", 2'000), kNow);
  REQUIRE(
      ledger->mark_unconfirmed(*pending, "settlement pending", HeldPayment::keep, "0xfeed").ok());
  REQUIRE(
      ledger->mark_unconfirmed(*failed, "settlement failed: insufficient_funds", HeldPayment::drop)
          .ok());
  auto report = ledger->report();
  REQUIRE(report.ok());
  CHECK(*report ==
        "no payments confirmed paid\n"
        "unconfirmed: 2 payments, $0.003, pending settlement or failed (money that may have "
        "moved; it counts against the limits):\n"
        "  2025-12-02 https://tools.example/mcp tool add: $0.001 on eip155:84532, transaction "
        "0xfeed (settlement pending)\n"
        "  2025-12-02 https://tools.example/mcp tool add: $0.002 on eip155:84532 (settlement "
        "failed: insufficient_funds)\n");
}

TEST_CASE("the report of an empty ledger says no payments were recorded", "[spending]") {
  auto ledger = open_ledger({});
  auto report = ledger->report();
  REQUIRE(report.ok());
  CHECK_THAT(*report, Catch::Contains("no payments recorded"));
}

TEST_CASE("a ledger that cannot be opened says where and why", "[spending]") {
  auto ledger = SpendingLedger::open("/nonexistent-dir/spending.sqlite", {});
  REQUIRE_FALSE(ledger.ok());
  CHECK(ledger.error().reason == "ledger.open");
  CHECK_THAT(ledger.error().message, Catch::Contains("/nonexistent-dir/spending.sqlite"));
}

TEST_CASE("an unconfirmed payment that holds its payment is found by the fingerprint of its call",
          "[spending][held]") {
  auto ledger = open_ledger({});
  auto id = ledger->reserve(payment("add", 1'000), kNow);
  REQUIRE(id.ok());
  REQUIRE(ledger->hold_payment(*id, "call-a", R"({"x402Version":2})", "").ok());
  // Reserved: its own call is still sending it.
  CHECK_FALSE(ledger->find_held_payment("call-a", kNow)->has_value());
  REQUIRE(ledger->mark_unconfirmed(*id, "settlement pending", HeldPayment::keep, "0xabc").ok());
  auto held = ledger->find_held_payment("call-a", kNow + kHour);
  REQUIRE(held.ok());
  REQUIRE(held->has_value());
  CHECK((*held)->id == *id);
  CHECK((*held)->payment_json == R"({"x402Version":2})");
  CHECK((*held)->header.empty());
  CHECK((*held)->transaction == "0xabc");
  CHECK((*held)->usd_micros == "1000");
  CHECK_FALSE(ledger->find_held_payment("call-b", kNow)->has_value());
  // Older than the 24 h window: no longer offered for redemption.
  CHECK_FALSE(ledger->find_held_payment("call-a", kNow + 25 * kHour)->has_value());
  // Still pending after another try: still held.
  REQUIRE(ledger->mark_unconfirmed(*id, "settlement pending").ok());
  CHECK(ledger->find_held_payment("call-a", kNow)->has_value());
}

TEST_CASE("a payment whose outcome is final is dropped from its row", "[spending][held]") {
  auto ledger = open_ledger({});
  auto hold = [&](const std::string& call) {
    auto id = ledger->reserve(payment("add", 1'000), kNow);
    REQUIRE(id.ok());
    REQUIRE(ledger->hold_payment(*id, call, "{\"signed\":true}", "PAYMENT-SIGNATURE").ok());
    return *id;
  };
  const auto paid = hold("paid");
  const auto released = hold("released");
  const auto failed = hold("failed");
  REQUIRE(ledger->mark_unconfirmed(paid, "settlement pending").ok());
  REQUIRE(ledger->mark_paid(paid, "0xabc", "{}").ok());
  REQUIRE(ledger->release(released, "seller refused: invalid_exact_evm_signature").ok());
  REQUIRE(
      ledger->mark_unconfirmed(failed, "settlement failed: insufficient_funds", HeldPayment::drop)
          .ok());
  for (const char* call : {"paid", "released", "failed"})
    CHECK_FALSE(ledger->find_held_payment(call, kNow)->has_value());
  auto rows = ledger->rows();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  for (const auto& row : *rows) {
    CHECK(row.payment_json.empty());
    CHECK(row.payment_header == "PAYMENT-SIGNATURE");
  }
  CHECK((*rows)[2].state == "unconfirmed");  // failed after the tool ran: still counts
}

TEST_CASE("only a reserved row can take a payment to hold", "[spending][held]") {
  auto ledger = open_ledger({});
  auto id = ledger->reserve(payment("add", 1'000), kNow);
  REQUIRE(ledger->mark_paid(*id, "0xabc", "{}").ok());
  auto refused = ledger->hold_payment(*id, "call", "{}", "");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "ledger.state");
}

TEST_CASE("a ledger written before payments were held keeps its rows and gains the columns",
          "[spending][migration]") {
  TempLedgerFile file("migrate");
  {
    // The first schema, as the first release created it, with one paid and one unconfirmed row.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
    const char* sql =
        "CREATE TABLE spending ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, created_unix INTEGER NOT NULL,"
        " tool TEXT NOT NULL, seller TEXT NOT NULL, network TEXT NOT NULL,"
        " asset TEXT NOT NULL, pay_to TEXT NOT NULL, amount TEXT NOT NULL,"
        " usd_micros TEXT NOT NULL, state TEXT NOT NULL"
        " CHECK (state IN ('reserved', 'paid', 'unconfirmed', 'released')),"
        " transaction_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
        " receipt_json TEXT NOT NULL DEFAULT '');"
        "CREATE INDEX spending_by_time ON spending(created_unix);"
        "INSERT INTO spending (created_unix, tool, seller, network, asset, pay_to, amount,"
        " usd_micros, state, transaction_id) VALUES"
        " (1764633600, 'add', 's', 'eip155:84532', 'a', 'p', '60000', '60000', 'paid', '0x1'),"
        " (1764633600, 'add', 's', 'eip155:84532', 'a', 'p', '30000', '30000', 'unconfirmed', '');";
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  SpendingLimits limits;
  limits.per_day = 100'000;
  auto ledger = open_ledger(limits, file.path);
  auto rows = ledger->rows();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].transaction == "0x1");
  CHECK((*rows)[1].payment_json.empty());
  // The old rows still count.
  CHECK(ledger->reserve(payment("add", 20'000), kNow).error().reason == "limit.per_day");
  auto id = ledger->reserve(payment("add", 10'000), kNow);
  REQUIRE(id.ok());
  CHECK(ledger->hold_payment(*id, "call", "{}", "").ok());
  // Opening it again (another process, a restart) migrates nothing twice.
  auto again = open_ledger(limits, file.path);
  CHECK(again->rows()->size() == 3);
}

TEST_CASE("a ledger file is created private and an existing readable one is tightened",
          "[spending][files]") {
  TempLedgerFile created("mode-new");
  {
    auto ledger = open_ledger({}, created.path);
    CHECK(ledger->permission_note().empty());
    REQUIRE(ledger->reserve(payment("add", 1'000), kNow).ok());
    for (const char* suffix : {"", "-wal"}) {
      INFO(created.path << suffix);
      REQUIRE(std::filesystem::exists(created.path + suffix));
      CHECK((std::filesystem::status(created.path + suffix).permissions() &
             std::filesystem::perms::all) ==
            (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    }
  }
  TempLedgerFile readable("mode-old");
  std::ofstream(readable.path).close();
  std::filesystem::permissions(
      readable.path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                         std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  auto ledger = open_ledger({}, readable.path);
  CHECK_THAT(ledger->permission_note(), Catch::Contains("its mode is now 0600"));
  CHECK((std::filesystem::status(readable.path).permissions() &
         (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
        std::filesystem::perms::none);
}
