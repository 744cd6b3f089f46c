// The account store: keys, balances, reservations and their crash recovery, top-ups, old files.
// About 460 lines: one concern, one case per rule, with the concurrency case at the end.
#include "accounts/account_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace x402proxy;
using namespace x402proxy::accounts;
using x402::Amount;

namespace {

constexpr const char* kUsdc = "USDC";

std::unique_ptr<AccountStore> open_store(const std::string& path = ":memory:") {
  auto store = AccountStore::open(path);
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// A fresh file in the temp directory, removed (with its WAL files) at the end of the test.
struct TempLedgerFile {
  std::string path;
  explicit TempLedgerFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() /
              ("accounts-" + name + "-" + std::to_string(::getpid()) + ".sqlite"))
                 .string()) {
    remove_all();
  }
  ~TempLedgerFile() { remove_all(); }
  void remove_all() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
  }
  std::string raw_bytes() const {
    std::string bytes;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(path + suffix, std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return bytes;
  }
};

Amount balance_of(AccountStore& store, const std::string& account) {
  auto balance = store.balance(account, kUsdc);
  REQUIRE(balance.ok());
  return *balance;
}

}  // namespace

TEST_CASE("an issued key maps to its account", "[accounts]") {
  auto store = open_store();
  auto issued = store->add_key("dev@example.com");
  REQUIRE(issued.ok());
  CHECK(issued->key.starts_with("x402k_" + issued->key_id + "_"));
  auto account = store->account_for_key(issued->key);
  REQUIRE(account.ok());
  CHECK(*account == "dev@example.com");
}

TEST_CASE("account names outside 1-128 characters of A-Z a-z 0-9 . _ @ : - are refused",
          "[accounts]") {
  auto store = open_store();
  for (const std::string& bad : {std::string(), std::string(129, 'a'), std::string("a b"),
                                 std::string("team/dev"), std::string("dev\n")}) {
    auto issued = store->add_key(bad);
    REQUIRE_FALSE(issued.ok());
    CHECK(issued.error().reason == "account.invalid");
  }
  CHECK(store->add_key(std::string(128, 'a')).ok());
  CHECK(store->add_key("org:team.dev_1-x@example.com").ok());
}

TEST_CASE("unknown, wrong-secret, revoked and malformed keys are refused", "[accounts]") {
  auto store = open_store();
  auto issued = store->add_key("alice");
  REQUIRE(issued.ok());

  auto unknown =
      store->account_for_key("x402k_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().reason == "key.unknown");

  // The right key id with another secret is as unknown as a made-up id.
  std::string wrong_secret = issued->key;
  wrong_secret.replace(wrong_secret.size() - 43, 43, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  auto wrong = store->account_for_key(wrong_secret);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().reason == "key.unknown");

  auto malformed = store->account_for_key(issued->key + "x");
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().reason == "key.malformed");
  CHECK(malformed.error().message.find(issued->key.substr(19)) == std::string::npos);

  REQUIRE(store->revoke_key(issued->key_id).ok());
  auto revoked = store->account_for_key(issued->key);
  REQUIRE_FALSE(revoked.ok());
  CHECK(revoked.error().reason == "key.revoked");
  CHECK(revoked.error().message.find(issued->key.substr(19)) == std::string::npos);
  CHECK(store->revoke_key(issued->key_id).ok());  // again: still revoked, no error

  auto missing = store->revoke_key("ffffffffffff");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().reason == "key.unknown");
}

TEST_CASE("revoking one key leaves the account's other keys working", "[accounts]") {
  auto store = open_store();
  auto first = store->add_key("alice");
  auto second = store->add_key("alice");
  REQUIRE((first.ok() && second.ok()));
  REQUIRE(store->revoke_key(first->key_id).ok());
  CHECK(store->account_for_key(second->key).ok());
  auto keys = store->keys("alice");
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK(keys->at(0).key_id == first->key_id);
  CHECK(keys->at(0).revoked != 0);
  CHECK(keys->at(1).revoked == 0);
  auto listed = store->list();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().active_keys == 1);
}

TEST_CASE("a key from one ledger is unknown in another", "[accounts]") {
  TempLedgerFile first_file("first"), second_file("second");
  auto first = open_store(first_file.path);
  auto second = open_store(second_file.path);
  auto issued = first->add_key("alice");
  REQUIRE(issued.ok());
  auto elsewhere = second->account_for_key(issued->key);
  REQUIRE_FALSE(elsewhere.ok());
  CHECK(elsewhere.error().reason == "key.unknown");
}

