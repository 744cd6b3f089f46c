#include "proxy/paywall/payment_record.h"

#include <spdlog/spdlog.h>

#include "x402/networks.h"

namespace x402proxy::proxy {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PaymentRecord::PaymentRecord(const ServeState& state, std::string replay_key,
                             const x402::PaymentRequirements& requirement)
    : state_(state), replay_key_(std::move(replay_key)), requirement_(requirement) {}

PaymentRecord::~PaymentRecord() {
  release_unused();
}

void PaymentRecord::release_unused() {
  // Refused before it was journaled (verification failed, the journal refused): nothing used it.
  if (locked_ && !finished_ && row_ == 0) {
    finished_ = true;
    state_.journal->store().post(
        [locks = state_.replay_locks, key = replay_key_] { locks->release(key); });
  }
}

boost::asio::awaitable<Result<bool>> PaymentRecord::lock() {
  auto locks = state_.replay_locks;
  const std::string key = replay_key_;
  auto work = [locks, key] { return locks->try_lock(key); };
  auto taken = co_await state_.journal->store().run(std::move(work));
  locked_ = taken.ok() && *taken;
  co_return taken;
}

boost::asio::awaitable<Status> PaymentRecord::open(const JournalEntry& entry) {
  auto work = [&entry](PaymentJournal& journal) { return journal.record_verified(entry); };
  auto row = co_await state_.journal->run(std::move(work));
  if (!row.ok()) {
    spdlog::error("payment journal: {}", row.error().message);
    co_return row.error();
  }
  row_ = *row;
  state_.metrics->count_payment("verified", x402::to_caip2(requirement_.network),
                                requirement_.asset);
  co_return ok_status();
}

boost::asio::awaitable<Status> PaymentRecord::forwarded() {
  const std::int64_t row = row_;
  auto work = [row](PaymentJournal& journal) { return journal.mark_forwarded(row); };
  auto marked = co_await state_.journal->run(std::move(work));
  if (!marked.ok())
    spdlog::error("payment journal: row {}: {}", row_, marked.error().message);
  co_return marked;
}

boost::asio::awaitable<Status> PaymentRecord::settling(const std::string& result_json) {
  const std::int64_t now = now_ms();
  const auto& settlement = state_.settlement->options();
  // The call settles it itself: the reconciler stays away until the call's wait is over.
  const std::int64_t leave_to_call =
      now + settlement.call_wait.count() + settlement.request_timeout.count();
  const std::int64_t expires =
      result_json.empty() ? 0 : now + state_.options.result_lifetime.count();
  const std::int64_t row = row_;
  auto work = [&result_json, row, expires, leave_to_call](PaymentJournal& journal) {
    return journal.mark_settling(row, result_json, expires, leave_to_call);
  };
  auto marked = co_await state_.journal->run(std::move(work));
  if (!marked.ok())
    spdlog::error("payment journal: row {}: {}", row_, marked.error().message);
  co_return marked;
}

boost::asio::awaitable<void> PaymentRecord::given_back(PaymentState state, const std::string& why) {
  finished_ = true;
  state_.metrics->count_payment(to_string(state), x402::to_caip2(requirement_.network),
                                requirement_.asset);
  const std::int64_t row = row_;
  auto locks = state_.replay_locks;
  const std::string key = replay_key_;
  // The row first, then the lock: a retry that takes the lock finds the row given back.
  auto work = [row, state, &why, locks, key](PaymentJournal& journal) {
    Status written = ok_status();
    if (row != 0)
      written = journal.update(row, state, {}, why);
    locks->release(key);
    return written;
  };
  if (auto s = co_await state_.journal->run(std::move(work)); !s.ok())
    spdlog::error("payment journal: row {}: {}", row_, s.error().message);
}

void PaymentRecord::keep_locked_until(std::int64_t valid_until_unix) {
  finished_ = true;
  state_.journal->store().post([locks = state_.replay_locks, key = replay_key_, valid_until_unix] {
    locks->keep_until(key, valid_until_unix);
  });
}

}  // namespace x402proxy::proxy
