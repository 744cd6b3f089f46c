#include "net/sse_splitter.h"

#include <catch2/catch.hpp>

using x402proxy::net::SseSplitter;

TEST_CASE("events are released as soon as their blank line arrives", "[sse]") {
  SseSplitter splitter(1024);
  splitter.feed("event: message\ndata: {\"a\":");
  CHECK_FALSE(splitter.next());
  splitter.feed("1}\n\ndata: second");
  auto first = splitter.next();
  REQUIRE(first);
  CHECK(first->raw == "event: message\ndata: {\"a\":1}\n\n");
  CHECK(first->data == "{\"a\":1}");
  CHECK_FALSE(splitter.next());
  CHECK(splitter.remainder() == "data: second");
}

TEST_CASE("CRLF and CR line endings and multi-line data are understood", "[sse]") {
  SseSplitter splitter(1024);
  splitter.feed("id: 4\r\ndata: a\r\ndata:b\r\n\r\ndata: c\r\r");
  auto first = splitter.next();
  REQUIRE(first);
  CHECK(first->data == "a\nb");
  CHECK_FALSE(splitter.next());  // the final CR may still be followed by a LF
  splitter.feed("data: d");
  auto second = splitter.next();
  REQUIRE(second);
  CHECK(second->data == "c");
}

TEST_CASE("a CR at the end of the input waits for a possible LF", "[sse]") {
  SseSplitter splitter(1024);
  splitter.feed("data: x\r\n\r");
  CHECK_FALSE(splitter.next());
  splitter.feed("\n");
  auto event = splitter.next();
  REQUIRE(event);
  CHECK(event->raw == "data: x\r\n\r\n");
}

TEST_CASE("an event that never ends past the limit is reported as overflow", "[sse]") {
  SseSplitter splitter(16);
  splitter.feed("data: 0123456789abcdefghij");
  CHECK_FALSE(splitter.next());
  CHECK(splitter.overflow());
}
