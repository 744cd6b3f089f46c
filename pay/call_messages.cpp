#include "pay/call_messages.h"

#include <openssl/evp.h>

#include <algorithm>
#include <vector>

#include <boost/json/serialize.hpp>

namespace x402proxy::pay {
namespace json = boost::json;

namespace {

// Object keys sorted at every level, so that two spellings of one argument object are one call.
void append_canonical(std::string& out, const json::value& value) {
  if (value.is_object()) {
    std::vector<const json::key_value_pair*> members;
    for (const auto& member : value.get_object())
      members.push_back(&member);
    std::sort(members.begin(), members.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0)
        out += ',';
      out += json::serialize(json::string(members[i]->key()));
      out += ':';
      append_canonical(out, members[i]->value());
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    const json::array& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0)
        out += ',';
      append_canonical(out, items[i]);
    }
    out += ']';
  } else {
    out += json::serialize(value);
  }
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

}  // namespace

json::object& params_meta(json::object& request) {
  json::value& params = request["params"];
  if (!params.is_object())
    params = json::object();
  json::value& meta = params.get_object()["_meta"];
  if (!meta.is_object())
    meta = json::object();
  return meta.get_object();
}

void advertise_payment_extension(json::object& request) {
  json::value& caps = params_meta(request)[kCapabilitiesMetaKey];
  if (!caps.is_object())
    caps = json::object();
  json::value& extensions = caps.get_object()["extensions"];
  if (!extensions.is_object())
    extensions = json::object();
  if (!extensions.get_object().contains(kPaymentExtension))
    extensions.get_object()[kPaymentExtension] = json::object();
}

std::string tool_name_of(const json::object& request) {
  const json::value* params = request.if_contains("params");
  if (params == nullptr || !params->is_object())
    return {};
  const json::value* name = params->get_object().if_contains("name");
  return name != nullptr && name->is_string() ? std::string(name->get_string()) : std::string();
}

std::string method_of(const json::object& message) {
  const json::value* method = message.if_contains("method");
  return method != nullptr && method->is_string() ? std::string(method->get_string())
                                                  : std::string();
}

std::string call_fingerprint(const std::string& seller, const std::string& tool,
                             const json::object& request) {
  std::string text = seller;
  text += '\n';
  text += tool;
  text += '\n';
  const json::value* arguments = nullptr;
  if (const json::value* params = request.if_contains("params"); params && params->is_object())
    arguments = params->get_object().if_contains("arguments");
  append_canonical(text, arguments != nullptr ? *arguments : json::value());
  return sha256_hex(text);
}

}  // namespace x402proxy::pay
