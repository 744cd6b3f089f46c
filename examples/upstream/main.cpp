// An example upstream MCP server for the demo and for trying `x402-mcp-proxy serve` by hand:
// Streamable HTTP on http://127.0.0.1:PORT/mcp, with a free-looking tool (echo) and tools worth
// pricing (add, weather), plus the test tools of tests/support/mcp_upstream.h (slow_progress
// streams progress events, fail returns an error result, input_needed asks for input).
//   usage: example-upstream [PORT [ADDRESS]]   (default 3001 on 127.0.0.1; port 0 picks a free
//   one; ADDRESS 0.0.0.0 serves other hosts, as a Kubernetes Service needs)
// It prints "example upstream MCP server listening on ADDRESS:PORT" on stderr when ready and
// runs until SIGINT or SIGTERM.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "tests/support/test_upstream.h"

namespace {

bool parse_port(const char* text, unsigned short& port) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 0 || value > 65535)
    return false;
  port = static_cast<unsigned short>(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 3001;
  if (argc > 3 || (argc >= 2 && !parse_port(argv[1], port))) {
    std::fprintf(stderr, "usage: %s [PORT [ADDRESS]]\n", argv[0]);
    return 2;
  }
  const std::string address = argc == 3 ? argv[2] : "127.0.0.1";
  // Block the stop signals in every thread (the server's thread inherits the mask), then wait for
  // one of them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    x402proxy::testing::TestUpstreamOptions options;
    options.port = port;
    options.address = address;
    options.progress_interval = std::chrono::milliseconds(500);
    x402proxy::testing::TestUpstream upstream(options);
    upstream.server().set_recording(false);
    std::fprintf(stderr, "example upstream MCP server listening on %s:%u\n", address.c_str(),
                 static_cast<unsigned>(upstream.port()));
    std::fprintf(stderr, "tools: echo (free), add and weather (priced in the example config)\n");
    int received = 0;
    sigwait(&stop_signals, &received);
    std::fprintf(stderr, "stopping on signal %d\n", received);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example upstream: %s\n", e.what());
    return 1;
  }
  return 0;
}
