// Prepaid credit for known callers, made from the validated config (`accounts:`): the account
// store, what a previous run left open, the top-up offers, and the crediting of a top-up whose
// settlement is proven later.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/serve_config.h"
#include "proxy/credit/account_billing.h"
#include "proxy/settlement/settlement_service.h"
#include "x402/result.h"

namespace x402proxy::proxy {

// Only when config.accounts.enabled. `solana_fee_payer` as for the price list.
Result<std::shared_ptr<AccountBilling>> make_credit(const config::ServeConfig& config,
                                                    boost::asio::any_io_executor executor,
                                                    SettlementService& settlement,
                                                    const std::string& solana_fee_payer);

}  // namespace x402proxy::proxy
