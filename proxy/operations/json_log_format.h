// `--log-format json`: every log line as one JSON object ({"time", "level", "logger", "msg"}), so
// log shippers need no parsing rules. The message is escaped as a JSON string; nothing else about
// the message changes (the call lines keep their key=value pairs inside "msg").
#pragma once

#include <memory>

#include <spdlog/formatter.h>

namespace x402proxy::proxy {

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Switches every logger (and those created later) to JSON lines.
void use_json_log_lines();

}  // namespace x402proxy::proxy
