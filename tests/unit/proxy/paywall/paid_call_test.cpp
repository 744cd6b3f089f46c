// The paid-call flow (proxy/paywall/paid_call.h) through its real seams, one outcome per test
// (compare Envoy's ext_authz_test.cc): the client on a connected socket pair, the embedded
// facilitator and its ledger (behind a stand-in only where the fault is the point: an outage, a
// refused or a pending settlement), a journal file that a trigger makes fail, and the test MCP
// upstream over HTTP. The black-box tests of the same outcomes run the real binary
// (tests/integration/proxy/serve_paywall_test.cpp).
#include "proxy/paywall/paid_call.h"

#include <sqlite3.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <functional>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "facilitator/embedded/embedded_facilitator.h"
#include "proxy/paywall/local_payment_check.h"
#include "proxy/settlement/ledger_prover.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/test_upstream.h"
#include "x402/codec.h"

using namespace x402proxy;
using namespace x402proxy::proxy;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using facilitator::FacilitatorError;
using facilitator::FailureKind;

namespace {

x402::PaymentRequirements base_sepolia_usdc() {
  x402::PaymentRequirements requirements;
  requirements.scheme = "exact";
  requirements.network = "eip155:84532";
  requirements.amount = "1000";
  requirements.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  requirements.pay_to = testing::kPayTo;
  requirements.max_timeout_seconds = 300;
  requirements.extra = json::object{{"name", "USDC"}, {"version", "2"}};
  requirements.has_extra = true;
  return requirements;
}

ToolOffer add_offer() {
  ToolOffer offer;
  offer.tool = "add";
  offer.usd = "$0.001";
  offer.accepts = {base_sepolia_usdc()};
  return offer;
}

// The embedded facilitator, or a scripted fault in front of it: verify unavailable, settle
// refused with a reason that proves nothing moved, or settle unknown (a timeout after the
// request left) a number of times before the embedded one answers.
class FaultyFacilitator final : public facilitator::Facilitator {
 public:
  explicit FaultyFacilitator(std::shared_ptr<facilitator::EmbeddedFacilitator> real)
      : real_(std::move(real)) {}
  bool verify_unavailable = false;
  bool settle_refused = false;
  int settle_unknown = 0;  // this many settle calls time out first
  int settle_calls = 0;
  // The first settle lands at once but its answer takes this long (a slow confirmation).
  std::chrono::milliseconds first_settle_answer_delay{0};

  asio::awaitable<facilitator::FacilitatorResult<x402::VerifyResponse>> verify(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& required) override {
    if (verify_unavailable) {
      co_return FacilitatorError{FailureKind::unreachable, "http.not_sent", "connection refused"};
    }
    co_return co_await real_->verify(payment, required);
  }
  asio::awaitable<facilitator::FacilitatorResult<x402::SettleResponse>> settle(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& required,
      std::chrono::steady_clock::time_point deadline) override {
    if (++settle_calls == 1 && first_settle_answer_delay.count() > 0) {
      auto landed = co_await real_->settle(payment, required, deadline);
      asio::steady_timer slow(co_await asio::this_coro::executor, first_settle_answer_delay);
      co_await slow.async_wait(asio::use_awaitable);
      co_return landed;
    }
    if (settle_refused) {
      co_return FacilitatorError{FailureKind::payment_rejected, "insufficient_funds",
                                 "the payer's balance is too low"};
    }
    if (settle_unknown > 0) {
      --settle_unknown;
      co_return FacilitatorError{FailureKind::timeout, "http.timeout", "no answer in time"};
    }
    co_return co_await real_->settle(payment, required, deadline);
  }
  asio::awaitable<facilitator::FacilitatorResult<x402::SupportedResponse>> supported() override {
    co_return co_await real_->supported();
  }

 private:
  std::shared_ptr<facilitator::EmbeddedFacilitator> real_;
};

// A file in the temp directory, removed with its WAL files at the end.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() /
              (name + "-" + std::to_string(::getpid()) + ".sqlite"))
                 .string()) {
    remove();
  }
  ~TempFile() { remove(); }
  void remove() const {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
  }
};

