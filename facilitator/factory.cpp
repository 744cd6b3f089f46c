#include "facilitator/factory.h"

#include "config/facilitator_config.h"
#include "facilitator/remote_facilitator.h"

namespace x402proxy::facilitator {

Result<FacilitatorChoice> make_facilitator(const config::FacilitatorConfig& config,
                                           std::chrono::seconds clock_skew,
                                           boost::asio::any_io_executor executor) {
  FacilitatorChoice choice;
  if (config.kind == config::FacilitatorConfig::Kind::embedded) {
    auto balance = config::starting_balance_atomic(config.starting_balance);
    if (!balance.ok()) {
      return make_error(balance.error().reason,
                        "facilitator.starting_balance: " + balance.error().message);
    }
    EmbeddedOptions embedded;
    embedded.ledger_path = config.ledger;
    embedded.starting_balance = *x402::parse_amount(*balance);
    embedded.clock_skew = clock_skew;
    if (!config.solana_fee_payer.empty())
      embedded.solana_fee_payers.push_back(config.solana_fee_payer);
    auto created = EmbeddedFacilitator::create(embedded);
    if (!created.ok())
      return created.error();
    choice.embedded = *created;
    choice.facilitator = *created;
    choice.name = "embedded (ledger " + config.ledger + ")";
    return choice;
  }
  RemoteFacilitatorOptions remote;
  remote.url = config.url;
  remote.verify_timeout = config.verify_timeout;
  // One settle request runs to its own budget; the call waits settle_timeout for it.
  remote.settle_timeout = config.settle_request_timeout;
  remote.tls_verify = config.tls_verify;
  auto created = RemoteFacilitator::create(std::move(executor), remote);
  if (!created.ok())
    return make_error(created.error().reason, "facilitator: " + created.error().message);
  choice.facilitator = *created;
  choice.name = config.url;
  return choice;
}

}  // namespace x402proxy::facilitator
