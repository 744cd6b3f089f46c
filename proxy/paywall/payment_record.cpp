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
    state_.replay_guard->release(replay_key_);
  }
}

bool PaymentRecord::lock() {
  locked_ = state_.replay_guard->try_reserve(replay_key_, ReplayGuard::Clock::now());
  return locked_;
}

Status PaymentRecord::open(const JournalEntry& entry) {
  auto row = state_.journal->record_verified(entry);
  if (!row.ok()) {
    spdlog::error("payment journal: {}", row.error().message);
    return row.error();
  }
  row_ = *row;
  state_.metrics->count_payment("verified", x402::to_caip2(requirement_.network),
                                requirement_.asset);
  return ok_status();
}

Status PaymentRecord::forwarded() {
  auto marked = state_.journal->mark_forwarded(row_);
  if (!marked.ok())
    spdlog::error("payment journal: row {}: {}", row_, marked.error().message);
  return marked;
}

Status PaymentRecord::settling(const std::string& result_json) {
  const std::int64_t now = now_ms();
  const auto& settlement = state_.settlement->options();
  // The call settles it itself: the reconciler stays away until the call's wait is over.
  const std::int64_t leave_to_call =
      now + settlement.call_wait.count() + settlement.request_timeout.count();
  auto marked = state_.journal->mark_settling(
      row_, result_json, result_json.empty() ? 0 : now + state_.options.result_lifetime.count(),
      leave_to_call);
  if (!marked.ok())
    spdlog::error("payment journal: row {}: {}", row_, marked.error().message);
  return marked;
}

void PaymentRecord::given_back(PaymentState state, const std::string& why) {
  finished_ = true;
  state_.replay_guard->release(replay_key_);
  state_.metrics->count_payment(to_string(state), x402::to_caip2(requirement_.network),
                                requirement_.asset);
  if (row_ == 0)
    return;
  if (auto s = state_.journal->update(row_, state, {}, why); !s.ok())
    spdlog::error("payment journal: row {}: {}", row_, s.error().message);
}

void PaymentRecord::keep_locked_until(std::int64_t valid_until_unix) {
  finished_ = true;
  const auto left = std::chrono::seconds(
      std::max<std::int64_t>(valid_until_unix - static_cast<std::int64_t>(std::time(nullptr)), 0) +
      1);
  state_.replay_guard->mark_consumed(replay_key_, ReplayGuard::Clock::now() + left);
}

}  // namespace x402proxy::proxy