struct Answer {
  unsigned status = 0;
  json::object message;
  bool has_result() const { return message.contains("result"); }
  const json::object& result() const { return message.at("result").as_object(); }
  std::string text() const {
    if (!has_result())
      return "";
    const auto& content = result().at("content").as_array();
    return content.empty() ? "" : std::string(content.at(0).at("text").as_string());
  }
};

class PaidCallRig {
 public:
  explicit PaidCallRig(x402::Amount starting_balance = 1'000'000)
      : ledger_file_("paid-call-ledger"), journal_file_("paid-call-journal") {
    facilitator::EmbeddedOptions embedded;
    embedded.ledger_path = ledger_file_.path;
    embedded.starting_balance = starting_balance;
    auto created = facilitator::EmbeddedFacilitator::create(embedded);
    REQUIRE(created.ok());
    embedded_ = *created;
    facilitator_ = std::make_shared<FaultyFacilitator>(embedded_);
    auto journal = PaymentJournal::open(journal_file_.path);
    REQUIRE(journal.ok());
    state_.journal = std::move(journal).value();
    state_.facilitator = facilitator_;
    state_.local_check = make_local_check(std::chrono::seconds(5));
    state_.replay_locks = std::make_shared<MemoryReplayLocks>(std::make_shared<ReplayGuard>());
    SettlementOptions settlement;
    settlement.call_wait = std::chrono::milliseconds(300);
    settlement.first_retry = std::chrono::milliseconds(50);
    settlement.max_retry = std::chrono::milliseconds(100);
    state_.settlement = std::make_shared<SettlementService>(
        context_.get_executor(), state_.facilitator, state_.journal, state_.metrics, settlement,
        std::make_shared<LedgerProver>(embedded_));
    state_.options.redeem_wait = std::chrono::seconds(2);
    use_upstream(upstream_.url("/mcp"));
  }

  void use_upstream(const std::string& url) {
    auto endpoint = parse_upstream_url(url);
    REQUIRE(endpoint.ok());
    state_.upstream =
        std::make_shared<UpstreamPool>(context_.get_executor(), *endpoint, std::chrono::seconds(2));
  }

  // Sends one tools/call of "add" carrying `payment` through a PaidCall over a socket pair and
  // returns what the client read.
  Answer call(const json::object& payment, const std::string& tool = "add") {
    return calls({{payment, tool, std::chrono::milliseconds(0)}}).at(0);
  }

  struct Sent {
    json::object payment;
    std::string tool = "add";
    std::chrono::milliseconds after{0};  // sent this long after the first
  };
  // Sends the calls concurrently, each on its own connection through its own PaidCall (as serve
  // runs them), and returns what each client read, in order. `outcomes` holds each call's.
  std::vector<Answer> calls(const std::vector<Sent>& sent) {
    struct Connection {
      asio::ip::tcp::socket client;
      std::optional<beast::tcp_stream> server;
      PaidCall::Request request;
      std::optional<mcp::McpPost> post;
      ToolOffer offer;
      std::optional<PaidCall> paid;
      explicit Connection(asio::io_context& context) : client(context) {}
    };
    asio::ip::tcp::acceptor acceptor(context_, {asio::ip::make_address("127.0.0.1"), 0});
    std::vector<std::unique_ptr<Connection>> connections;
    std::size_t done = 0;
    for (const auto& one : sent) {
      auto connection = std::make_unique<Connection>(context_);
      connection->client.connect(acceptor.local_endpoint());
      connection->server.emplace(acceptor.accept());
      const json::object arguments =
          one.tool == "echo" ? json::object{{"text", "hi"}} : json::object{{"a", 2}, {"b", 3}};
      const std::string body = json::serialize(json::object{
          {"jsonrpc", "2.0"},
          {"id", 7},
          {"method", "tools/call"},
          {"params", json::object{{"name", one.tool},
                                  {"arguments", arguments},
                                  {"_meta", json::object{{"x402/payment", one.payment}}}}}});
      auto& request = connection->request;
      request = PaidCall::Request{http::verb::post, "/mcp", 11};
      request.set(http::field::host, "127.0.0.1");
      request.set(http::field::content_type, "application/json");
      request.set(http::field::accept, "application/json, text/event-stream");
      request.body() = body;
      request.prepare_payload();
      auto post = mcp::inspect_mcp_post(body);
      REQUIRE(post.ok());
      connection->post = std::move(post).value();
      connection->offer = add_offer();
      connection->offer.tool = one.tool;
      connection->paid.emplace(state_, *connection->server, connection->request, *connection->post,
                               connection->offer);
      asio::co_spawn(
          context_,
          [&, c = connection.get(), after = one.after]() -> asio::awaitable<void> {
            asio::steady_timer wait(context_, after);
            co_await wait.async_wait(asio::use_awaitable);
            co_await c->paid->run();
            ++done;
          },
          asio::detached);
      connections.push_back(std::move(connection));
    }
    context_.run();
    context_.restart();
    REQUIRE(done == sent.size());
    std::vector<Answer> answers;
    outcomes.clear();
    for (auto& connection : connections) {
      outcomes.push_back(connection->paid->record().outcome);
      connection->server->socket().shutdown(asio::ip::tcp::socket::shutdown_send);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      http::read(connection->client, buffer, response);
      Answer answer;
      answer.status = response.result_int();
      answer.message = json::parse(response.body()).as_object();
      answers.push_back(std::move(answer));
    }
    outcome = outcomes.empty() ? "" : outcomes.front();
    return answers;
  }

