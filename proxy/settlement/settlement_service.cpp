// The settlement service: settle within a call's wait, reconcile what stays unknown, recover at
// start-up. About 450 lines in one file because all three share the claim on a row (only one
// attempt per payment at a time) and the one place an answer is concluded and journaled.
#include "proxy/settlement/settlement_service.h"

#include <algorithm>
#include <ctime>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "net/spawn.h"
#include "x402/codec.h"
#include "x402/networks.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using facilitator::Settlement;
using facilitator::SettlementOutcome;

namespace {

std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* metric_state(PaymentState state) {
  return to_string(state);
}

}  // namespace

Result<SettlementJob> settlement_job_from(const JournalEntry& entry) {
  if (entry.payment_json.empty() || entry.requirements_json.empty()) {
    return make_error("journal.no_payment",
                      "written by an older version that did not keep the payment");
  }
  boost::system::error_code ec;
  boost::json::value payment_json = boost::json::parse(entry.payment_json, ec);
  if (ec)
    return make_error("journal.payment_json", "the stored payment is not JSON: " + ec.message());
  auto payment = x402::payment_payload_from_json(payment_json);
  if (!payment.ok())
    return make_error("journal.payment_json", "the stored payment: " + payment.error().message);
  boost::json::value requirements_json = boost::json::parse(entry.requirements_json, ec);
  if (ec) {
    return make_error("journal.requirements_json",
                      "the stored requirement is not JSON: " + ec.message());
  }
  // Stored in the payment's version form, as the facilitator was called (v1: maxAmountRequired).
  auto requirements = x402::requirements_from_json(requirements_json, payment->x402_version);
  if (!requirements.ok()) {
    return make_error("journal.requirements_json",
                      "the stored requirement: " + requirements.error().message);
  }
  SettlementJob job;
  job.row = entry.id;
  job.payment = std::move(payment).value();
  job.requirements = std::move(requirements).value();
  job.valid_until = entry.valid_until;
  job.may_have_landed = entry.settle_sent || entry.state == PaymentState::settling;
  job.attempts = entry.attempts;
  job.replay_key = entry.replay_key;
  job.credit_account = entry.credit_account;
  return job;
}

struct SettlementService::Attempt {
  using Channel =
      asio::experimental::concurrent_channel<void(boost::system::error_code, Settlement)>;
  explicit Attempt(asio::any_io_executor executor) : channel(std::move(executor), 1) {}
  Channel channel;
};

SettlementService::SettlementService(asio::any_io_executor executor,
                                     std::shared_ptr<facilitator::Facilitator> facilitator,
                                     std::shared_ptr<PaymentJournal> journal,
                                     std::shared_ptr<ServeMetrics> metrics,
                                     SettlementOptions options,
                                     std::shared_ptr<SettlementProver> prover)
    : executor_(std::move(executor)),
      facilitator_(std::move(facilitator)),
      journal_(std::move(journal)),
      metrics_(std::move(metrics)),
      options_(options),
      prover_(std::move(prover)) {}

bool SettlementService::claim(std::int64_t row) {
  std::lock_guard lock(mutex_);
  return in_flight_.insert(row).second;
}

void SettlementService::unclaim(std::int64_t row) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(row);
}

std::int64_t SettlementService::next_attempt_ms(int attempts) const {
  auto delay = options_.first_retry;
  for (int i = 1; i < attempts && delay < options_.max_retry; ++i)
    delay *= 2;
  return now_ms() + std::min(delay, options_.max_retry).count();
}

asio::awaitable<void> SettlementService::record(const SettlementJob& job,
                                                const Settlement& settlement, PaymentState state,
                                                std::int64_t next_attempt) {
  SettlementRecord entry;
  entry.state = state;
  entry.transaction = settlement.transaction;
  entry.detail = settlement.detail();
  entry.sent = settlement.sent;
  entry.next_attempt_ms = next_attempt;
  const std::int64_t row = job.row;
  auto write = [row, &entry](PaymentJournal& journal) {
    return journal.record_settlement(row, entry);
  };
  if (auto s = co_await journal_->run(std::move(write)); !s.ok()) {
    // The outcome is still known to the caller; the row stays open and is tried again.
    spdlog::error("payment journal: row {}: cannot record {}: {}", job.row, to_string(state),
                  s.error().message);
  }
  const auto& network = job.requirements.network;
  const auto& asset = job.requirements.asset;
  metrics_->count_payment(metric_state(state), x402::to_caip2(network), asset);
  if (state == PaymentState::settled) {
    metrics_->add_revenue(x402::to_caip2(network), asset, job.requirements.amount);
    if (!job.credit_account.empty() && on_credit_settled)
      on_credit_settled(job);
  }
}

