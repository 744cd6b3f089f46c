#!/usr/bin/env node
// Pays GET --url with the official @x402/svm exact client (a partially signed SPL
// TransferChecked; the facilitator's feePayer from the offer signs last) through the official
// @x402/fetch wrapper (or @x402/axios with --via axios). The client reads the mint with
// getAccountInfo (base64) and, unless the offer carries extra.recentBlockhash, a blockhash with
// getLatestBlockhash, both from --rpc. Prints the same line as pay-fetch.mjs.
//   usage: node pay-svm.mjs --url URL --secret BASE58_64_BYTES --rpc URL [--via fetch|axios]
//          [--trace] [--default-spend-controls]
import { logger, parseArgs } from "./lib/common.mjs";
import { applySpendControls, payWithFetch, payWithAxios, finish, fail } from "./lib/payer.mjs";

const log = logger("x402-http pay-svm");
const trace = [];
let opts;
try {
  opts = parseArgs(process.argv.slice(2), {
    "--url": { key: "url", required: true },
    "--secret": { key: "secret", required: true },
    "--rpc": { key: "rpc", required: true },
    "--via": { key: "via", default: "fetch" },
    "--trace": { key: "trace", boolean: true },
    "--default-spend-controls": { key: "defaultSpend", boolean: true },
  });
  if (!["fetch", "axios"].includes(opts.via)) throw new Error("--via must be fetch or axios");
} catch (error) {
  await fail(error, trace, false);
}
try {
  const { createKeyPairSignerFromBytes, getBase58Encoder } = await import("@solana/kit");
  const { x402Client } = await import("@x402/fetch");
  const { ExactSvmScheme } = await import("@x402/svm/exact/client");
  const secret = getBase58Encoder().encode(opts.secret);
  if (secret.length !== 64) throw new Error(`--secret decodes to ${secret.length} bytes, not 64`);
  const signer = await createKeyPairSignerFromBytes(secret);
  log(`paying ${opts.url} as ${signer.address} (rpc ${opts.rpc}, via ${opts.via})`);
  const client = applySpendControls(new x402Client().register("solana:*", new ExactSvmScheme(signer, { rpcUrl: opts.rpc })), opts.defaultSpend);
  const pay = opts.via === "axios" ? payWithAxios : payWithFetch;
  await finish(await pay(opts.url, client, trace), trace, opts.trace);
} catch (error) {
  log(error.stack ?? error);
  await fail(error, trace, opts.trace);
}