  json::object payment() const {
    return testing::evm_payment(x402::to_json(base_sepolia_usdc(), 2));
  }

  std::vector<JournalEntry> journal_rows() {
    std::vector<JournalEntry> rows;
    for (std::int64_t id = 1;; ++id) {
      auto row = state_.journal->find(id);
      if (!row.ok())
        return rows;
      rows.push_back(*row);
    }
  }

  // Every later write of a payment fails: a trigger on the journal's table, as a full disk
  // would refuse the INSERT.
  void break_journal_writes() {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(journal_file_.path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TRIGGER journal_full BEFORE INSERT ON payments"
                         " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }

  std::size_t upstream_calls() const { return upstream_.tool_calls("add"); }
  x402::Amount payee_balance() {
    auto balance =
        embedded_->ledger().balance("eip155:84532", base_sepolia_usdc().asset, testing::kPayTo);
    REQUIRE(balance.ok());
    return *balance;
  }
  // Settlements the embedded ledger booked: money that moved.
  std::size_t transfers() {
    auto booked = embedded_->ledger().transfers();
    REQUIRE(booked.ok());
    return booked->size();
  }
  FaultyFacilitator& facilitator() { return *facilitator_; }
  PaymentJournal& journal() { return *state_.journal; }
  // Runs `action` on the rig's I/O thread `after` the next calls start.
  void at(std::chrono::milliseconds after, std::function<void()> action) {
    asio::co_spawn(
        context_,
        [this, after, action = std::move(action)]() -> asio::awaitable<void> {
          asio::steady_timer wait(context_, after);
          co_await wait.async_wait(asio::use_awaitable);
          action();
        },
        asio::detached);
  }

  std::string outcome;                // the (first) call's outcome
  std::vector<std::string> outcomes;  // every call's, in order

 private:
  TempFile ledger_file_;
  TempFile journal_file_;
  testing::TestUpstream upstream_;
  asio::io_context context_;
  ServeState state_;
  std::shared_ptr<facilitator::EmbeddedFacilitator> embedded_;
  std::shared_ptr<FaultyFacilitator> facilitator_;
};

}  // namespace

TEST_CASE("paid call: a verified payment runs the tool, settles and answers with the receipt",
          "[paid_call]") {
  PaidCallRig rig;
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  REQUIRE(answer.has_result());
  CHECK_FALSE(answer.result().contains("isError"));
  CHECK(answer.text() == "5");
  CHECK(answer.result().at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(rig.outcome == "paid");
  CHECK(rig.upstream_calls() == 1);
  CHECK(rig.payee_balance() == 1000);
  CHECK(rig.transfers() == 1);
  auto rows = rig.journal_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == PaymentState::settled);
  CHECK(rows[0].delivered_ms != 0);
}

TEST_CASE("paid call: a payment the facilitator refuses at verify gets the offer, nothing runs",
          "[paid_call]") {
  PaidCallRig rig(0);  // the payer holds nothing in the embedded ledger
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  REQUIRE(answer.has_result());
  CHECK(answer.result().at("isError").as_bool());
  CHECK(answer.result().at("structuredContent").at("accepts").as_array().size() == 1);
  CHECK_THAT(std::string(answer.result().at("structuredContent").at("error").as_string()),
             Catch::Contains("invalid_exact_evm_insufficient_balance"));
  CHECK(rig.upstream_calls() == 0);
  CHECK(rig.journal_rows().empty());
}

TEST_CASE("paid call: a facilitator that cannot be reached at verify stops the call",
          "[paid_call]") {
  PaidCallRig rig;
  rig.facilitator().verify_unavailable = true;
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  REQUIRE(answer.message.contains("error"));
  CHECK(answer.message.at("error").at("code") == mcp::rpc_code::facilitator_unavailable);
  CHECK(rig.outcome == "facilitator_unavailable");
  CHECK(rig.upstream_calls() == 0);
  CHECK(rig.facilitator().settle_calls == 0);
  CHECK(rig.journal_rows().empty());
}

TEST_CASE("paid call: a journal that cannot record the payment means it is not forwarded",
          "[paid_call]") {
  PaidCallRig rig;
  rig.break_journal_writes();
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  REQUIRE(answer.message.contains("error"));
  CHECK(answer.message.at("error").at("code") == mcp::rpc_code::internal_error);
  CHECK_THAT(std::string(answer.message.at("error").at("message").as_string()),
             Catch::Contains("payment journal unavailable"));
  CHECK(rig.upstream_calls() == 0);
  CHECK(rig.facilitator().settle_calls == 0);
  CHECK(rig.transfers() == 0);
}

TEST_CASE("paid call: an upstream that cannot be reached is not charged", "[paid_call]") {
  PaidCallRig rig;
  rig.use_upstream("http://127.0.0.1:1/mcp");  // nothing listens on port 1
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  REQUIRE(answer.message.contains("error"));
  CHECK(answer.message.at("error").at("code") == mcp::rpc_code::upstream_unavailable);
  CHECK(rig.facilitator().settle_calls == 0);
  CHECK(rig.transfers() == 0);
  auto rows = rig.journal_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == PaymentState::upstream_failed);
}

