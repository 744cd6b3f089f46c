// mcp/json_member_edit.h without_payment_member, what serve forwards for a paid call
// (proxy::body_without_payment is this function). For every body serve accepts as one tools/call:
//  - the scanner can follow it (a nullopt would refuse a valid call);
//  - the rewritten body inspects to the same call: method, id, tool name, arguments, every other
//    params member, and no payment left;
//  - it is the input with one contiguous range cut out, and that range is exactly the payment
//    member `"x402/payment": value` and one adjacent comma (with the blanks between them), or the
//    whole `"_meta": {…}` member when the payment was all _meta held; every other byte is kept;
//  - a call without a payment is forwarded byte for byte.
// For any other body the function only has to return without crashing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "mcp/json_member_edit.h"
#include "mcp/mcp_request.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_json.h"
#include "x402/strict_json.h"

namespace {

using namespace x402proxy;
namespace json = boost::json;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// `member` is one complete `"key": value` (no blanks around it): its key and value.
std::optional<std::pair<std::string, json::value>> parse_member(std::string_view member) {
  if (member.empty() || member.front() != '"' || is_blank(member.back()))
    return std::nullopt;
  auto object = x402::parse_strict_json("{" + std::string(member) + "}");
  if (!object.ok() || object->as_object().size() != 1)
    return std::nullopt;
  const auto& only = *object->as_object().begin();
  return std::make_pair(std::string(only.key()), only.value());
}

// Whether `cut` is a removed payment member: member, member + blanks + ',', or ',' + blanks +
// member, where member is "x402/payment": <payment>, or "_meta": {"x402/payment": <payment>}.
bool is_payment_cut(std::string_view cut, const json::value& payment, bool meta_removed) {
  std::string_view member = cut;
  if (member.starts_with(",")) {
    member.remove_prefix(1);
    while (!member.empty() && is_blank(member.front()))
      member.remove_prefix(1);
  } else if (member.ends_with(",")) {
    member.remove_suffix(1);
    while (!member.empty() && is_blank(member.back()))
      member.remove_suffix(1);
  }
  auto parsed = parse_member(member);
  if (!parsed)
    return false;
  if (!meta_removed)
    return parsed->first == "x402/payment" && fuzz::same_json(parsed->second, payment);
  if (parsed->first != "_meta" || !parsed->second.is_object())
    return false;
  const json::object& meta = parsed->second.as_object();
  return meta.size() == 1 && meta.contains("x402/payment") &&
         fuzz::same_json(meta.at("x402/payment"), payment);
}

// Whether `out` is `in` with one range [c, c + removed) cut out for which `is_cut` holds; every
// position the range could start at (equal neighbouring bytes make it ambiguous) is tried.
template <class IsCut>
bool is_single_cut(std::string_view in, std::string_view out, IsCut is_cut) {
  if (out.size() >= in.size())
    return false;
  const std::size_t removed = in.size() - out.size();
  std::size_t prefix = 0;
  while (prefix < out.size() && in[prefix] == out[prefix])
    ++prefix;
  std::size_t suffix = 0;
  while (suffix < out.size() && in[in.size() - 1 - suffix] == out[out.size() - 1 - suffix])
    ++suffix;
  const std::size_t first = out.size() > suffix ? out.size() - suffix : 0;
  for (std::size_t c = first; c <= prefix; ++c) {
    if (is_cut(in.substr(c, removed)))
      return true;
  }
  return false;
}

const json::value* params_member(const json::value& message, std::string_view key) {
  const json::object* params = message.as_object().at("params").if_object();
  return params != nullptr ? params->if_contains(key) : nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  const auto rewritten = mcp::without_payment_member(body);

  auto post = mcp::inspect_mcp_post(body);
  if (!post.ok() || post->is_batch || !post->messages[0].is_tools_call)
    return 0;  // serve cuts payments only out of a single tools/call
  const mcp::McpMessage& call = post->messages[0];

  FUZZ_CHECK(rewritten.has_value());
  if (call.payment == nullptr) {
    FUZZ_CHECK(*rewritten == body);
    return 0;
  }

  auto again = mcp::inspect_mcp_post(*rewritten);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(!again->is_batch && again->messages.size() == 1);
  const mcp::McpMessage& forwarded = again->messages[0];
  FUZZ_CHECK(forwarded.kind == call.kind);
  FUZZ_CHECK(forwarded.method == call.method);
  FUZZ_CHECK(forwarded.id == call.id);
  FUZZ_CHECK(forwarded.is_tools_call && forwarded.tool_name == call.tool_name);
  FUZZ_CHECK(forwarded.payment == nullptr);

  // Everything else in the message is untouched: the top level, params but _meta, _meta but the
  // payment (arguments included).
  json::object expected = post->body.as_object();
  json::object& params = expected.at("params").as_object();
  json::object& meta = params.at("_meta").as_object();
  meta.erase("x402/payment");
  const bool meta_removed = meta.empty();
  if (meta_removed)
    params.erase("_meta");
  FUZZ_CHECK(fuzz::same_json(again->body, json::value(expected)));
  FUZZ_CHECK(params_member(again->body, "arguments") == nullptr ||
             fuzz::same_json(*params_member(again->body, "arguments"),
                             *params_member(post->body, "arguments")));

  const json::value& payment = *call.payment;
  FUZZ_CHECK(is_single_cut(body, *rewritten, [&](std::string_view cut) {
    return is_payment_cut(cut, payment, meta_removed);
  }));
  return 0;
}
