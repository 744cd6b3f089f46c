// Splits a text/event-stream body into events as bytes arrive, so the paywall can pass each event
// on at once and hold only the final JSON-RPC response of a paid call (Streamable HTTP:
// notifications may precede the final response on the same stream).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace x402proxy::net {

struct SseEvent {
  std::string raw;   // the event's bytes exactly as received, including its blank-line terminator
  std::string data;  // the "data:" lines joined with '\n' (SSE spec §9.2.6)
};

class SseSplitter {
 public:
  explicit SseSplitter(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  void feed(std::string_view bytes) { pending_.append(bytes); }

  // The next complete event, if one has arrived. Sets overflow() when an event grows past the
  // limit without ending (the caller then fails the stream rather than buffer without bound).
  std::optional<SseEvent> next();

  bool overflow() const { return overflow_; }
  // Bytes received after the last complete event (a stream that ends here was cut mid-event).
  std::string_view remainder() const { return pending_; }

 private:
  std::size_t max_event_bytes_;
  std::string pending_;
  bool overflow_ = false;
};

}  // namespace x402proxy::net
