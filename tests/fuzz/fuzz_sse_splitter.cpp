// net/sse_splitter.h: an event stream arrives in whatever pieces TCP makes of it. Property: the
// same bytes fed in arbitrary pieces give the same events (raw bytes and data) and the same
// remainder as fed whole, and the events and remainder put back together are the stream.
// Overflow: with a small limit, overflow is reported only when an unfinished event really grew
// past it.
//
// Input layout: byte 0 is the number n of piece sizes (0-15) that follow it; each of those bytes
// is a piece size (0 meaning 1..256 wraps to 256); the rest is the stream, cut into pieces of
// those sizes in turn.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "net/sse_splitter.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using x402proxy::net::SseEvent;
using x402proxy::net::SseSplitter;

struct Split {
  std::vector<SseEvent> events;
  std::string remainder;
  bool overflow = false;
};

// Feeds `stream` in the given piece sizes (all of it at once when there are none), taking every
// complete event after each piece, as the relay does.
Split split(std::string_view stream, const std::vector<std::size_t>& pieces,
            std::size_t max_event_bytes) {
  SseSplitter splitter(max_event_bytes);
  Split out;
  std::size_t at = 0;
  std::size_t next_piece = 0;
  while (at < stream.size()) {
    std::size_t size = pieces.empty() ? stream.size() : pieces[next_piece++ % pieces.size()];
    size = std::min(size, stream.size() - at);
    splitter.feed(stream.substr(at, size));
    at += size;
    while (auto event = splitter.next())
      out.events.push_back(std::move(*event));
    if (splitter.overflow()) {
      // The caller fails the stream here; nothing more is fed.
      FUZZ_CHECK(splitter.remainder().size() > max_event_bytes);
      out.overflow = true;
      break;
    }
  }
  out.remainder = std::string(splitter.remainder());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = x402proxy::fuzz::as_text(data, size);
  std::vector<std::size_t> pieces;
  if (!input.empty()) {
    const std::size_t count = static_cast<unsigned char>(input[0]) % 16;
    input.remove_prefix(1);
    for (std::size_t i = 0; i < count && !input.empty(); ++i) {
      const std::size_t piece = static_cast<unsigned char>(input[0]);
      pieces.push_back(piece == 0 ? 256 : piece);
      input.remove_prefix(1);
    }
  }
  const std::string_view stream = input;
  constexpr std::size_t kNoLimit = static_cast<std::size_t>(-1);

  const Split whole = split(stream, {}, kNoLimit);
  const Split pieced = split(stream, pieces, kNoLimit);
  const Split bytewise = split(stream, {1}, kNoLimit);
  FUZZ_CHECK(!whole.overflow && !pieced.overflow && !bytewise.overflow);

  std::string rebuilt;
  for (const auto& event : whole.events) {
    FUZZ_CHECK(!event.raw.empty());
    FUZZ_CHECK(event.raw.back() == '\n' || event.raw.back() == '\r');
    FUZZ_CHECK(event.data.size() <= event.raw.size());
    rebuilt += event.raw;
  }
  rebuilt += whole.remainder;
  FUZZ_CHECK(rebuilt == stream);

  for (const Split* other : {&pieced, &bytewise}) {
    FUZZ_CHECK(other->events.size() == whole.events.size());
    for (std::size_t i = 0; i < whole.events.size(); ++i) {
      FUZZ_CHECK(other->events[i].raw == whole.events[i].raw);
      FUZZ_CHECK(other->events[i].data == whole.events[i].data);
    }
    FUZZ_CHECK(other->remainder == whole.remainder);
  }

  // With a limit, the events before an overflow are the same ones, in order.
  const std::size_t limit = 64;
  const Split limited = split(stream, pieces, limit);
  FUZZ_CHECK(limited.events.size() <= whole.events.size());
  for (std::size_t i = 0; i < limited.events.size(); ++i)
    FUZZ_CHECK(limited.events[i].raw == whole.events[i].raw);
  if (!limited.overflow)
    FUZZ_CHECK(limited.events.size() == whole.events.size());
  return 0;
}