TEST_CASE("paid call: a refused settlement withholds the tool's content", "[paid_call]") {
  PaidCallRig rig;
  rig.facilitator().settle_refused = true;
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  REQUIRE(answer.has_result());
  CHECK(answer.result().at("isError").as_bool());
  CHECK(json::serialize(answer.message).find("\"5\"") == std::string::npos);
  const auto& receipt = answer.result().at("_meta").at("x402/payment-response");
  CHECK_FALSE(receipt.at("success").as_bool());
  CHECK(rig.outcome == "settle_failed");
  CHECK(rig.transfers() == 0);
  CHECK(rig.upstream_calls() == 1);  // the tool ran: the payment covered the attempt
  auto rows = rig.journal_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == PaymentState::settle_failed);
}

TEST_CASE("paid call: a pending settlement keeps the result, and the same payment redeems it",
          "[paid_call]") {
  PaidCallRig rig;
  rig.facilitator().settle_unknown = 100;  // every settle within the call's wait times out
  const auto payment = rig.payment();
  auto pending = rig.call(payment);
  INFO(json::serialize(pending.message));
  REQUIRE(pending.has_result());
  CHECK(pending.result().at("isError").as_bool());
  CHECK_THAT(pending.text(), Catch::Contains("settlement pending"));
  CHECK(json::serialize(pending.message).find("\"5\"") == std::string::npos);
  auto rows = rig.journal_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == PaymentState::settle_pending);
  CHECK_FALSE(rows[0].result_json.empty());  // kept for the buyer

  // The facilitator answers again: the buyer's retry with the same payment gets the kept
  // result, and the tool does not run a second time.
  rig.facilitator().settle_unknown = 0;
  auto redeemed = rig.call(payment);
  INFO(json::serialize(redeemed.message));
  REQUIRE(redeemed.has_result());
  CHECK_FALSE(redeemed.result().contains("isError"));
  CHECK(redeemed.text() == "5");
  CHECK(redeemed.result().at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(rig.outcome == "redeemed");
  CHECK(rig.upstream_calls() == 1);
  CHECK(rig.transfers() == 1);
  CHECK(rig.payee_balance() == 1000);
  rows = rig.journal_rows();
  CHECK(rows[0].state == PaymentState::settled);
  CHECK(rows[0].delivered_ms != 0);
}

