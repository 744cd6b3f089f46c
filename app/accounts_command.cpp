#include "app/accounts_command.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "accounts/account_store.h"
#include "x402/amount.h"
#include "x402/price.h"

namespace x402proxy::app {
namespace {

using accounts::AccountStore;

constexpr const char* kUsage =
    "usage: x402-mcp-proxy accounts <subcommand> --ledger FILE [options]\n"
    "  add-key --account A            issue an API key for account A (printed once)\n"
    "  revoke-key --key-id ID         revoke a key; its holder is refused from then on\n"
    "  list                           accounts with their balances and active keys\n"
    "  show --account A               balances, keys and the last 20 billing entries\n"
    "  credit --account A --amount X [--asset USDC] [--reference TEXT]\n"
    "  debit  --account A --amount X [--asset USDC] [--reference TEXT]\n"
    "      X is atomic units (5000000) or, for USDC, dollars ('$5', quoted for the shell)\n";

constexpr const char* kDefaultAsset = "USDC";
constexpr unsigned kUsdcDecimals = 6;
constexpr std::size_t kShownEntries = 20;

// Options after the subcommand, as `--name VALUE` or `--name=VALUE`. Every option must be known, so
// a typo is an error instead of an ignored setting.
struct Options {
  std::map<std::string, std::string> values;
  std::string error;

