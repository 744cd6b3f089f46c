#include "x402/strict_json.h"

#include <string>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

namespace {

using x402proxy::x402::parse_strict_json;

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

}  // namespace

TEST_CASE("strict JSON builds the same DOM as Boost.JSON for valid input", "[strict_json]") {
  const std::string text =
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add",)"
      R"("arguments":{"a":1.5,"b":-3,"big":18446744073709551615,"list":[true,false,null,"s\n"]}}})";
  auto parsed = parse_strict_json(text);
  REQUIRE(parsed.ok());
  CHECK(*parsed == boost::json::parse(text));
  CHECK(boost::json::serialize(*parsed) == boost::json::serialize(boost::json::parse(text)));
}

TEST_CASE("a repeated top-level key is refused", "[strict_json]") {
  auto parsed = parse_strict_json(R"({"method":"tools/list","method":"tools/call"})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().reason == "json.duplicate_key");
  CHECK(parsed.error().message == R"(duplicate key "method" in the top-level object)");
}

TEST_CASE("a repeated key inside params is refused and the path is named", "[strict_json]") {
  auto parsed = parse_strict_json(
      R"({"jsonrpc":"2.0","params":{"name":"free_tool","arguments":{},"name":"priced_tool"}})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().reason == "json.duplicate_key");
  CHECK(parsed.error().message == R"(duplicate key "name" in params)");
}

TEST_CASE("a repeated key deep inside arrays names keys and indices", "[strict_json]") {
  auto parsed =
      parse_strict_json(R"({"params":{"arguments":{"list":[{"k":1},{"j":0,"k":1,"k":2}]}}})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == R"(duplicate key "k" in params.arguments.list[1])");

  auto in_top_array = parse_strict_json(R"([1,[2,{"x":1,"x":1}]])");
  REQUIRE_FALSE(in_top_array.ok());
  CHECK(in_top_array.error().message == R"(duplicate key "x" in [1][1])");
}

TEST_CASE("keys are compared after unescaping", "[strict_json]") {
  auto parsed = parse_strict_json(R"({"name":1,"n\u0061me":2})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().reason == "json.duplicate_key");
  CHECK(parsed.error().message == R"(duplicate key "name" in the top-level object)");

  auto slash = parse_strict_json(R"({"a/b":1,"a\/b":2})");
  REQUIRE_FALSE(slash.ok());
  CHECK(slash.error().reason == "json.duplicate_key");
}

TEST_CASE("equal keys in different objects are allowed", "[strict_json]") {
  auto parsed = parse_strict_json(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"a":3}})");
  REQUIRE(parsed.ok());
  CHECK(parsed->at("c").at("a") == 3);
}

TEST_CASE("a duplicate among many keys is found through the hash index", "[strict_json]") {
  std::string text = "{";
  for (int i = 0; i < 2000; ++i)
    text += "\"key" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string distinct = text;
  distinct.back() = '}';
  auto ok = parse_strict_json(distinct);
  REQUIRE(ok.ok());
  CHECK(ok->as_object().size() == 2000);

  text += R"("key3":0})";
  auto parsed = parse_strict_json(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == R"(duplicate key "key3" in the top-level object)");
}

TEST_CASE("long escaped keys delivered in parts are still compared whole", "[strict_json]") {
  // An escape forces the parser's key buffer; 10000 bytes overflow it, so the key arrives in parts.
  std::string long_key(10000, 'k');
  long_key += "\\u0041";
  const std::string text = "{\"" + long_key + "\":1,\"other\":2,\"" + long_key + "\":3}";
  auto parsed = parse_strict_json(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().reason == "json.duplicate_key");
  // The message shows only the first 64 bytes of a long key.
  CHECK(parsed.error().message.find(std::string(64, 'k') + "...\"") != std::string::npos);
  CHECK(parsed.error().message.size() < 120);

  // Escape first: the parser flushes its buffer several times within the key.
  const std::string escape_first = "\\u0041" + std::string(10000, 'k');
  auto parts = parse_strict_json("{\"" + escape_first + "\":1,\"" + escape_first + "\":2}");
  REQUIRE_FALSE(parts.ok());
  CHECK(parts.error().message.rfind("duplicate key \"Akkk", 0) == 0);
  auto after_parts = parse_strict_json("{\"x\":1,\"" + escape_first + "\":2,\"x\":3}");
  REQUIRE_FALSE(after_parts.ok());
  CHECK(after_parts.error().message == R"(duplicate key "x" in the top-level object)");

  const std::string distinct = "{\"" + long_key + "\":1,\"" + long_key + "B\":3}";
  auto ok = parse_strict_json(distinct);
  REQUIRE(ok.ok());
  CHECK(ok->as_object().size() == 2);
}

TEST_CASE("unprintable key bytes are escaped in the message", "[strict_json]") {
  auto parsed = parse_strict_json("{\"a\\n\\u0000\":1,\"a\\n\\u0000\":2}");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == R"(duplicate key "a\x0a\x00" in the top-level object)");
}

TEST_CASE("a large document parses and a late duplicate is still caught", "[strict_json]") {
  std::string text = "[";
  for (int i = 0; i < 50000; ++i) {
    text += R"({"id":)" + std::to_string(i) + R"(,"name":"tool","args":{"x":[1,2,3]}},)";
  }
  text += R"({"id":1}])";
  auto parsed = parse_strict_json(text);
  REQUIRE(parsed.ok());
  CHECK(parsed->as_array().size() == 50001);

  text.insert(text.size() - 2, R"(,"id":2)");
  auto duplicate = parse_strict_json(text);
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.error().message == R"(duplicate key "id" in [50000])");
}

