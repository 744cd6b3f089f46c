// The accounts admin API, for operators managing accounts while serve runs (the same operations as
// `x402-mcp-proxy accounts`), behind the admin bearer token:
//   GET  /admin/accounts                      every account with balances and active keys
//   GET  /admin/accounts/{account}            balances, keys, recent billing entries
//   POST /admin/accounts/{account}/credit     {"amount": "$5" | "5000000"}
//   POST /admin/accounts/{account}/debit      {"amount": …}
//   POST /admin/accounts/{account}/keys       issues a key; the answer is the only place it appears
//   POST /admin/keys/{key_id}/revoke
#pragma once

#include <string>
#include <string_view>

#include "proxy/credit/account_billing.h"

namespace x402proxy::proxy {

struct AdminAnswer {
  unsigned status = 200;
  std::string body;  // JSON
};

// `path` starts with /admin/accounts or /admin/keys.
AdminAnswer answer_accounts_admin(AccountBilling& billing, std::string_view method,
                                  std::string_view path, std::string_view body);

}  // namespace x402proxy::proxy
