// Stores and journals on the test process's PostgreSQL server, one fresh database per test.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "proxy/settlement/payment_journal.h"
#include "store/store.h"
#include "tests/support/postgres_server.h"

namespace x402proxy::testing {

inline std::shared_ptr<store::Store> postgres_store(
    const std::string& url, const std::string& replica,
    std::chrono::milliseconds lease = std::chrono::seconds(30)) {
  store::StoreLocation location;
  location.engine = store::Engine::postgresql;
  location.postgres.url = url;
  location.postgres.connect_timeout_seconds = 2;
  location.pool_size = 4;
  location.replica = replica;
  location.lease = lease;
  auto opened = store::Store::open(location);
  REQUIRE(opened.ok());
  return *opened;
}

inline std::shared_ptr<proxy::PaymentJournal> postgres_journal(
    std::shared_ptr<store::Store> store) {
  auto journal = proxy::PaymentJournal::open(std::move(store));
  INFO((journal.ok() ? std::string() : journal.error().message));
  REQUIRE(journal.ok());
  return std::move(journal).value();
}

inline proxy::JournalEntry sample_entry(
    const std::string& replay_key = "evm:eip155:84532:0xab:0x01") {
  proxy::JournalEntry entry;
  entry.tool = "add";
  entry.network = "eip155:84532";
  entry.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  entry.amount = "1000";
  entry.pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  entry.payer = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
  entry.replay_key = replay_key;
  entry.payment_json = R"({"x402Version":2})";
  entry.requirements_json = R"({"scheme":"exact"})";
  entry.valid_until = 4102444800;
  return entry;
}

}  // namespace x402proxy::testing
