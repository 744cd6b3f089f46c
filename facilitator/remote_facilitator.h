// A remote x402 facilitator over its standard HTTP API (x402 v2 §7: POST /verify, POST /settle,
// GET /supported), with a time budget per call: verify 5 s, settle 60 s by default.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "facilitator/facilitator.h"
#include "net/http_client.h"

namespace x402proxy::facilitator {

struct RemoteFacilitatorOptions {
  std::string url;  // base URL, e.g. https://x402.org/facilitator
  std::chrono::milliseconds verify_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds settle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds supported_timeout{std::chrono::seconds(5)};
  bool tls_verify = true;
  // Sent with every call (e.g. Authorization for a keyed facilitator); never logged.
  std::vector<std::pair<std::string, std::string>> headers;
};

class RemoteFacilitator final : public Facilitator {
 public:
  static Result<std::shared_ptr<RemoteFacilitator>> create(boost::asio::any_io_executor executor,
                                                           RemoteFacilitatorOptions options);

  boost::asio::awaitable<FacilitatorResult<x402::VerifyResponse>> verify(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) override;
  boost::asio::awaitable<FacilitatorResult<x402::SettleResponse>> settle(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements,
      std::chrono::steady_clock::time_point deadline =
          std::chrono::steady_clock::time_point::max()) override;
  boost::asio::awaitable<FacilitatorResult<x402::SupportedResponse>> supported() override;

 private:
  RemoteFacilitator(std::shared_ptr<net::HttpClient> client, RemoteFacilitatorOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}

  std::shared_ptr<net::HttpClient> client_;
  RemoteFacilitatorOptions options_;
};

// The request body of /verify and /settle: {x402Version, paymentPayload, paymentRequirements},
// versioned by the payload (research §2.1).
std::string facilitator_request_body(const x402::PaymentPayload& payment,
                                     const x402::PaymentRequirements& requirements);

}  // namespace x402proxy::facilitator
