// x402-mcp-proxy: argument parsing and subcommand dispatch only; each command lives in its module.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "app/accounts_command.h"
#include "app/facilitator_command.h"
#include "app/keygen_command.h"
#include "app/probe_command.h"
#include "app/store_command.h"
#include "config/price_table.h"
#include "config/serve_config.h"
#include "pay/pay_command.h"
#include "proxy/operations/json_log_format.h"
#include "proxy/serve_command.h"

namespace {

constexpr const char* kUsage =
    "usage: x402-mcp-proxy <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve --config FILE        the paywall in front of an upstream MCP server\n"
    "  check --config FILE        validate a serve config and print its price table\n"
    "  facilitator --config FILE  the embedded facilitator as an HTTP service\n"
    "                             (/verify, /settle, /supported); moves no money on any chain\n"
    "  facilitator --config FILE --balances\n"
    "                             print its ledger's transfers and balances, then exit\n"
    "  pay --config FILE          the buyer's bridge: an MCP server on stdio that forwards to a\n"
    "                             paid MCP server and pays per call within the wallet's limits\n"
    "  pay --config FILE --report spending per day and per seller\n"
    "  keygen evm|solana --out F  write a new private key (mode 0600) and print its address\n"
    "  accounts add-key|revoke-key|list|show|credit|debit --ledger F ...\n"
    "                             API keys and prepaid balances of known callers\n"
    "  probe URL [--timeout 2s]   GET an http URL (a health endpoint); exit 0 on 2xx, else 1\n"
    "  store status|migrate --config FILE\n"
    "                             the schema of serve's journal (SQLite or PostgreSQL): show the\n"
    "                             versions (exit 3 when a migration is due) or apply them\n"
    "  --help                     this text\n"
    "\n"
    "options for every command:\n"
    "  --log-format text|json     log lines as text (default) or one JSON object per line\n";

// The value of `--name VALUE` or `--name=VALUE`, or "" when absent.
std::string option(int argc, char** argv, std::string_view name) {
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == name && i + 1 < argc)
      return argv[i + 1];
    if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
      return std::string(arg.substr(name.size() + 1));
    }
  }
  return {};
}

// Whether the bare `--name` is among the options.
bool flag(int argc, char** argv, std::string_view name) {
  for (int i = 2; i < argc; ++i) {
    if (argv[i] == name)
      return true;
  }
  return false;
}

int run_check(const std::string& path) {
  using namespace x402proxy;
  auto loaded = config::load_serve_config(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return 1;
  }
  // Solana offers name the facilitator's fee payer, known only at run time from /supported; the
  // table shows a placeholder for it.
  std::string fee_payer = (*loaded)->facilitator.solana_fee_payer;
  if (fee_payer.empty())
    fee_payer = "(facilitator fee payer)";
  auto table = config::build_price_table(**loaded, fee_payer);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.error().message.c_str());
    return 1;
  }
  std::fputs(config::format_price_table(**loaded, *table).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string_view command = argv[1];
  const std::string log_format = option(argc, argv, "--log-format");
  if (log_format == "json") {
    x402proxy::proxy::use_json_log_lines();
  } else if (!log_format.empty() && log_format != "text") {
    std::fprintf(stderr, "x402-mcp-proxy: --log-format must be text or json, got '%s'\n",
                 log_format.c_str());
    return 2;
  }
  std::string config_path = option(argc, argv, "--config");
  if ((command == "serve" || command == "check" || command == "facilitator" || command == "pay") &&
      config_path.empty()) {
    std::fprintf(stderr, "x402-mcp-proxy %s: --config FILE is required\n", argv[1]);
    return 2;
  }
  if (command == "serve")
    return x402proxy::proxy::run_serve_command(config_path);
  if (command == "check")
    return run_check(config_path);
  if (command == "pay")
    return x402proxy::pay::run_pay_command(config_path, flag(argc, argv, "--report"));
  if (command == "facilitator") {
    if (flag(argc, argv, "--balances"))
      return x402proxy::app::print_facilitator_balances(config_path);
    return x402proxy::app::run_facilitator_command(config_path);
  }
  if (command == "accounts")
    return x402proxy::app::run_accounts_command(argc, argv);
  if (command == "keygen") {
    return x402proxy::app::run_keygen_command(argc > 2 ? argv[2] : "", option(argc, argv, "--out"));
  }
  if (command == "store") {
    if (config_path.empty()) {
      std::fprintf(stderr, "x402-mcp-proxy store: --config FILE is required\n");
      return 2;
    }
    return x402proxy::app::run_store_command(argc > 2 ? argv[2] : "", config_path);
  }
  if (command == "probe")
    return x402proxy::app::run_probe_command(argc > 2 ? argv[2] : "",
                                             option(argc, argv, "--timeout"));
  std::fprintf(stderr, "x402-mcp-proxy: unknown command '%s'\n\n%s", argv[1], kUsage);
  return 2;
}
