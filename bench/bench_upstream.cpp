// A fast stand-in upstream for the free-call benchmark: answers every POST with a small JSON-RPC
// result, so the figures measure the proxy rather than a Node.js server.
//   usage: bench_upstream PORT_FILE   (writes its port there, runs until killed)
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/support/test_http_server.h"

int main(int argc, char** argv) {
  using namespace x402proxy::testing;
  TestHttpServer server([](const RecordedRequest&) {
    return TestResponse{
        200,
        {{"Content-Type", "application/json"}},
        R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}})"};
  });
  std::ofstream(argc > 1 ? argv[1] : "/dev/stdout") << server.port() << "\n";
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int received = 0;
  sigwait(&signals, &received);
  return 0;
}
