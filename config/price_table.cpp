#include "config/price_table.h"

#include "x402/price.h"

namespace x402proxy::config {
namespace {

Result<ToolPrice> offer_for(const ServeConfig& config, const std::string& tool,
                            const PriceSpec& spec, const std::string& fee_payer) {
  ToolPrice price;
  price.tool = tool;
  price.description = spec.description;
  price.usd = spec.usd;
  price.settle_before = spec.settle_before;
  price.charge_tool_errors = spec.charge_tool_errors;
  for (const AcceptedAsset& accepted : config.accept) {
    x402::PaymentRequirements requirement;
    requirement.scheme = "exact";
    requirement.network = accepted.network.caip2;
    requirement.asset = accepted.asset.address;
    requirement.pay_to = accepted.pay_to;
    requirement.max_timeout_seconds = config.max_timeout_seconds;
    if (spec.atomic) {
      if (!accepted_asset_named(accepted, spec.asset))
        continue;
      requirement.amount = x402::to_string(*spec.atomic);
    } else {
      auto atomic =
          x402::usd_price_to_atomic(spec.usd, accepted.asset.decimals, accepted.asset.symbol);
      if (!atomic.ok())
        return atomic.error();
      requirement.amount = x402::to_string(*atomic);
    }
    if (accepted.network.family == x402::NetworkFamily::evm) {
      // EIP-712 domain of the token: x402 exact EVM scheme, extra.name / extra.version.
      requirement.extra["name"] = accepted.asset.eip712_name;
      requirement.extra["version"] = accepted.asset.eip712_version;
    } else {
      if (fee_payer.empty()) {
        return make_error("config.invalid",
                          "tool " + tool +
                              ": Solana payments need the facilitator's fee payer "
                              "(extra.feePayer), and none is known");
      }
      requirement.extra["feePayer"] = fee_payer;
    }
    // x402 exact scheme, "Payment Flow": settling before the resource is "upfront", stated on
    // the wire so that buyers know (absent means "authorization": settle after).
    if (spec.settle_before)
      requirement.extra["paymentFlow"] = "upfront";
    requirement.has_extra = true;
    price.accepts.push_back(std::move(requirement));
    price.assets.push_back(accepted.asset);
  }
  return price;
}

}  // namespace

const ToolPrice* PriceTable::find(std::string_view tool) const {
  if (auto it = tools_.find(tool); it != tools_.end())
    return &it->second;
  if (free_.contains(tool))
    return nullptr;
  return default_price();
}

Result<PriceTable> build_price_table(const ServeConfig& config, const std::string& fee_payer) {
  PriceTable table;
  for (const auto& [tool, spec] : config.tools) {
    if (spec.free) {
      table.free_[tool] = true;
      continue;
    }
    auto offer = offer_for(config, tool, spec, fee_payer);
    if (!offer.ok())
      return offer.error();
    table.tools_.emplace(tool, std::move(offer).value());
  }
  if (!config.default_price.free) {
    auto offer = offer_for(config, "", config.default_price, fee_payer);
    if (!offer.ok())
      return offer.error();
    table.default_ = std::move(offer).value();
  }
  return table;
}

std::string format_price_table(const ServeConfig& config, const PriceTable& table) {
  std::string out = config.source + ": valid\n";
  out += "upstream:    " +
         (config.upstream.url.empty() ? "(stdio) " + config.upstream.command.front()
                                      : config.upstream.url) +
         "\n";
  out += "facilitator: " +
         (config.facilitator.kind == FacilitatorConfig::Kind::embedded
              ? std::string("embedded (ledger ") + config.facilitator.ledger + ")"
              : config.facilitator.url) +
         "\n\n";
  out += "tool                             price       offers (atomic units)\n";
  auto row = [&](const std::string& name, const ToolPrice* price) {
    std::string line = name;
    line.resize(std::max<std::size_t>(line.size() + 1, 33), ' ');
    std::string usd = price == nullptr ? "free" : price->usd.empty() ? "-" : price->usd;
    usd.resize(std::max<std::size_t>(usd.size() + 1, 12), ' ');
    line += usd;
    if (price != nullptr) {
      bool first = true;
      for (std::size_t i = 0; i < price->accepts.size(); ++i) {
        const auto& r = price->accepts[i];
        const std::string v1_name = x402::to_v1_name(r.network);
        line += (first ? "" : ", ") + r.amount + " " + price->assets[i].symbol + " on " +
                (v1_name.empty() ? r.network : v1_name);
        first = false;
      }
      if (!price->charge_tool_errors)
        line += " (tool errors not charged)";
    }
    out += line + "\n";
  };
  for (const auto& [name, spec] : config.tools)
    row(name, table.find(name));
  row("(default: any other tool)", table.default_price());
  return out;
}

}  // namespace x402proxy::config