TEST_CASE("paid call: a retry while the call settles waits its turn, one result, one run",
          "[paid_call]") {
  PaidCallRig rig;
  // The call's settlement lands but its answer is slow; the buyer retries the same payment
  // meanwhile. The call owns the settlement, so the retry is told to come back (pending, no
  // offer) and the call delivers the result. The tool ran once and one payment moved.
  rig.facilitator().first_settle_answer_delay = std::chrono::milliseconds(250);
  const auto payment = rig.payment();
  auto answers = rig.calls({{payment, "add", std::chrono::milliseconds(0)},
                            {payment, "add", std::chrono::milliseconds(100)}});
  INFO(json::serialize(answers[0].message) << "\n" << json::serialize(answers[1].message));
  CHECK(rig.outcomes == std::vector<std::string>{"paid", "settle_pending"});
  CHECK(answers[0].text() == "5");
  REQUIRE(answers[1].has_result());
  CHECK(answers[1].result().at("isError").as_bool());
  CHECK_FALSE(answers[1].message.contains("error"));
  CHECK(json::serialize(answers[1].message).find("accepts") == std::string::npos);
  CHECK(rig.upstream_calls() == 1);
  CHECK(rig.transfers() == 1);
  auto rows = rig.journal_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == PaymentState::settled);
  CHECK(rows[0].delivered_ms != 0);
  CHECK(rows[0].result_json.empty());

  // Back later with the same payment: the result was delivered, so the payment is spent.
  auto later = rig.call(payment);
  CHECK(rig.outcome == "payment_spent");
  CHECK(later.text() != "5");
}

TEST_CASE("paid call: a result another server already delivered is not delivered again",
          "[paid_call]") {
  PaidCallRig rig;
  // While the call's settle answer is on its way, another replica on the same journal redeems
  // the payment (it proved the settlement on chain) and claims the kept result's delivery. The
  // call then answers "payment already used" instead of a second copy.
  rig.facilitator().first_settle_answer_delay = std::chrono::milliseconds(250);
  rig.at(std::chrono::milliseconds(100), [&] {
    auto claimed = rig.journal().claim_delivery(1);
    REQUIRE(claimed.ok());
    CHECK(*claimed);
  });
  auto answer = rig.call(rig.payment());
  INFO(json::serialize(answer.message));
  CHECK(rig.outcome == "payment_spent");
  CHECK(answer.text() != "5");
  CHECK_THAT(json::serialize(answer.message), Catch::Contains("already"));
  CHECK(rig.upstream_calls() == 1);
  CHECK(rig.transfers() == 1);
}

TEST_CASE("paid call: a payment that bought one tool does not buy another at the same price",
          "[paid_call]") {
  PaidCallRig rig;
  rig.facilitator().settle_unknown = 100;  // pending: the row keeps the payment open
  const auto payment = rig.payment();
  auto pending = rig.call(payment, "add");
  REQUIRE(pending.has_result());
  CHECK(rig.outcome == "settle_pending");
  rig.facilitator().settle_unknown = 0;

  auto other = rig.call(payment, "echo");
  INFO(json::serialize(other.message));
  CHECK(rig.outcome == "payment_rejected");
  CHECK_THAT(json::serialize(other.message),
             Catch::Contains("payment already used for another tool"));
  CHECK(rig.upstream_calls() == 1);
  CHECK(rig.transfers() == 0);
}
