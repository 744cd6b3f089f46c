// `x402-mcp-proxy probe`, the image's health check, run as the real binary against a real server.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/test_http_server.h"

namespace {

using namespace x402proxy::testing;

struct ProbeRun {
  std::optional<int> exit_status;
  std::string output;
};

ProbeRun probe(std::vector<std::string> arguments) {
  const std::string dir = make_temp_dir("probe");
  arguments.insert(arguments.begin(), {proxy_binary(), "probe"});
  ChildProcess child(arguments, dir + "/probe.log");
  REQUIRE(child.started());
  ProbeRun run;
  run.exit_status = child.wait_for_exit(std::chrono::seconds(15));
  run.output = child.output();
  return run;
}

}  // namespace

TEST_CASE("probe exits 0 when the health endpoint answers 200") {
  TestHttpServer server([](const RecordedRequest&) { return TestResponse{200, {}, "ok"}; });
  auto run = probe({server.url("/healthz")});
  INFO(run.output);
  CHECK(run.exit_status == 0);
  CHECK(run.output.find("200") != std::string::npos);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].target == "/healthz");
}

TEST_CASE("probe exits 1 and shows why when the endpoint answers 503") {
  TestHttpServer server([](const RecordedRequest&) {
    return TestResponse{503, {}, "upstream unreachable\nmore"};
  });
  auto run = probe({server.url("/readyz")});
  INFO(run.output);
  CHECK(run.exit_status == 1);
  CHECK(run.output.find("503 upstream unreachable") != std::string::npos);
}

TEST_CASE("probe exits 1 when nothing listens on the port") {
  TestHttpServer server([](const RecordedRequest&) { return TestResponse{}; });
  const std::string url = server.url("/healthz");
  server.stop_listening();
  auto run = probe({url});
  INFO(run.output);
  CHECK(run.exit_status == 1);
  CHECK_FALSE(run.output.empty());
}

TEST_CASE("probe gives up at its timeout when the endpoint does not answer") {
  TestHttpServer server([](const RecordedRequest&) {
    TestResponse slow{200, {}, "late"};
    slow.delay = std::chrono::seconds(5);
    return slow;
  });
  const auto started = std::chrono::steady_clock::now();
  auto run = probe({server.url("/healthz"), "--timeout", "300ms"});
  INFO(run.output);
  CHECK(run.exit_status == 1);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}

TEST_CASE("probe refuses what is not an http URL or a duration, with exit 2") {
  CHECK(probe({"https://127.0.0.1:8402/healthz"}).exit_status == 2);
  CHECK(probe({"127.0.0.1:8402/healthz"}).exit_status == 2);
  CHECK(probe({"http://127.0.0.1:8402/healthz", "--timeout", "soon"}).exit_status == 2);
  CHECK(probe({}).exit_status == 2);
}