  std::string get(const std::string& name) const {
    auto found = values.find(name);
    return found == values.end() ? std::string() : found->second;
  }
};

Options parse_options(int argc, char** argv) {
  static constexpr std::string_view kKnown[] = {
      "--ledger", "--account", "--amount", "--asset", "--reference", "--key-id", "--log-format"};
  Options options;
  for (int i = 3; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg.substr(0, arg.find('='));
    bool known = false;
    for (auto candidate : kKnown)
      known = known || name == candidate;
    if (!known) {
      options.error = "unknown option '" + std::string(name) + "'";
      return options;
    }
    if (name.size() < arg.size()) {
      options.values[std::string(name)] = std::string(arg.substr(name.size() + 1));
    } else if (i + 1 < argc) {
      options.values[std::string(name)] = argv[++i];
    } else {
      options.error = std::string(name) + " needs a value";
      return options;
    }
  }
  return options;
}

int fail(const std::string& subcommand, const std::string& message) {
  std::fprintf(stderr, "x402-mcp-proxy accounts %s: %s\n", subcommand.c_str(), message.c_str());
  return 2;
}

// "$5" for USDC becomes 5000000 (x402/price.h, integer arithmetic); anything else must be a plain
// atomic amount.
Result<x402::Amount> parse_cli_amount(const std::string& text, const std::string& asset) {
  if (text.starts_with("$")) {
    if (asset != kDefaultAsset) {
      return make_error("amount.invalid", "a dollar amount is only understood for USDC; give " +
                                              asset + " in atomic units");
    }
    return x402::usd_price_to_atomic(text, kUsdcDecimals, kDefaultAsset);
  }
  return x402::parse_amount(text);
}

std::string utc_time(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds at{seconds{unix_seconds}};
  const auto day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss clock{at - day};
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

// Atomic units, plus dollars for USDC so an operator can read it at a glance.
std::string describe_amount(const std::string& asset, const std::string& atomic) {
  std::string text = atomic + " " + asset;
  if (asset == kDefaultAsset) {
    if (auto amount = x402::parse_amount(atomic))
      text += " (" + x402::format_usd(*amount, kUsdcDecimals) + ")";
  }
  return text;
}

int add_key(AccountStore& store, const Options& options) {
  auto issued = store.add_key(options.get("--account"));
  if (!issued)
    return fail("add-key", issued.error().message);
  std::printf("%s\n", issued->key.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "Store this API key for account %s now: it is shown only this once (key id %s); the "
               "ledger keeps only a hash of it.\n",
               options.get("--account").c_str(), issued->key_id.c_str());
  return 0;
}

int revoke_key(AccountStore& store, const Options& options) {
  const std::string key_id = options.get("--key-id");
  if (key_id.empty())
    return fail("revoke-key", "--key-id ID is required");
  if (auto revoked = store.revoke_key(key_id); !revoked)
    return fail("revoke-key", revoked.error().message);
  std::printf("revoked key %s\n", key_id.c_str());
  return 0;
}

int list(AccountStore& store) {
  auto accounts = store.list();
  if (!accounts)
    return fail("list", accounts.error().message);
  if (accounts->empty())
    std::printf("no accounts\n");
  for (const auto& account : *accounts) {
    std::string line = account.account + ": " + std::to_string(account.active_keys) +
                       (account.active_keys == 1 ? " active key" : " active keys");
    for (const auto& [asset, amount] : account.balances)
      line += ", " + describe_amount(asset, amount);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int show(AccountStore& store, const Options& options) {
  const std::string account = options.get("--account");
  if (auto valid = accounts::validate_account(account); !valid)
    return fail("show", valid.error().message);
  auto summaries = store.list();
  if (!summaries)
    return fail("show", summaries.error().message);
  auto keys = store.keys(account);
  if (!keys)
    return fail("show", keys.error().message);
  auto entries = store.history(account, kShownEntries);
  if (!entries)
    return fail("show", entries.error().message);

  std::printf("account %s\nbalances:\n", account.c_str());
  bool any_balance = false;
  for (const auto& summary : *summaries) {
    if (summary.account != account)
      continue;
    for (const auto& [asset, amount] : summary.balances) {
      std::printf("  %s\n", describe_amount(asset, amount).c_str());
      any_balance = true;
    }
  }
  if (!any_balance)
    std::printf("  none\n");
  std::printf("keys:\n");
  if (keys->empty())
    std::printf("  none\n");
  for (const auto& key : *keys) {
    std::string line = key.key_id + " " + (key.revoked ? "revoked" : "active") + " (created " +
                       utc_time(key.created);
    if (key.revoked)
      line += ", revoked " + utc_time(key.revoked);
    std::printf("  %s)\n", line.c_str());
  }
  std::printf("last %zu billing entries, newest first:\n", kShownEntries);
  if (entries->empty())
    std::printf("  none\n");
  for (const auto& entry : *entries) {
    std::string line =
        utc_time(entry.time) + " " + entry.kind + " " + describe_amount(entry.asset, entry.amount);
    if (!entry.tool.empty())
      line += " tool=" + entry.tool;
    if (!entry.request_id.empty())
      line += " request=" + entry.request_id;
    if (!entry.outcome.empty())
      line += " outcome=" + entry.outcome;
    if (!entry.reference.empty())
      line += " reference=" + entry.reference;
    std::printf("  %s\n", line.c_str());
  }
  return 0;
}

int change_balance(AccountStore& store, const Options& options, const std::string& subcommand) {
  const std::string account = options.get("--account");
  const std::string amount_text = options.get("--amount");
  std::string asset = options.get("--asset");
  if (asset.empty())
    asset = kDefaultAsset;
  if (account.empty() || amount_text.empty())
    return fail(subcommand, "--account A and --amount X are required");
  auto amount = parse_cli_amount(amount_text, asset);
  if (!amount)
    return fail(subcommand, amount.error().message);
  std::string reference = options.get("--reference");
  if (reference.empty())
    reference = "accounts " + subcommand + " (operator)";
  auto changed = subcommand == "credit" ? store.credit(account, asset, *amount, reference)
                                        : store.debit(account, asset, *amount, reference);
  if (!changed)
    return fail(subcommand, changed.error().message);
  auto balance = store.balance(account, asset);
  if (!balance)
    return fail(subcommand, balance.error().message);
  std::printf("%s: balance %s\n", account.c_str(),
              describe_amount(asset, x402::to_string(*balance)).c_str());
  return 0;
}

}  // namespace

int run_accounts_command(int argc, char** argv) {
  const std::string subcommand = argc > 2 ? argv[2] : "";
  if (subcommand.empty() || subcommand == "--help" || subcommand == "help") {
    std::fputs(kUsage, subcommand.empty() ? stderr : stdout);
    return subcommand.empty() ? 2 : 0;
  }
  const bool known = subcommand == "add-key" || subcommand == "revoke-key" ||
                     subcommand == "list" || subcommand == "show" || subcommand == "credit" ||
                     subcommand == "debit";
  if (!known) {
    std::fprintf(stderr, "x402-mcp-proxy accounts: unknown subcommand '%s'\n\n%s",
                 subcommand.c_str(), kUsage);
    return 2;
  }
  const Options options = parse_options(argc, argv);
  if (!options.error.empty())
    return fail(subcommand, options.error);
  const std::string ledger = options.get("--ledger");
  if (ledger.empty())
    return fail(subcommand, "--ledger FILE is required");
  if ((subcommand == "add-key" || subcommand == "show") && options.get("--account").empty())
    return fail(subcommand, "--account A is required");

  auto store = AccountStore::open(ledger);
  if (!store)
    return fail(subcommand, store.error().message);
  if (subcommand == "add-key")
    return add_key(**store, options);
  if (subcommand == "revoke-key")
    return revoke_key(**store, options);
  if (subcommand == "list")
    return list(**store);
  if (subcommand == "show")
    return show(**store, options);
  return change_balance(**store, options, subcommand);
}

}  // namespace x402proxy::app