TEST_CASE("the store key is made once: a reopened ledger still knows its keys", "[accounts]") {
  TempLedgerFile file("reopen");
  std::string key;
  {
    auto store = open_store(file.path);
    auto issued = store->add_key("alice");
    REQUIRE(issued.ok());
    key = issued->key;
  }
  auto reopened = open_store(file.path);
  auto account = reopened->account_for_key(key);
  REQUIRE(account.ok());
  CHECK(*account == "alice");
}

TEST_CASE("the ledger file holds hashes only: no key or secret appears in it", "[accounts]") {
  TempLedgerFile file("raw");
  std::vector<std::string> keys;
  {
    auto store = open_store(file.path);
    for (int i = 0; i < 5; ++i) {
      auto issued = store->add_key("account-" + std::to_string(i));
      REQUIRE(issued.ok());
      keys.push_back(issued->key);
    }
    const std::string bytes = file.raw_bytes();
    REQUIRE_FALSE(bytes.empty());
    for (const auto& key : keys) {
      auto parsed = parse_api_key(key);
      REQUIRE(parsed.ok());
      CHECK(bytes.find(parsed->key_id) != std::string::npos);  // public, so that lists show it
      CHECK(bytes.find(parsed->secret) == std::string::npos);
      CHECK(bytes.find(key) == std::string::npos);
    }
  }
  // After the last connection closes SQLite folds the WAL back into the main file.
  const std::string bytes = file.raw_bytes();
  for (const auto& key : keys)
    CHECK(bytes.find(parse_api_key(key)->secret) == std::string::npos);
  CHECK((std::filesystem::status(file.path).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
}

TEST_CASE("credit and debit change the balance, an unknown balance is 0", "[accounts]") {
  auto store = open_store();
  CHECK(balance_of(*store, "alice") == 0);
  REQUIRE(store->credit("alice", kUsdc, 5'000'000, "invoice 17").ok());
  REQUIRE(store->debit("alice", kUsdc, 1'500'000, "refund correction").ok());
  CHECK(balance_of(*store, "alice") == 3'500'000);
  auto other_asset = store->balance("alice", "EURC");
  REQUIRE(other_asset.ok());
  CHECK(*other_asset == 0);
  CHECK(balance_of(*store, "bob") == 0);
}

TEST_CASE("a debit beyond the balance is refused and changes nothing", "[accounts]") {
  auto store = open_store();
  REQUIRE(store->credit("alice", kUsdc, 1'000, "seed").ok());
  auto refused = store->debit("alice", kUsdc, 1'001, "too much");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "insufficient_credit");
  CHECK(balance_of(*store, "alice") == 1'000);
  CHECK(store->credit("alice", kUsdc, 0, "nothing").error().reason == "amount.invalid");
}

TEST_CASE("uint256 balances are exact, and a credit past 2^256 - 1 is refused", "[accounts]") {
  auto store = open_store();
  const Amount max = std::numeric_limits<Amount>::max();
  REQUIRE(store->credit("whale", "WEI", max - 1, "seed").ok());
  auto balance = store->balance("whale", "WEI");
  REQUIRE(balance.ok());
  CHECK(*balance == max - 1);
  CHECK(store->credit("whale", "WEI", 1, "to the top").ok());
  auto overflow = store->credit("whale", "WEI", 1, "one more");
  REQUIRE_FALSE(overflow.ok());
  CHECK(overflow.error().reason == "amount.overflow");
  CHECK(*store->balance("whale", "WEI") == max);
}

TEST_CASE("a reservation holds credit until it is committed or released", "[accounts]") {
  auto store = open_store();
  REQUIRE(store->credit("alice", kUsdc, 10'000, "seed").ok());
  auto first = store->reserve("alice", kUsdc, 6'000, "search", "req-1");
  REQUIRE(first.ok());
  CHECK(balance_of(*store, "alice") == 10'000);
  CHECK(*store->available("alice", kUsdc) == 4'000);

  auto refused = store->reserve("alice", kUsdc, 6'000, "search", "req-2");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "insufficient_credit");
  CHECK_THAT(refused.error().message,
             Catch::Contains("10000") && Catch::Contains("6000") && Catch::Contains("search"));
  // Reserved money cannot be taken by an operator debit either.
  CHECK(store->debit("alice", kUsdc, 5'000, "manual").error().reason == "insufficient_credit");

  REQUIRE(store->commit(*first, "ok").ok());
  CHECK(balance_of(*store, "alice") == 4'000);
  CHECK(*store->available("alice", kUsdc) == 4'000);

  auto second = store->reserve("alice", kUsdc, 3'000, "fetch", "req-3");
  REQUIRE(second.ok());
  REQUIRE(store->release(*second, "upstream failed").ok());
  CHECK(balance_of(*store, "alice") == 4'000);
  CHECK(*store->available("alice", kUsdc) == 4'000);

  CHECK(store->commit(*first, "again").error().reason == "reservation.closed");
  CHECK(store->release(*second, "again").error().reason == "reservation.closed");
  CHECK(store->commit(*second, "late").error().reason == "reservation.closed");
  CHECK(store->commit(9999, "ok").error().reason == "reservation.unknown");
  CHECK(balance_of(*store, "alice") == 4'000);
}

TEST_CASE("reservations left open by a crashed run are released at start-up, uncharged",
          "[accounts]") {
  auto store = open_store();
  REQUIRE(store->credit("alice", kUsdc, 10'000, "seed").ok());
  REQUIRE(store->reserve("alice", kUsdc, 6'000, "search", "req-1").ok());
  REQUIRE(store->reserve("alice", kUsdc, 3'000, "search", "req-2").ok());
  CHECK(*store->available("alice", kUsdc) == 1'000);
  auto released = store->release_open_reservations("crash");
  REQUIRE(released.ok());
  CHECK(*released == 2);
  CHECK(*store->available("alice", kUsdc) == 10'000);
  CHECK(balance_of(*store, "alice") == 10'000);
  CHECK(*store->release_open_reservations("again") == 0);
}

TEST_CASE("a crash after the call reached the tool charges the reservation, before, it releases",
          "[accounts]") {
  auto store = open_store();
  REQUIRE(store->credit("alice", kUsdc, 10'000, "seed").ok());
  auto forwarded = store->reserve("alice", kUsdc, 6'000, "search", "req-1");
  auto never_sent = store->reserve("alice", kUsdc, 3'000, "search", "req-2");
  REQUIRE(forwarded.ok());
  REQUIRE(never_sent.ok());
  REQUIRE(store->mark_forwarded(*forwarded).ok());
  auto finished = store->finish_open_reservations();
  REQUIRE(finished.ok());
  CHECK(finished->committed == 1);
  CHECK(finished->released == 1);
  CHECK(balance_of(*store, "alice") == 4'000);
  CHECK(*store->available("alice", kUsdc) == 4'000);
  CHECK(store->mark_forwarded(*never_sent).error().reason == "reservation.unknown");
  auto again = store->finish_open_reservations();
  CHECK(again->committed + again->released == 0);
}

TEST_CASE("history lists billing entries newest first with their details", "[accounts]") {
  auto store = open_store();
  REQUIRE(store->credit("alice", kUsdc, 10'000, "invoice 1").ok());
  auto charged = store->reserve("alice", kUsdc, 2'500, "search", "req-1");
  REQUIRE(charged.ok());
  REQUIRE(store->commit(*charged, "ok").ok());
  auto released = store->reserve("alice", kUsdc, 1'000, "fetch", "req-2");
  REQUIRE(released.ok());
  REQUIRE(store->release(*released, "upstream timeout").ok());
  REQUIRE(store->credit("bob", kUsdc, 1, "someone else").ok());

  auto entries = store->history("alice", 10);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);
  const auto& newest = entries->at(0);
  CHECK(newest.kind == "reserve_released");
  CHECK(newest.tool == "fetch");
  CHECK(newest.request_id == "req-2");
  CHECK(newest.outcome == "upstream timeout");
  CHECK(newest.amount == "1000");
  const auto& debit = entries->at(1);
  CHECK(debit.kind == "debit");
  CHECK(debit.account == "alice");
  CHECK(debit.asset == "USDC");
  CHECK(debit.amount == "2500");
  CHECK(debit.tool == "search");
  CHECK(debit.request_id == "req-1");
  CHECK(debit.outcome == "ok");
  CHECK(debit.time > 0);
  const auto& oldest = entries->at(2);
  CHECK(oldest.kind == "credit");
  CHECK(oldest.reference == "invoice 1");
  CHECK(entries->at(0).id > entries->at(1).id);
  CHECK(entries->at(1).id > entries->at(2).id);

  auto limited = store->history("alice", 1);
  REQUIRE(limited.ok());
  REQUIRE(limited->size() == 1);
  CHECK(limited->front().kind == "reserve_released");
}

TEST_CASE("a top-up is credited once per payment id", "[accounts]") {
  auto store = open_store();
  auto first = store->credit_topup("alice", kUsdc, 5'000'000, "0xnonce-1");
  REQUIRE(first.ok());
  CHECK(*first);
  auto repeated = store->credit_topup("alice", kUsdc, 5'000'000, "0xnonce-1");
  REQUIRE(repeated.ok());
  CHECK_FALSE(*repeated);
  // The same payment cannot buy credit for a second account either.
  auto other_account = store->credit_topup("bob", kUsdc, 5'000'000, "0xnonce-1");
  REQUIRE(other_account.ok());
  CHECK_FALSE(*other_account);
  CHECK(balance_of(*store, "alice") == 5'000'000);
  CHECK(balance_of(*store, "bob") == 0);
  CHECK(*store->credit_topup("alice", kUsdc, 1'000'000, "0xnonce-2"));
  CHECK(balance_of(*store, "alice") == 6'000'000);
  auto entries = store->history("alice", 10);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 2);
  CHECK(entries->at(1).kind == "topup");
  CHECK(entries->at(1).reference == "0xnonce-1");
}

TEST_CASE("list shows every account with its balances and active keys", "[accounts]") {
  auto store = open_store();
  REQUIRE(store->add_key("bob").ok());
  REQUIRE(store->credit("alice", kUsdc, 42, "seed").ok());
  REQUIRE(store->credit("alice", "EURC", 7, "seed").ok());
  auto listed = store->list();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed->at(0).account == "alice");
  CHECK(listed->at(0).active_keys == 0);
  CHECK(listed->at(0).balances ==
        std::map<std::string, std::string>{{"EURC", "7"}, {"USDC", "42"}});
  CHECK(listed->at(1).account == "bob");
  CHECK(listed->at(1).active_keys == 1);
  CHECK(listed->at(1).balances.empty());
}

TEST_CASE("8 concurrent calls against a balance for 7 through two stores: exactly 7 are charged",
          "[accounts]") {
  TempLedgerFile file("concurrent");
  auto first = open_store(file.path);
  auto second = open_store(file.path);
  constexpr int kCalls = 8;
  constexpr unsigned kPrice = 1'000;
  REQUIRE(first->credit("alice", kUsdc, kPrice * (kCalls - 1), "seed").ok());

  // Catch2 assertions are not thread-safe: each thread only records its outcome.
  std::atomic<bool> go{false};
  std::atomic<int> charged{0}, refused{0}, failed{0};
  std::atomic<bool> went_negative{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    AccountStore& store = i % 2 == 0 ? *first : *second;
    threads.emplace_back([&, i, &store = store] {
      while (!go.load())
        std::this_thread::yield();
      auto reservation =
          store.reserve("alice", kUsdc, kPrice, "search", "req-" + std::to_string(i));
      if (!reservation.ok()) {
        (reservation.error().reason == "insufficient_credit" ? refused : failed)++;
        return;
      }
      auto available = store.available("alice", kUsdc);
      if (!available.ok())
        failed++;
      if (store.commit(*reservation, "ok").ok())
        charged++;
      else
        failed++;
      // A wrapped uint256 is how a negative balance would show.
      auto balance = store.balance("alice", kUsdc);
      if (!balance.ok() || *balance > kPrice * (kCalls - 1))
        went_negative = true;
    });
  }
  go = true;
  for (auto& thread : threads)
    thread.join();
  CHECK(failed == 0);
  CHECK(charged == kCalls - 1);
  CHECK(refused == 1);
  CHECK_FALSE(went_negative);
  CHECK(balance_of(*first, "alice") == 0);
  CHECK(balance_of(*second, "alice") == 0);
  auto entries = first->history("alice", 100);
  REQUIRE(entries.ok());
  CHECK(entries->size() == kCalls);  // the seed credit and 7 debits
}

TEST_CASE("a ledger written before schema versions opens, keeps its keys and gains new columns",
          "[accounts]") {
  TempLedgerFile file("unversioned");
  std::string key;
  {
    auto store = open_store(file.path);
    auto issued = store->add_key("alice");
    REQUIRE(issued.ok());
    key = issued->key;
    REQUIRE(store->credit("alice", kUsdc, 900, "start").ok());
  }
  // The file as the releases before versions left it: user_version 0, no forwarded_unix.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(file.path.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw,
                       "PRAGMA user_version = 0; ALTER TABLE reservations DROP COLUMN"
                       " forwarded_unix;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  auto store = open_store(file.path);
  CHECK(store->account_for_key(key).value() == "alice");
  CHECK(balance_of(*store, "alice") == 900);
  auto reservation = store->reserve("alice", kUsdc, 100, "add", "1");
  REQUIRE(reservation.ok());
  CHECK(store->mark_forwarded(*reservation).ok());
  CHECK((std::filesystem::status(file.path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}