asio::awaitable<Settlement> SettlementService::conclude(
    const SettlementJob& job, facilitator::FacilitatorResult<x402::SettleResponse> answer) {
  Settlement settlement = facilitator::classify_settlement(answer, job.may_have_landed);
  PaymentState state = PaymentState::settle_pending;
  std::int64_t next = next_attempt_ms(job.attempts + 1);
  if (settlement.outcome == SettlementOutcome::settled) {
    state = PaymentState::settled;
    next = 0;
    spdlog::info("settlement: row {} settled, transaction {}", job.row, settlement.transaction);
  } else if (settlement.outcome == SettlementOutcome::refused) {
    state = PaymentState::settle_failed;
    next = 0;
    spdlog::warn("settlement: row {} refused: {}", job.row, settlement.detail());
  } else if (job.valid_until != 0 && unix_now() > job.valid_until + options_.expiry_grace.count()) {
    // The authorization cannot settle any more. Never having reached a facilitator proves that
    // nothing moved; otherwise nothing is proven either way.
    next = 0;
    if (!job.may_have_landed && !settlement.sent) {
      state = PaymentState::settle_failed;
      settlement.outcome = SettlementOutcome::refused;
      settlement.reason = "authorization_expired_unsent";
      settlement.message =
          "the authorization expired and no settle request ever reached a "
          "facilitator";
    } else {
      state = PaymentState::settle_unproven;
      // Final: nothing more will be tried (the reason tells the waiter so).
      settlement.message = settlement.detail();
      settlement.reason = "settlement_unproven";
      settlement.unproven = true;
      spdlog::error(
          "settlement: row {} could not be proven either way before its authorization expired "
          "(last answer: {}; transactions named: {}); check it on chain",
          job.row, settlement.message,
          settlement.transaction.empty() ? "none" : settlement.transaction);
    }
  } else {
    spdlog::warn("settlement: row {} outcome unknown ({}); reconciling", job.row,
                 settlement.detail());
  }
  co_await record(job, settlement, state, next);
  co_return settlement;
}

asio::awaitable<std::optional<Settlement>> SettlementService::attempt(const SettlementJob& job,
                                                                      Clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  auto shared = std::make_shared<Attempt>(executor_);
  auto self = shared_from_this();
  // The request runs as its own task to its own budget: a waiter that stops waiting must not
  // cancel a settle that may still move the money; the task records what the answer was.
  net::spawn_logged(
      executor_,
      [self, job, shared]() -> asio::awaitable<void> {
        const auto started = Clock::now();
        auto answer = co_await self->facilitator_->settle(job.payment, job.requirements,
                                                          started + self->options_.request_timeout);
        self->metrics_->settle_latency.observe(Clock::now() - started);
        Settlement settlement = co_await self->conclude(job, std::move(answer));
        self->unclaim(job.row);
        shared->channel.try_send(boost::system::error_code{}, std::move(settlement));
      },
      "settle attempt");
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto which = co_await (shared->channel.async_receive(asio::use_awaitable) ||
                         timer.async_wait(asio::use_awaitable));
  if (which.index() == 0)
    co_return std::get<0>(std::move(which));
  co_return std::nullopt;
}

