// The payment journal on PostgreSQL: the same states and answers as on SQLite, rows owned by one
// replica at a time with leases another replica takes over when they run out, migrations, and a
// database that goes away and comes back.
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "store/schema_migrations.h"
#include "tests/integration/store/store_test_helpers.h"

using namespace x402proxy;
using namespace x402proxy::testing;
using proxy::PaymentState;

namespace {
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

TEST_CASE("a payment moves through its states on PostgreSQL as on SQLite", "[store][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  auto journal = postgres_journal(postgres_store(url, "a"));
  auto id = journal->record_verified(sample_entry());
  REQUIRE(id.ok());
  REQUIRE(journal->mark_forwarded(*id).ok());
  REQUIRE(journal->mark_settling(*id, R"({"content":[]})", now_ms() + 60'000).ok());
  proxy::SettlementRecord pending;
  pending.state = PaymentState::settle_pending;
  pending.transaction = "0xaa";
  pending.sent = true;
  REQUIRE(journal->record_settlement(*id, pending).ok());
  REQUIRE(journal->record_settlement(*id, pending).ok());  // the same transaction is kept once
  proxy::SettlementRecord settled;
  settled.state = PaymentState::settled;
  settled.transaction = "0xbb";
  REQUIRE(journal->record_settlement(*id, settled).ok());
  auto row = journal->find(*id);
  REQUIRE(row.ok());
  CHECK(row->state == PaymentState::settled);
  CHECK(row->transaction == "0xbb");
  CHECK(row->seen_transactions == "0xaa 0xbb");
  CHECK(row->settle_sent);
  CHECK(row->attempts == 3);
  CHECK(row->forwarded_ms > 0);
  CHECK(row->result_json == R"({"content":[]})");
  CHECK(row->owner == "a");
  // Delivery is claimed once.
  CHECK(journal->claim_delivery(*id).value());
  CHECK_FALSE(journal->claim_delivery(*id).value());
  REQUIRE(journal->mark_delivered(*id).ok());
  CHECK(journal->find(*id)->result_json.empty());
  auto by_key = journal->find_by_replay_key(sample_entry().replay_key);
  REQUIRE(by_key.ok());
  REQUIRE(by_key->has_value());
  CHECK((*by_key)->id == *id);
  CHECK(journal->update(*id + 100, PaymentState::settled).error().reason == "journal.missing");
}

TEST_CASE("an open row belongs to its replica until its lease runs out, then to one taker",
          "[store][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  const auto lease = std::chrono::seconds(3);
  auto a = postgres_journal(postgres_store(url, "replica-a", lease));
  auto b = postgres_journal(postgres_store(url, "replica-b", lease));
  auto c = postgres_journal(postgres_store(url, "replica-c", lease));
  auto id = a->record_verified(sample_entry());
  REQUIRE(id.ok());
  REQUIRE(a->mark_settling(*id, "", 0).ok());
  // While a renews its lease, no other replica gets the row.
  CHECK(b->claim_open_payments(now_ms())->empty());
  CHECK(b->due_settlements(now_ms())->empty());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(a->renew_leases(now_ms()).value() == 1);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(b->claim_open_payments(now_ms())->empty());
  // a stops renewing (it crashed): once the lease is over, b and c race and exactly one wins.
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  std::vector<proxy::JournalEntry> got_b, got_c;
  std::thread tb([&] { got_b = b->due_settlements(now_ms()).value(); });
  std::thread tc([&] { got_c = c->due_settlements(now_ms()).value(); });
  tb.join();
  tc.join();
  CHECK(got_b.size() + got_c.size() == 1);
  const std::string taker = got_b.empty() ? "replica-c" : "replica-b";
  CHECK(a->find(*id)->owner == taker);
  // The old owner, back, finds the row taken: it is no longer its to act on.
  CHECK(a->claim_open_payments(now_ms())->empty());
  CHECK(a->renew_leases(now_ms()).value() == 0);
}

TEST_CASE("many replicas reconciling at once never get the same row", "[store][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  auto writer = postgres_journal(postgres_store(url, "gone", std::chrono::seconds(3)));
  for (int i = 0; i < 60; ++i) {
    auto id = writer->record_verified(sample_entry("key-" + std::to_string(i)));
    REQUIRE(id.ok());
    REQUIRE(writer->mark_settling(*id, "", 0).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));  // "gone" never renews
  std::vector<std::shared_ptr<proxy::PaymentJournal>> replicas;
  for (int r = 0; r < 4; ++r)
    replicas.push_back(postgres_journal(postgres_store(url, "r" + std::to_string(r))));
  std::vector<std::vector<proxy::JournalEntry>> got(replicas.size());
  std::vector<std::thread> threads;
  for (std::size_t r = 0; r < replicas.size(); ++r)
    threads.emplace_back([&, r] { got[r] = replicas[r]->claim_open_payments(now_ms()).value(); });
  for (auto& t : threads)
    t.join();
  std::set<std::int64_t> seen;
  std::size_t total = 0;
  for (const auto& rows : got) {
    total += rows.size();
    for (const auto& row : rows)
      seen.insert(row.id);
  }
  CHECK(total == 60);
  CHECK(seen.size() == 60);
}

TEST_CASE("the PostgreSQL schema is versioned: applied once, a newer one refused",
          "[store][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  auto store = postgres_store(url, "a");
  {
    // Two replicas starting together migrate once.
    std::vector<std::thread> threads;
    std::atomic<int> opened{0};
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&] {
        if (proxy::PaymentJournal::open(store).ok())
          ++opened;
      });
    for (auto& t : threads)
      t.join();
    CHECK(opened == 4);
  }
  auto session = store->session();
  CHECK(store::postgres_schema_version(*session, "journal").value() ==
        proxy::PaymentJournal::latest_schema_version(store::Engine::postgresql));
  REQUIRE(session->execute("UPDATE x402_schema SET version = 99 WHERE component = 'journal'").ok());
  auto newer = proxy::PaymentJournal::open(postgres_store(url, "b"));
  REQUIRE_FALSE(newer.ok());
  CHECK_THAT(newer.error().message,
             Catch::Contains("version 99") && Catch::Contains("newer than this binary knows"));
}

TEST_CASE(
    "a database that goes away fails each call as unavailable and is used again when it "
    "returns",
    "[store][postgres]") {
  PostgresServer server;  // its own server: this test stops it
  const std::string url = server.fresh_database();
  auto journal = postgres_journal(postgres_store(url, "a"));
  auto first = journal->record_verified(sample_entry("k1"));
  REQUIRE(first.ok());
  server.stop();
  auto during = journal->record_verified(sample_entry("k2"));
  REQUIRE_FALSE(during.ok());
  CHECK(during.error().reason == "store.unavailable");
  auto lookup = journal->find(*first);
  REQUIRE_FALSE(lookup.ok());
  CHECK(lookup.error().reason == "store.unavailable");
  server.start();
  auto after = journal->record_verified(sample_entry("k3"));
  INFO((after.ok() ? std::string() : after.error().message));
  REQUIRE(after.ok());
  CHECK(journal->find(*first)->replay_key == "k1");
}
