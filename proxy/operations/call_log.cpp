#include "proxy/operations/call_log.h"

#include <array>
#include <string_view>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

namespace x402proxy::proxy {

namespace {

double milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

constexpr std::array<std::string_view, 24> kMcpMethods = {"initialize",
                                                          "ping",
                                                          "tools/list",
                                                          "tools/call",
                                                          "resources/list",
                                                          "resources/read",
                                                          "resources/templates/list",
                                                          "resources/subscribe",
                                                          "resources/unsubscribe",
                                                          "prompts/list",
                                                          "prompts/get",
                                                          "completion/complete",
                                                          "logging/setLevel",
                                                          "server/discover",
                                                          "tasks/get",
                                                          "tasks/list",
                                                          "tasks/cancel",
                                                          "tasks/result",
                                                          "notifications/initialized",
                                                          "notifications/cancelled",
                                                          "notifications/progress",
                                                          "notifications/roots/list_changed",
                                                          "roots/list",
                                                          "sampling/createMessage"};

}  // namespace

void log_call(const CallRecord& record, std::chrono::steady_clock::duration total) {
  spdlog::info(
      "call id={} tool={} price={} payer={} outcome={} verify_ms={:.2f} settle_ms={:.2f} "
      "total_ms={:.2f}",
      boost::json::serialize(record.id), record.tool, record.price,
      record.payer.empty() ? "-" : record.payer, record.outcome, milliseconds(record.verify_time),
      milliseconds(record.settle_time), milliseconds(total));
}

std::string metric_method_label(const mcp::McpMessage& message) {
  if (message.kind == mcp::McpMessage::Kind::response)
    return "(response)";
  for (std::string_view known : kMcpMethods) {
    if (message.method == known)
      return std::string(known);
  }
  return "(other)";
}

}  // namespace x402proxy::proxy