asio::awaitable<Settlement> SettlementService::settle(SettlementJob job,
                                                      std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  Settlement last;
  last.reason = "settlement_pending";
  last.message = "no answer from the facilitator within the settle timeout";
  for (;;) {
    if (!claim(job.row)) {
      // Another attempt for this row is running (the reconciler): it records its answer.
      co_return last;
    }
    auto got = co_await attempt(job, deadline);
    if (!got)
      co_return last;  // still running; it records its answer when it comes
    last = std::move(*got);
    ++job.attempts;
    job.may_have_landed = job.may_have_landed || last.sent;
    if (last.outcome != SettlementOutcome::unknown || last.unproven)
      co_return last;
    if (auto proven = co_await prove(job, last.sent))
      co_return std::move(*proven);
    auto backoff = options_.first_retry;
    for (int i = 1; i < job.attempts && backoff < options_.max_retry; ++i)
      backoff *= 2;
    if (Clock::now() + backoff >= deadline)
      co_return last;
    asio::steady_timer pause(co_await asio::this_coro::executor, backoff);
    boost::system::error_code ignored;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

asio::awaitable<std::optional<Settlement>> SettlementService::prove(const SettlementJob& job,
                                                                    bool sent) {
  if (!prover_ || !prover_->covers(job.requirements.network))
    co_return std::nullopt;
  const std::int64_t row = job.row;
  auto look = [row](PaymentJournal& journal) { return journal.find(row); };
  auto entry = co_await journal_->run(std::move(look));
  if (!entry.ok() || !claim(job.row))
    co_return std::nullopt;
  auto proof = co_await prover_->prove(*entry, job.payment, job.requirements);
  unclaim(job.row);
  if (proof.kind != ChainProof::Kind::settled && proof.kind != ChainProof::Kind::refused)
    co_return std::nullopt;
  const bool settled = proof.kind == ChainProof::Kind::settled;
  Settlement proven;
  proven.outcome = settled ? SettlementOutcome::settled : SettlementOutcome::refused;
  proven.transaction = proof.transaction;
  proven.reason = settled ? "settled" : proof.reason;
  proven.message = "proven on chain";
  proven.sent = sent;
  spdlog::info("settlement: row {} {} on chain{}{}", job.row,
               settled ? "proven settled" : "proven refused",
               proof.transaction.empty() ? "" : ", transaction ", proof.transaction);
  co_await record(job, proven, settled ? PaymentState::settled : PaymentState::settle_failed, 0);
  co_return proven;
}

asio::awaitable<Settlement> SettlementService::reconcile_job(SettlementJob job,
                                                             Clock::time_point deadline) {
  if (auto proven = co_await prove(job, job.may_have_landed))
    co_return std::move(*proven);
  Settlement last;
  last.reason = "settlement_pending";
  if (!claim(job.row))
    co_return last;
  auto got = co_await attempt(job, deadline);
  if (got)
    last = std::move(*got);
  co_return last;
}

asio::awaitable<Result<JournalEntry>> SettlementService::reconcile(std::int64_t row,
                                                                   std::chrono::milliseconds wait) {
  auto look = [row](PaymentJournal& journal) { return journal.find(row); };
  auto entry = co_await journal_->run(look);
  if (!entry.ok())
    co_return entry.error();
  if (!settlement_open(entry->state) || entry->state == PaymentState::verified)
    co_return entry;
  auto job = settlement_job_from(*entry);
  if (!job.ok())
    co_return entry;
  if (entry->state == PaymentState::forwarded)
    co_return entry;  // a call in progress in this process settles it itself
  (void)co_await reconcile_job(std::move(job).value(), Clock::now() + wait);
  co_return co_await journal_->run(std::move(look));
}

asio::awaitable<SettlementService::RecoveryReport> SettlementService::recover(
    std::chrono::milliseconds budget, bool orphans_only) {
  RecoveryReport report;
  const auto deadline = Clock::now() + budget;
  // This replica's open rows and those whose owner's lease ran out (every open row of a SQLite
  // file), claimed so that no other replica acts on them while this one does. While running,
  // only the other replicas' orphans: this one's own open rows belong to its calls in flight.
  const std::int64_t started_ms = now_ms();
  auto take = [started_ms, orphans_only](PaymentJournal& journal) {
    return orphans_only ? journal.claim_orphaned_payments(started_ms)
                        : journal.claim_open_payments(started_ms);
  };
  auto open = co_await journal_->run(std::move(take));
  if (!open.ok()) {
    spdlog::error("payment journal recovery: cannot read the open payments: {}",
                  open.error().message);
    co_return report;
  }
  const char* left_by = orphans_only ? "a replica whose lease ran out" : "a previous run";
  auto log_row = [left_by](const JournalEntry& entry, const std::string& outcome) {
    spdlog::warn(
        "payment journal recovery: row {} for tool {} ({} {} on {}, payer {}) was left {} by {}: "
        "{}",
        entry.id, entry.tool, entry.amount, entry.asset, entry.network, entry.payer,
        to_string(entry.state), left_by, outcome);
  };
  for (const JournalEntry& entry : *open) {
    if (entry.state == PaymentState::verified) {
      // "forwarded" is written only once the request is going onto an upstream connection, so
      // this call never reached the tool: nothing was delivered, nothing is charged.
      const std::int64_t id = entry.id;
      auto abandon = [id](PaymentJournal& journal) {
        return journal.update(id, PaymentState::abandoned, {},
                              "abandoned at start-up: the call never reached the upstream");
      };
      if ((co_await journal_->run(std::move(abandon))).ok()) {
        ++report.abandoned;
        metrics_->count_payment("abandoned", x402::to_caip2(entry.network), entry.asset);
        log_row(entry, "abandoned, not settled (the call never reached the upstream)");
      } else {
        ++report.left_open;
      }
      continue;
    }
    auto job = settlement_job_from(entry);
    if (!job.ok()) {
      ++report.left_open;
      log_row(entry, "left open: " + job.error().message + "; check its settlement by hand");
      continue;
    }
    if (entry.state == PaymentState::forwarded) {
      // The call reached the tool and the run died before settling: the payment covers the
      // attempt. Its result died with the run; a buyer retrying with this payment is served by
      // running the call again (paywall redemption), never charged a second time.
      const std::int64_t id = entry.id;
      auto settling = [id](PaymentJournal& journal) { return journal.mark_settling(id, {}, 0); };
      (void)co_await journal_->run(std::move(settling));
    }
    const auto wait = std::max<Clock::duration>(deadline - Clock::now(), Clock::duration::zero());
    Settlement settlement = co_await reconcile_job(
        std::move(job).value(),
        Clock::now() + std::chrono::duration_cast<std::chrono::milliseconds>(wait));
    switch (settlement.outcome) {
      case SettlementOutcome::settled:
        ++report.settled;
        log_row(entry, "settled, transaction " + settlement.transaction);
        break;
      case SettlementOutcome::refused:
        ++report.settle_failed;
        log_row(entry, "settlement refused: " + settlement.detail());
        break;
      case SettlementOutcome::unknown:
        ++report.pending;
        log_row(entry, "outcome not known yet (" + settlement.detail() + "); reconciling");
        break;
    }
  }
  if (open->empty() && orphans_only)
    co_return report;
  if (open->empty()) {
    spdlog::debug("payment journal recovery: no open payments");
  } else {
    spdlog::warn(
        "payment journal recovery: {} open payments from a previous run: {} settled, {} "
        "settlement failed, {} abandoned, {} pending, {} left open for a manual check",
        open->size(), report.settled, report.settle_failed, report.abandoned, report.pending,
        report.left_open);
  }
  co_return report;
}

void SettlementService::start() {
  timer_ = std::make_shared<asio::steady_timer>(executor_);
  net::spawn_logged(executor_, run_reconciler(), "settlement reconciler");
}

void SettlementService::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (timer_)
    timer_->cancel();
}

asio::awaitable<void> SettlementService::run_reconciler() {
  auto self = shared_from_this();
  auto timer = timer_;
  std::int64_t last_expiry = 0;
  std::int64_t last_renewal = 0;
  std::int64_t last_takeover = 0;
  for (;;) {
    timer->expires_after(options_.tick);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    {
      std::lock_guard lock(mutex_);
      if (stopped_)
        co_return;
    }
    const std::int64_t now = now_ms();
    auto claim_due = [now](PaymentJournal& journal) { return journal.due_settlements(now); };
    auto due = co_await journal_->run(std::move(claim_due));
    if (!due.ok()) {
      spdlog::error("settlement reconciler: cannot read the journal: {}", due.error().message);
      continue;
    }
    for (const JournalEntry& entry : *due) {
      {
        std::lock_guard lock(mutex_);
        if (in_flight_.count(entry.id) != 0)
          continue;
      }
      auto job = settlement_job_from(entry);
      if (!job.ok())
        continue;
      if (entry.state == PaymentState::forwarded)
        continue;  // a call in progress settles it itself (recovery handled the crashed ones)
      // Each row as its own task, so a slow facilitator answer never holds up the others.
      net::spawn_logged(
          executor_,
          [self, job = std::move(job).value()]() mutable -> asio::awaitable<void> {
            co_await self->reconcile_job(std::move(job),
                                         Clock::now() + self->options_.request_timeout);
          },
          "settlement reconcile");
    }
    // Several replicas: this one's claims (open rows, in-flight replay locks) are renewed well
    // before they run out, so that no other replica takes over a row this one still acts on.
    const auto& store = journal_->store();
    if (!store.single_replica() && now - last_renewal >= store.location().lease.count() / 3) {
      last_renewal = now;
      auto renew = [now, maintain = renew_claims](PaymentJournal& journal) {
        auto renewed = journal.renew_leases(now);
        if (maintain)
          maintain();
        return renewed;
      };
      if (auto renewed = co_await journal_->run(std::move(renew)); !renewed.ok())
        spdlog::error("payment journal: cannot renew this replica's leases: {}",
                      renewed.error().message);
    }
    // Open rows a lost replica left (verified, forwarded, settling, pending) are taken over as
    // a restart would recover them: settled when the call reached the tool, abandoned when not.
    if (!store.single_replica() && now - last_takeover >= store.location().lease.count()) {
      last_takeover = now;
      (void)co_await recover(options_.tick * 5, true);
    }
    // Kept results have a bounded lifetime.
    if (now - last_expiry > 60'000) {
      last_expiry = now;
      auto expire = [now](PaymentJournal& journal) { return journal.expire_results(now); };
      if (auto expired = co_await journal_->run(std::move(expire)); expired.ok() && *expired > 0)
        spdlog::info("payment journal: dropped {} kept result(s) past their lifetime", *expired);
    }
  }
}

}  // namespace x402proxy::proxy
