// `x402-mcp-proxy probe URL [--timeout 2s]`: a health check for container HEALTHCHECK and
// Kubernetes exec probes, where slim images have no curl. GETs the URL (http only: a probe talks to
// the proxy's own loopback port) and exits 0 on a 2xx answer, 1 on any other answer or failure,
// 2 on bad arguments; the status or the error goes to stderr.
#pragma once

#include <string>

namespace x402proxy::app {
int run_probe_command(const std::string& url, const std::string& timeout_text);
}
