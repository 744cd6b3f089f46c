// Several serve replicas on one PostgreSQL store (issue 12): the real binary, twice, in front of
// one upstream and one facilitator, sharing one journal and one set of replay locks. Two copies
// of a payment at two replicas run once; a replica that crashed mid-settlement has its payment
// settled by another, once; a database that goes away fails priced calls closed while free ones
// pass, and serve recovers by itself when it returns.
#include <signal.h>

#include <thread>

#include "store/postgres_session.h"
#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"
#include "tests/support/serve_fixture.h"

using namespace x402proxy;
using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

// One upstream and one facilitator for every replica, so that runs and settlements are counted
// across them.
struct SharedPeers {
  TestHttpServer upstream{make_mcp_upstream()};
  FakeFacilitator facilitator;

  ServeOptionsForTest replica(const std::string& url, const std::string& name,
                              const std::string& lease = "3s") const {
    ServeOptionsForTest options;
    options.upstream_url = upstream.url("/mcp");
    options.facilitator_yaml =
        "facilitator: { url: " + facilitator.url() + ", verify_timeout: 2s, settle_timeout: 2s }\n";
    options.store_yaml = "store: { url: \"" + url + "\", replica: " + name + ", lease: " + lease +
                         ", connect_timeout: 1s, statement_timeout: 2s }\n";
    return options;
  }

  std::size_t tool_calls(const std::string& tool) const {
    std::size_t n = 0;
    for (const auto& r : upstream.requests())
      n += r.body.find("\"tools/call\"") != std::string::npos &&
           r.body.find("\"name\":\"" + tool + "\"") != std::string::npos;
    return n;
  }
};

struct Row {
  std::string state, owner, transaction;
};

std::vector<Row> rows_of(const std::string& url) {
  store::PostgresTarget target;
  target.url = url;
  store::PostgresSession session(target);
  auto rows = session.execute("SELECT state, owner, transaction_id FROM payments ORDER BY id");
  REQUIRE(rows.ok());
  std::vector<Row> out;
  for (const auto& row : rows->rows)
    out.push_back({row.text(0), row.text(1), row.text(2)});
  return out;
}

}  // namespace

TEST_CASE("two copies of one payment sent to two replicas at once run exactly once",
          "[serve][replicas][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  SharedPeers peers;
  ServeFixture a(peers.replica(url, "a"));
  ServeFixture b(peers.replica(url, "b"));
  auto offer = first_offer(result_of(mcp_post(a.port, tool_call("add"))));
  // A verify that takes a while keeps both copies in flight together.
  peers.facilitator.set_mode(FakeFacilitator::Mode::slow);
  peers.facilitator.set_slow_delay(std::chrono::milliseconds(300));
  for (int round = 0; round < 4; ++round) {
    const std::string body =
        tool_call("add", R"({"a":1,"b":2})", meta_with_payment(evm_payment(offer)), round + 1);
    HttpReply at_a, at_b;
    std::thread ta([&] { at_a = mcp_post(a.port, body); });
    std::thread tb([&] { at_b = mcp_post(b.port, body); });
    ta.join();
    tb.join();
    INFO("round " << round << "\na: " << at_a.body << "\nb: " << at_b.body);
    CHECK(at_a.status == 200);
    CHECK(at_b.status == 200);
    const bool a_paid = at_a.body.find("\"transaction\"") != std::string::npos &&
                        at_a.body.find("\"3\"") != std::string::npos;
    const bool b_paid = at_b.body.find("\"transaction\"") != std::string::npos &&
                        at_b.body.find("\"3\"") != std::string::npos;
    CHECK(a_paid != b_paid);  // one result, to one of them
    CHECK(peers.tool_calls("add") == static_cast<std::size_t>(round + 1));
  }
  CHECK(peers.facilitator.settle_calls() == 4);
  auto rows = rows_of(url);
  REQUIRE(rows.size() == 4);
  for (const auto& row : rows)
    CHECK(row.state == "settled");
}

