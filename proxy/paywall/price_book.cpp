#include "proxy/paywall/price_book.h"

namespace x402proxy::proxy {

PriceBook::PriceBook(const config::PriceTable& table) : table_(table) {
  for (const auto& [name, price] : table_.tools())
    offers_[name] = ToolOffer{
        price.tool,          price.description,       price.usd, price.accepts, price.assets,
        price.settle_before, price.charge_tool_errors};
  if (const auto* price = table_.default_price()) {
    default_offer_ = ToolOffer{"",
                               price->description,
                               price->usd,
                               price->accepts,
                               price->assets,
                               price->settle_before,
                               price->charge_tool_errors};
  }
}

const ToolOffer* PriceBook::find(std::string_view tool) const {
  if (table_.find(tool) == nullptr)
    return nullptr;  // free (listed as free, or unlisted without a default price)
  if (auto it = offers_.find(tool); it != offers_.end())
    return &it->second;
  return default_offer_ ? &*default_offer_ : nullptr;
}

}  // namespace x402proxy::proxy
