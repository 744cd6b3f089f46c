// The paid call's body less its payment, byte for byte (mcp/json_member_edit.h): numbers that a
// parse-and-serialize round trip would change stay as sent, escaped keys are found, look-alikes
// elsewhere are left alone, and the result re-inspects to the same call without the payment.
#include "mcp/json_member_edit.h"

#include <catch2/catch.hpp>

#include "mcp/mcp_request.h"

using x402proxy::mcp::find_member;
using x402proxy::mcp::inspect_mcp_post;
using x402proxy::mcp::without_payment_member;

TEST_CASE("the payment is cut from the text and every other byte stays as sent", "[json_edit]") {
  const std::string body =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":)"
      R"({"x":1e400,"nan":0e410,"big":123456789012345678901234567890,"s":"caf\u00e9"},)"
      R"("_meta":{"progressToken":7,"x402/payment":{"a":[1,{"b":"}"}]}}}})";
  auto cut = without_payment_member(body);
  REQUIRE(cut);
  CHECK(*cut ==
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":)"
        R"({"x":1e400,"nan":0e410,"big":123456789012345678901234567890,"s":"caf\u00e9"},)"
        R"("_meta":{"progressToken":7}}})");
}

TEST_CASE("a payment that was all of _meta takes _meta with it", "[json_edit]") {
  CHECK(without_payment_member(
            R"({"params":{"name":"add","_meta":{ "x402/payment" : {"a":1} },"arguments":{}}})") ==
        R"({"params":{"name":"add","arguments":{}}})");
  CHECK(without_payment_member(R"({"params":{"name":"add","_meta":{"x402/payment":1}}})") ==
        R"({"params":{"name":"add"}})");
  CHECK(without_payment_member(R"({"params":{"_meta":{"x402/payment":{"a":1},"k":2}}})") ==
        R"({"params":{"_meta":{"k":2}}})");
}

TEST_CASE("escaped keys are the same key, look-alikes elsewhere are not", "[json_edit]") {
  CHECK(without_payment_member(R"({"params":{"_meta":{"x402\/payment":1,"k":2}}})") ==
        R"({"params":{"_meta":{"k":2}}})");
  CHECK(without_payment_member(R"({"params":{"_me\u0074a":{"x402\u002fpayment":1,"k":2}}})") ==
        R"({"params":{"_me\u0074a":{"k":2}}})");
  // Not at params._meta: untouched.
  const std::string nested = R"({"params":{"arguments":{"_meta":{"x402/payment":1}}}})";
  CHECK(without_payment_member(nested) == nested);
  const std::string in_string = R"({"a":"\"}","params":{"_meta":{"q":"x402/payment"}}})";
  CHECK(without_payment_member(in_string) == in_string);
  CHECK_FALSE(find_member(R"({"params":[{"_meta":1}]})", {"params", "_meta"}));
}

TEST_CASE("a text the scanner cannot follow is refused, not guessed", "[json_edit]") {
  CHECK_FALSE(without_payment_member(R"({"params":{"_meta":{"x402/payment":)"));
  CHECK_FALSE(without_payment_member(R"({"params":{"_meta":{"k":"unterminated}})"));
  CHECK_FALSE(without_payment_member(""));
}

TEST_CASE("the cut body re-inspects to the same call without its payment", "[json_edit]") {
  const std::string body =
      R"({"jsonrpc":"2.0","id":"c-1","method":"tools/call","params":{"name":"add",)"
      R"("arguments":{"a":2,"b":3},"_meta":{"progressToken":"p","x402/payment":{"x402Version":2}}}})";
  auto before = inspect_mcp_post(body);
  REQUIRE(before.ok());
  auto cut = without_payment_member(body);
  REQUIRE(cut);
  auto after = inspect_mcp_post(*cut);
  REQUIRE(after.ok());
  REQUIRE(after->messages.size() == 1);
  CHECK(after->messages[0].is_tools_call);
  CHECK(after->messages[0].tool_name == before->messages[0].tool_name);
  CHECK(after->messages[0].payment == nullptr);
  CHECK(cut->find("x402/payment") == std::string::npos);
  CHECK(cut->find(R"("progressToken":"p")") != std::string::npos);
}