TEST_CASE("a replica that crashed mid-settlement has its payment settled by another, once",
          "[serve][replicas][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  SharedPeers peers;
  ServeFixture a(peers.replica(url, "a"));
  ServeFixture b(peers.replica(url, "b"));
  auto offer = first_offer(result_of(mcp_post(a.port, tool_call("add"))));
  peers.facilitator.set_mode(FakeFacilitator::Mode::slow_settle);
  peers.facilitator.set_slow_delay(std::chrono::seconds(30));
  std::thread caller([&] {
    (void)mcp_post(a.port,
                   tool_call("add", R"({"a":1,"b":2})", meta_with_payment(evm_payment(offer))));
  });
  const bool in_settlement = eventually(
      [&] {
        auto rows = rows_of(url);
        return peers.tool_calls("add") == 1 && peers.facilitator.settle_calls() >= 1 &&
               rows.size() == 1 && rows[0].owner == "a" &&
               (rows[0].state == "settling" || rows[0].state == "settle_pending");
      },
      std::chrono::seconds(10));
  REQUIRE(in_settlement);
  REQUIRE(::kill(a.proxy->pid(), SIGKILL) == 0);
  CHECK(a.proxy->wait_for_exit(std::chrono::seconds(5)) == -SIGKILL);
  caller.join();
  peers.facilitator.set_mode(FakeFacilitator::Mode::valid);
  // b takes the row over once a's lease (3 s) has run out, and settles it.
  const bool settled = eventually(
      [&] {
        auto rows = rows_of(url);
        return rows.size() == 1 && rows[0].state == "settled";
      },
      std::chrono::seconds(20));
  INFO(b.proxy->output());
  REQUIRE(settled);
  auto rows = rows_of(url);
  CHECK(rows[0].owner == "b");
  CHECK(rows[0].transaction == FakeFacilitator::kTransaction);
  CHECK(peers.tool_calls("add") == 1);  // settled, never run again
}

TEST_CASE(
    "without its database serve refuses priced calls, passes free ones, is not ready, and "
    "recovers by itself",
    "[serve][replicas][postgres]") {
  PostgresServer server;  // this test stops it
  const std::string url = server.fresh_database();
  SharedPeers peers;
  ServeFixture serve(peers.replica(url, "a"));
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  server.stop();

  auto refused = mcp_post(
      serve.port, tool_call("add", R"({"a":1,"b":2})", meta_with_payment(evm_payment(offer))));
  INFO(refused.body);
  REQUIRE(refused.status == 200);
  auto message = json::parse(refused.body).as_object();
  REQUIRE(message.contains("error"));
  CHECK_THAT(std::string(message.at("error").at("message").as_string()),
             Catch::Contains("unavailable") && Catch::Contains("not run"));
  CHECK(peers.tool_calls("add") == 0);
  CHECK(peers.facilitator.verify_calls() == 0);

  auto free_call = result_of(mcp_post(serve.port, tool_call("echo", R"({"text":"still here"})")));
  CHECK(json::serialize(free_call).find("still here") != std::string::npos);

  auto ready = get(serve.port, "/readyz");
  CHECK(ready.status == 503);
  CHECK_THAT(ready.body, Catch::Contains("\"store\""));

  server.start();
  CHECK(eventually([&] { return get(serve.port, "/readyz").status == 200; },
                   std::chrono::seconds(10)));
  auto paid = result_of(mcp_post(
      serve.port, tool_call("add", R"({"a":2,"b":3})", meta_with_payment(evm_payment(offer)))));
  CHECK_FALSE(paid.contains("isError"));
  CHECK(peers.tool_calls("add") == 1);
  auto rows = rows_of(url);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
}

TEST_CASE("a call a lost replica had forwarded is settled by a running one, without a restart",
          "[serve][replicas][postgres]") {
  const std::string url = shared_postgres().fresh_database();
  SharedPeers peers;
  ServeFixture a(peers.replica(url, "a"));
  ServeFixture b(peers.replica(url, "b"));
  auto offer = first_offer(result_of(mcp_post(a.port, tool_call("slow_progress"))));
  // A slow tool: A is killed while the upstream still works on it (row "forwarded").
  std::thread caller([&] {
    (void)mcp_post(a.port, tool_call("slow_progress", R"({"steps":20,"interval_ms":500})",
                                     meta_with_payment(evm_payment(offer))));
  });
  const bool forwarded = eventually(
      [&] {
        auto rows = rows_of(url);
        return rows.size() == 1 && rows[0].state == "forwarded" && rows[0].owner == "a";
      },
      std::chrono::seconds(10));
  REQUIRE(forwarded);
  REQUIRE(::kill(a.proxy->pid(), SIGKILL) == 0);
  CHECK(a.proxy->wait_for_exit(std::chrono::seconds(5)) == -SIGKILL);
  caller.join();
  // b, running all along, takes the row over once a's lease is over: the call reached the tool,
  // so the payment covers the attempt and is settled, once.
  const bool settled = eventually(
      [&] {
        auto rows = rows_of(url);
        return rows.size() == 1 && rows[0].state == "settled";
      },
      std::chrono::seconds(20));
  INFO(b.proxy->output());
  REQUIRE(settled);
  CHECK(rows_of(url)[0].owner == "b");
  CHECK(peers.facilitator.settle_calls() == 1);
  CHECK(peers.tool_calls("slow_progress") == 1);
  CHECK_THAT(b.proxy->output(), Catch::Contains("left forwarded by a replica whose lease ran out"));
}
