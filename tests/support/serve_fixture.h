// A running `x402-mcp-proxy serve` (the real binary, a child process) in front of the test MCP
// upstream, with the fake facilitator, on ephemeral loopback ports.
#pragma once

#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "signers/evm/exact_evm_payment.h"
#include "signers/key_material.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_facilitator.h"
#include "tests/support/http_test_client.h"
#include "tests/support/mcp_upstream.h"
#include "x402/codec.h"

namespace x402proxy::testing {

inline constexpr const char* kPayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
// Anvil/Hardhat account #1: a well-known test key, never used for real money.
inline constexpr const char* kPayerKey =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
inline constexpr const char* kPayer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

inline constexpr const char* kPricedTools =
    "tools:\n  echo: free\n  add: \"$0.001\"\n  slow_progress: \"$0.002\"\n"
    "  fail: \"$0.001\"\n  input_needed: \"$0.001\"\n  cut_stream: \"$0.001\"\n";

struct ServeOptionsForTest {
  std::string tools = kPricedTools;
  std::string extra_yaml;
  std::string upstream_url;      // default: the test upstream
  std::string facilitator_yaml;  // default: the fake facilitator
  std::string payment_yaml;      // pay_to and accept; default: Base Sepolia USDC to kPayTo
  McpUpstreamOptions upstream;
  std::vector<std::string> extra_args;  // after `serve --config F`, e.g. {"--log-format", "json"}
  std::string log_level = "warn";
  std::vector<std::string> env;  // NAME=VALUE for the serve process
  std::string store_yaml;        // replaces `journal: DIR/payments.sqlite` (a PostgreSQL store)
};

struct ServeFixture {
  explicit ServeFixture(ServeOptionsForTest options = {})
      : upstream(make_mcp_upstream(options.upstream)), dir(make_temp_dir("serve-test")) {
    std::ofstream(dir + "/proxy.yaml")
        << "listen: 127.0.0.1:0\n"
        << "upstream: { url: "
        << (options.upstream_url.empty() ? upstream.url("/mcp") : options.upstream_url) << " }\n"
        << (options.facilitator_yaml.empty() ? "facilitator: { url: " + facilitator.url() +
                                                   ", verify_timeout: 1s, settle_timeout: 2s }\n"
                                             : options.facilitator_yaml)
        << (options.payment_yaml.empty()
                ? std::string("pay_to: { eip155: \"") + kPayTo +
                      "\" }\naccept: [ { network: base-sepolia, asset: USDC } ]\n"
                : options.payment_yaml)
        << options.tools
        << (options.store_yaml.empty() ? "journal: " + dir + "/payments.sqlite\n"
                                       : options.store_yaml)
        << "body_limit: 64KiB\nread_timeout: 1s\nthreads: 2\nlog_level: " << options.log_level
        << "\n"
        << options.extra_yaml;
    std::vector<std::string> argv{proxy_binary(), "serve", "--config", dir + "/proxy.yaml"};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    proxy = std::make_unique<ChildProcess>(
        ChildOptions{std::move(argv), options.env, dir + "/proxy.log", {}});
    auto line = proxy->wait_for_line("listening on", std::chrono::seconds(10));
    INFO(proxy->output());
    REQUIRE(line);
    port = port_from_listening_line(*line);
  }

  std::size_t upstream_tool_calls(const std::string& tool) const {
    std::size_t n = 0;
    for (const auto& r : upstream.requests()) {
      n += r.body.find("\"tools/call\"") != std::string::npos &&
           r.body.find("\"name\":\"" + tool + "\"") != std::string::npos;
    }
    return n;
  }

  TestHttpServer upstream;
  FakeFacilitator facilitator;
  std::string dir;
  std::unique_ptr<ChildProcess> proxy;
  unsigned short port = 0;
};

inline std::string tool_call(const std::string& tool, const std::string& arguments = "{}",
                             const std::string& meta = "", int id = 1) {
  std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                     R"(,"method":"tools/call","params":{"name":")" + tool + R"(","arguments":)" +
                     arguments;
  if (!meta.empty())
    body += R"(,"_meta":)" + meta;
  return body + "}}";
}

inline boost::json::object result_of(const HttpReply& reply) {
  INFO(reply.status << " " << reply.body << " " << reply.error);
  REQUIRE(reply.status == 200);
  auto message = boost::json::parse(reply.body).as_object();
  REQUIRE(message.contains("result"));
  return message.at("result").as_object();
}

inline std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

// How a test payment departs from an honest one (signed over these values instead).
struct PaymentTweaks {
  std::string signed_amount;      // sign for another amount than `accepted` says
  std::string signed_pay_to;      // sign a transfer to someone else
  std::int64_t clock_offset = 0;  // sign as if it were now + offset seconds
};

// A real x402 exact EVM payment for `accepted`, signed by kPayerKey as the reference client does.
inline boost::json::object evm_payment(const boost::json::object& accepted,
                                       PaymentTweaks tweaks = {}) {
  auto requirement = x402proxy::x402::requirements_from_json(accepted, 2);
  REQUIRE(requirement.ok());
  if (!tweaks.signed_amount.empty())
    requirement->amount = tweaks.signed_amount;
  if (!tweaks.signed_pay_to.empty())
    requirement->pay_to = tweaks.signed_pay_to;
  auto secret = x402proxy::signers::parse_key_text(kPayerKey);
  auto key = x402proxy::signers::evm::EvmKey::from_secret(std::move(secret).value());
  auto payload = x402proxy::signers::evm::create_exact_evm_payload(
      *key, *requirement, unix_now() + tweaks.clock_offset);
  REQUIRE(payload.ok());
  return boost::json::object{{"x402Version", 2}, {"accepted", accepted}, {"payload", *payload}};
}

// The first offer of a payment-required tool result.
inline boost::json::object first_offer(const boost::json::object& result) {
  return result.at("structuredContent").at("accepts").as_array().at(0).as_object();
}

inline std::string meta_with_payment(const boost::json::object& payment) {
  return boost::json::serialize(boost::json::object{{"x402/payment", payment}});
}

}  // namespace x402proxy::testing
