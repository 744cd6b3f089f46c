#include "net/sse_splitter.h"

namespace x402proxy::net {
namespace {

// Finds the end of the first event: the first empty line, with any SSE line terminator (CRLF, LF,
// CR). Returns the index one past that empty line's terminator, or npos when none has arrived yet.
std::size_t event_end(std::string_view text) {
  std::size_t line_start = 0;
  while (true) {
    std::size_t eol = text.find_first_of("\r\n", line_start);
    if (eol == std::string_view::npos)
      return std::string_view::npos;
    std::size_t terminator = 1;
    if (text[eol] == '\r') {
      if (eol + 1 == text.size())
        return std::string_view::npos;  // a LF may still follow the CR
      if (text[eol + 1] == '\n')
        terminator = 2;
    }
    if (eol == line_start)
      return eol + terminator;  // an empty line ends the event
    line_start = eol + terminator;
  }
}

std::string collect_data(std::string_view event) {
  std::string data;
  bool first = true;
  while (!event.empty()) {
    std::size_t eol = event.find_first_of("\r\n");
    std::string_view line = event.substr(0, eol);
    if (eol == std::string_view::npos) {
      event = {};
    } else {
      std::size_t skip =
          (event[eol] == '\r' && eol + 1 < event.size() && event[eol + 1] == '\n') ? 2 : 1;
      event.remove_prefix(eol + skip);
    }
    if (line.starts_with("data")) {
      std::string_view value = line.substr(4);
      if (!value.empty() && value.front() != ':')
        continue;  // a field named "data…", not "data"
      if (!value.empty())
        value.remove_prefix(1);
      if (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      if (!first)
        data.push_back('\n');
      data.append(value);
      first = false;
    }
  }
  return data;
}

}  // namespace

std::optional<SseEvent> SseSplitter::next() {
  std::size_t end = event_end(pending_);
  if (end == std::string_view::npos) {
    if (pending_.size() > max_event_bytes_)
      overflow_ = true;
    return std::nullopt;
  }
  SseEvent event;
  event.raw = pending_.substr(0, end);
  pending_.erase(0, end);
  event.data = collect_data(event.raw);
  return event;
}

}  // namespace x402proxy::net