TEST_CASE("syntax errors report the byte offset", "[strict_json]") {
  struct Case {
    std::string text;
    std::size_t offset;
  };
  const Case cases[] = {
      {R"({"a":1,})", 7},       // trailing comma
      {R"({"a":1} x)", 8},      // extra data
      {R"({"a":tru})", 8},      // bad literal
      {"// c\n{}", 0},          // comment
      {"", 0},                  // empty input
      {R"({"a":)", 5},          // incomplete: the fault is the end of input
      {"{\"a\":\"\x01\"}", 6},  // raw control character in a string
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto parsed = parse_strict_json(c.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "json.syntax");
    CHECK(parsed.error().message.rfind("invalid JSON at byte " + std::to_string(c.offset) + ": ",
                                       0) == 0);
  }
}

TEST_CASE("a syntax error far into a large text is located exactly", "[strict_json]") {
  std::string text = "[";
  for (int i = 0; i < 3000; ++i)
    text += "12345,";
  const std::size_t bad = text.size();
  text += "?]";
  auto parsed = parse_strict_json(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.rfind("invalid JSON at byte " + std::to_string(bad) + ":", 0) == 0);
}

TEST_CASE("invalid UTF-8 is refused", "[strict_json]") {
  for (const std::string& text : {std::string("{\"a\":\"\xff\"}"), std::string("{\"\xc3\":1}"),
                                  std::string("[\"\xed\xa0\x80\"]"),  // encoded surrogate
                                  std::string("[\"\xc0\xaf\"]")}) {   // overlong '/'
    auto parsed = parse_strict_json(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "json.syntax");
  }
  auto valid = parse_strict_json("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
  CHECK(valid.ok());
}

TEST_CASE("nesting is limited to max_depth", "[strict_json]") {
  CHECK(parse_strict_json(nested_arrays(64)).ok());
  auto too_deep = parse_strict_json(nested_arrays(65));
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.error().reason == "json.too_deep");

  CHECK(parse_strict_json(nested_arrays(3), 3).ok());
  auto objects = parse_strict_json(R"({"a":{"b":{"c":{}}}})", 3);
  REQUIRE_FALSE(objects.ok());
  CHECK(objects.error().reason == "json.too_deep");
}

TEST_CASE("the DOM can be allocated from a caller's memory resource", "[strict_json]") {
  boost::json::monotonic_resource arena;
  auto parsed = parse_strict_json(R"({"a":[1,2,{"b":"c"}]})", 64, &arena);
  REQUIRE(parsed.ok());
  CHECK(parsed->storage().get() == &arena);
  CHECK(parsed->at("a").at(2).at("b") == "c");
}
