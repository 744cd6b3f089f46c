// A real-chain test peer (tests/peers/chain-evm: a Hardhat chain with Circle's FiatTokenV2_2 and
// the official @x402/evm facilitator; tests/peers/chain-svm: LiteSVM with an SPL mint and the
// official @x402/svm facilitator) as a child process, with its control API (faults, mining,
// balances, transfers, cancelled authorizations). The peers must be installed
// (tests/peers/install.sh, which `make test` runs): a test that needs one fails when it is not.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "tests/support/child_process.h"
#include "tests/support/http_test_client.h"

namespace x402proxy::testing {

class ChainPeer {
 public:
  enum class Kind { evm, svm };
  // Starts the peer (its log in `dir`); REQUIREs that it came up.
  ChainPeer(Kind kind, const std::string& dir, std::vector<std::string> args = {});

  // The peer's ready line: rpc, facilitator, control, network, payers, payTo, usdc / mint, ...
  const boost::json::object& info() const { return info_; }
  std::string str(const char* field) const;
  const std::string& network() const { return network_; }
  const std::string& facilitator_url() const { return facilitator_url_; }
  const std::string& rpc_url() const { return rpc_url_; }
  std::string payer_key(std::size_t i = 0) const;  // EVM: 0x hex; SVM: base58 of 64 bytes
  std::string payer_address(std::size_t i = 0) const;

  // Control API: POST/GET with a JSON body; REQUIREs a 2xx answer and returns its JSON.
  boost::json::value control_post(const std::string& path, const std::string& body = "{}");
  boost::json::value control_get(const std::string& path);
  void fault(const std::string& json) { (void)control_post("/fault", json); }
  void reset() { (void)control_post("/reset", "{}"); }
  // The token balance of an address (EVM) or owner (SVM), in atomic units.
  std::string balance(const std::string& address);
  // Every transfer of the token the chain recorded.
  boost::json::array transfers();

  std::string log() const { return process_ ? process_->output() : std::string(); }

 private:
  Kind kind_;
  std::unique_ptr<ChildProcess> process_;
  boost::json::object info_;
  std::string network_, facilitator_url_, rpc_url_;
  unsigned short control_port_ = 0;
};

// The port of an http://127.0.0.1:PORT URL.
unsigned short port_of(const std::string& url);

}  // namespace x402proxy::testing
