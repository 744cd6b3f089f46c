#include "proxy/operations/json_log_format.h"

#include <chrono>
#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace x402proxy::proxy {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

}  // namespace

void JsonLineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto since_epoch = msg.time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = seconds.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[80];  // room for any int the format could print (GCC checks it)
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  const auto level = spdlog::level::to_string_view(msg.level);
  append(dest, "{\"time\":\"");
  append(dest, stamp);
  append(dest, "\",\"level\":\"");
  append(dest, std::string_view(level.data(), level.size()));
  append(dest, "\",\"logger\":");
  append(dest, boost::json::serialize(boost::json::string(
                   std::string_view(msg.logger_name.data(), msg.logger_name.size()))));
  append(dest, ",\"msg\":");
  append(dest, boost::json::serialize(
                   boost::json::string(std::string_view(msg.payload.data(), msg.payload.size()))));
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonLineFormatter::clone() const {
  return std::make_unique<JsonLineFormatter>();
}

void use_json_log_lines() {
  spdlog::set_formatter(std::make_unique<JsonLineFormatter>());
}

}  // namespace x402proxy::proxy
