// Crash recovery: serve killed with SIGKILL in the middle of a paid call, restarted on the same
// journal, settles what the previous run had forwarded (DESIGN, paywall pipeline step 7).
#include <signal.h>
#include <sqlite3.h>

#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/journal_reader.h"
#include "tests/support/journal_v1.h"
#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

// serve on a config, journal and facilitator that outlive one run of the binary, so that a test
// can kill it and start it again on the same files.
struct RestartableServe {
  RestartableServe() : upstream(make_mcp_upstream()), dir(make_temp_dir("serve-recovery")) {
    std::ofstream(dir + "/proxy.yaml")
        << "listen: 127.0.0.1:0\n"
        << "upstream: { url: " << upstream.url("/mcp") << " }\n"
        << "facilitator: { url: " << facilitator.url()
        << ", verify_timeout: 2s, settle_timeout: 30s }\n"
        << "pay_to: { eip155: \"" << kPayTo << "\" }\n"
        << "accept: [ { network: base-sepolia, asset: USDC } ]\n"
        << kPricedTools << "journal: " << journal_path() << "\n"
        << "body_limit: 64KiB\nread_timeout: 1s\nthreads: 2\nlog_level: warn\n";
  }

  std::string journal_path() const { return dir + "/payments.sqlite"; }
  std::string log_path(int run) const { return dir + "/proxy-" + std::to_string(run) + ".log"; }

  void start() {
    ++runs;
    proxy = std::make_unique<ChildProcess>(
        std::vector<std::string>{proxy_binary(), "serve", "--config", dir + "/proxy.yaml"},
        log_path(runs));
    auto line = proxy->wait_for_line("listening on", std::chrono::seconds(10));
    INFO(proxy->output());
    REQUIRE(line);
    port = port_from_listening_line(*line);
  }

  // A crash: no shutdown handler runs, nothing is flushed but what SQLite already committed.
  void kill_hard() {
    REQUIRE(::kill(proxy->pid(), SIGKILL) == 0);
    CHECK(proxy->wait_for_exit(std::chrono::seconds(5)) == -SIGKILL);
  }

  std::size_t upstream_tool_calls(const std::string& tool) const {
    std::size_t n = 0;
    for (const auto& r : upstream.requests()) {
      n += r.body.find("\"tools/call\"") != std::string::npos &&
           r.body.find("\"name\":\"" + tool + "\"") != std::string::npos;
    }
    return n;
  }

  TestHttpServer upstream;
  FakeFacilitator facilitator;
  std::string dir;
  std::unique_ptr<ChildProcess> proxy;
  unsigned short port = 0;
  int runs = 0;
};

}  // namespace

TEST_CASE("a payment forwarded before a crash is settled when serve starts again",
          "[serve][recovery]") {
  RestartableServe serve;
  serve.start();
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));

  // Settlement hangs: serve is killed after the upstream answered and settle was asked, before
  // the facilitator's answer (the window in which only the journal knows the payment is owed and
  // keeps the tool's result).
  serve.facilitator.set_mode(FakeFacilitator::Mode::slow_settle);
  serve.facilitator.set_slow_delay(std::chrono::seconds(25));
  HttpReply interrupted;
  std::thread caller([&] {
    interrupted = mcp_post(
        serve.port, tool_call("add", R"({"a":1,"b":2})", meta_with_payment(evm_payment(offer))));
  });
  const bool in_settlement = eventually(
      [&] {
        auto rows = journal_rows(serve.journal_path());
        return serve.upstream_tool_calls("add") == 1 && serve.facilitator.settle_calls() == 1 &&
               rows.size() == 1 && rows[0].state == "settling";
      },
      std::chrono::seconds(10));
  if (in_settlement)
    serve.kill_hard();
  else
    serve.proxy->terminate();
  caller.join();
  INFO(serve.proxy->output());
  REQUIRE(in_settlement);
  CHECK(interrupted.status == 0);  // the client never got an answer

  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  serve.start();  // recovery runs before the listener: done once "listening on" is printed
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].transaction == FakeFacilitator::kTransaction);
  CHECK(serve.facilitator.settle_calls() == 2);
  CHECK(serve.upstream_tool_calls("add") == 1);  // recovery settles; it never calls the tool again
  const std::string log = serve.proxy->output();
  CHECK_THAT(log, Catch::Contains("payment journal recovery: row 1 for tool add") &&
                      Catch::Contains("settled, transaction " +
                                      std::string(FakeFacilitator::kTransaction)));
  CHECK_THAT(
      log, Catch::Contains("1 settled, 0 settlement failed, 0 abandoned, 0 pending, 0 left open"));

  // The restarted serve takes new paid calls as before.
  auto paid = result_of(mcp_post(
      serve.port, tool_call("add", R"({"a":2,"b":2})", meta_with_payment(evm_payment(offer)))));
  CHECK_FALSE(paid.contains("isError"));
}

TEST_CASE("an older journal is migrated, a payment never forwarded is abandoned, not settled",
          "[serve][recovery]") {
  RestartableServe serve;
  {
    // A journal as the first version wrote it (no settlement data), left by a crashed run with
    // one payment verified but not forwarded and one forwarded.
    const char* rows =
        "INSERT INTO payments (created_ms, updated_ms, tool, network, asset, amount, pay_to,"
        " payer, replay_key, state) VALUES"
        " (1, 1, 'add', 'eip155:84532', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', '1000',"
        " '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', "
        "'0x70997970C51812dc3A010C7d01b50e0d17dc79C8',"
        " 'key-1', 'verified'),"
        " (2, 2, 'add', 'eip155:84532', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', '1000',"
        " '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', "
        "'0x70997970C51812dc3A010C7d01b50e0d17dc79C8',"
        " 'key-2', 'forwarded');";
    REQUIRE(write_v1_journal(serve.journal_path(), rows) == "");
  }
  serve.start();
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].state == "abandoned");
  CHECK(rows[1].state == "forwarded");  // no payment data to settle with: a person decides
  CHECK(serve.facilitator.settle_calls() == 0);
  const std::string log = serve.proxy->output();
  CHECK_THAT(log, Catch::Contains("row 1 for tool add") && Catch::Contains("abandoned"));
  CHECK_THAT(log, Catch::Contains("row 2 for tool add") &&
                      Catch::Contains("check its settlement by hand"));
  CHECK_THAT(
      log, Catch::Contains("0 settled, 0 settlement failed, 1 abandoned, 0 pending, 1 left open"));
}
