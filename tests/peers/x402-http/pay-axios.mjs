#!/usr/bin/env node
// Pays GET --url with the official @x402/axios wrapper (wrapAxiosWithPayment) over an x402Client
// with @x402/evm's exact scheme for eip155:* and the key --evm-key. Prints one JSON line
// {"status":200,"body":...,"paymentResponse":<decoded PAYMENT-RESPONSE or null>}, exit 0;
// on failure one line with "error", exit 1.
//   usage: node pay-axios.mjs --url URL --evm-key 0xHEX [--trace] [--default-spend-controls]
import { logger, parseArgs } from "./lib/common.mjs";
import { applySpendControls, payWithAxios, finish, fail } from "./lib/payer.mjs";

const log = logger("x402-http pay-axios");
const trace = [];
let opts;
try {
  opts = parseArgs(process.argv.slice(2), {
    "--url": { key: "url", required: true },
    "--evm-key": { key: "key", required: true },
    "--trace": { key: "trace", boolean: true },
    "--default-spend-controls": { key: "defaultSpend", boolean: true },
  });
  if (!/^0x[0-9a-fA-F]{64}$/.test(opts.key)) throw new Error("--evm-key must be 0x and 64 hex digits");
} catch (error) {
  await fail(error, trace, false);
}
try {
  const { privateKeyToAccount } = await import("viem/accounts");
  const { x402Client } = await import("@x402/axios");
  const { registerExactEvmScheme } = await import("@x402/evm/exact/client");
  const { toClientEvmSigner } = await import("@x402/evm");
  const account = privateKeyToAccount(opts.key);
  log(`paying ${opts.url} as ${account.address}`);
  const client = applySpendControls(registerExactEvmScheme(new x402Client(), { signer: toClientEvmSigner(account) }), opts.defaultSpend);
  await finish(await payWithAxios(opts.url, client, trace), trace, opts.trace);
} catch (error) {
  log(error.stack ?? error);
  await fail(error, trace, opts.trace);
}
