#include "proxy/credit/credit_factory.h"

#include <spdlog/spdlog.h>

#include "config/price_table.h"

namespace x402proxy::proxy {

Result<std::shared_ptr<AccountBilling>> make_credit(const config::ServeConfig& config,
                                                    boost::asio::any_io_executor executor,
                                                    SettlementService& settlement,
                                                    const std::string& solana_fee_payer) {
  auto created = AccountBilling::create(std::move(executor), config.accounts);
  if (!created.ok())
    return make_error(created.error().reason, "accounts: " + created.error().message);
  std::shared_ptr<AccountBilling> billing = std::move(created).value();
  // Reservations a previous run left open belong to calls that died with it: charged when the
  // call had reached the tool (the price covers the attempt), released when it had not.
  if (auto finished = billing->store().finish_open_reservations();
      finished.ok() && (finished->committed + finished->released) > 0) {
    spdlog::warn(
        "accounts: a previous run left {} reservation(s) open: {} charged (the call had "
        "reached the tool), {} released",
        finished->committed + finished->released, finished->committed, finished->released);
  }
  // A top-up whose settlement is proven later (by the reconciler) is credited then.
  AccountBilling* billing_ptr = billing.get();
  settlement.on_credit_settled = [billing_ptr](const SettlementJob& job) {
    boost::json::object ignored;
    billing_ptr->credit_topup(job.credit_account, ignored, job.requirements, job.replay_key);
  };
  // Top-ups are offered in every accepted asset: the accept list priced at $1 is the template.
  config::ServeConfig topup_config = config;
  config::PriceSpec one_dollar;
  one_dollar.free = false;
  one_dollar.usd = "$1";
  topup_config.tools = {{config.accounts.topup_tool, one_dollar}};
  topup_config.default_price = config::PriceSpec{};
  if (auto table = config::build_price_table(topup_config, solana_fee_payer); table.ok()) {
    if (const auto* price = table->find(config.accounts.topup_tool))
      billing->set_topup_template(price->accepts, price->assets);
  }
  spdlog::info("accounts: prepaid credit in {} ({}), API keys{}", config.accounts.ledger,
               config.accounts.asset, config.accounts.jwt.enabled() ? " and JWTs" : "");
  return billing;
}

}  // namespace x402proxy::proxy
