#!/usr/bin/env node
// The seller: an Express app with one paid route, GET /paid ({"ok":true}), guarded by the
// official @x402/express payment middleware over an x402ResourceServer whose facilitator is the
// official HTTPFacilitatorClient pointed at --facilitator, as @x402/express's README sets it up.
// Prints one JSON line {"url":"http://127.0.0.1:PORT"} on stdout when listening; logs on stderr
// (every request, and every exchange with the facilitator, bodies included).
//   usage: node seller.mjs --facilitator URL --network CAIP2 --asset ADDRESS --pay-to ADDRESS
//          --price-atomic N [--name NAME --version V] [--svm-fee-payer ADDR]
//          [--max-timeout-seconds S] [--handler-status CODE]
import { printLine, logger, parseArgs, stopRules, decodeJsonHeader, bodyOf } from "./lib/common.mjs";

const log = logger("x402-http seller");
let opts;
try {
  opts = parseArgs(process.argv.slice(2), {
    "--facilitator": { key: "facilitator", required: true },
    "--network": { key: "network", required: true },
    "--asset": { key: "asset", required: true },
    "--pay-to": { key: "payTo", required: true },
    "--price-atomic": { key: "price", required: true },
    "--name": { key: "name" },
    "--version": { key: "version" },
    "--svm-fee-payer": { key: "feePayer" },
    "--max-timeout-seconds": { key: "maxTimeoutSeconds" },
    "--handler-status": { key: "handlerStatus", default: "200" },
    "--description": { key: "description", default: "x402-http peer paid route" },
  });
  if (!/^\d+$/.test(opts.price)) throw new Error("--price-atomic must be an integer amount in atomic units");
  if (!/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/.test(opts.network)) throw new Error("--network must be a CAIP-2 id");
  if ((opts.name === undefined) !== (opts.version === undefined)) throw new Error("--name and --version go together");
  if (opts.maxTimeoutSeconds !== undefined) opts.maxTimeoutSeconds = Number(opts.maxTimeoutSeconds);
  opts.handlerStatus = Number(opts.handlerStatus);
} catch (error) {
  console.error(`x402-http seller: ${error.message}`);
  process.exit(2);
}

// The facilitator client calls the global fetch: log each of its exchanges (and keep them for
// GET /exchanges) without changing them.
const facilitatorBase = opts.facilitator.replace(/\/+$/, "");
const exchanges = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (!url.startsWith(facilitatorBase)) return realFetch(input, init);
  const entry = { method: init.method ?? "GET", path: url.slice(facilitatorBase.length), request: bodyOf(init.body) };
  exchanges.push(entry);
  try {
    const response = await realFetch(input, init);
    const text = await response.clone().text();
    entry.status = response.status;
    entry.response = bodyOf(text);
    log(`facilitator ${entry.method} ${entry.path} ${init.body ? init.body : ""} -> ${response.status} ${text}`);
    return response;
  } catch (error) {
    entry.error = String(error.cause?.code ?? error.message);
    log(`facilitator ${entry.method} ${entry.path} failed: ${entry.error}`);
    throw error;
  }
};

const { default: express } = await import("express");
const { paymentMiddleware, x402ResourceServer } = await import("@x402/express");
const { HTTPFacilitatorClient } = await import("@x402/core/server");
const { ExactEvmScheme } = await import("@x402/evm/exact/server");
const { ExactSvmScheme } = await import("@x402/svm/exact/server");

// A Solana offer's extra.feePayer comes from the facilitator's /supported kind: @x402/svm's
// ExactSvmScheme.enhancePaymentRequirements writes supportedKind.extra.feePayer over whatever
// the route's extra holds (and drops it when the facilitator names none). --svm-fee-payer
// replaces it after that step, so a test can offer a fee payer of its choosing (even a wrong one).
class FeePayerOverride extends ExactSvmScheme {
  async enhancePaymentRequirements(requirements, supportedKind, extensionKeys) {
    const enhanced = await super.enhancePaymentRequirements(requirements, supportedKind, extensionKeys);
    const advertised = enhanced.extra?.feePayer;
    if (advertised !== opts.feePayer) log(`offering feePayer ${opts.feePayer} (--svm-fee-payer); the facilitator's /supported names ${advertised ?? "none"}`);
    return { ...enhanced, extra: { ...enhanced.extra, feePayer: opts.feePayer } };
  }
}

const facilitatorClient = new HTTPFacilitatorClient({ url: opts.facilitator });
const resourceServer = new x402ResourceServer(facilitatorClient)
  .register("eip155:*", new ExactEvmScheme())
  .register("solana:*", opts.feePayer !== undefined ? new FeePayerOverride() : new ExactSvmScheme());

// The price as an AssetAmount: the atomic amount of an explicit asset; EVM assets carry their
// EIP-712 domain (--name, --version) in extra.
const extra = {};
if (opts.name !== undefined) Object.assign(extra, { name: opts.name, version: opts.version });
const accepts = {
  scheme: "exact",
  network: opts.network,
  payTo: opts.payTo,
  price: { amount: opts.price, asset: opts.asset, extra },
  ...(opts.maxTimeoutSeconds !== undefined && { maxTimeoutSeconds: opts.maxTimeoutSeconds }),
};
const routes = { "GET /paid": { accepts, description: opts.description, mimeType: "application/json" } };

const requests = [];
const app = express();
app.disable("x-powered-by");
app.get("/exchanges", (req, res) => res.json({ facilitator: exchanges, requests }));
app.use((req, res, next) => {
  if (req.path === "/exchanges") return next();
  const paymentHeader = req.header("payment-signature") ?? req.header("x-payment");
  const entry = { method: req.method, path: req.originalUrl, payment: paymentHeader ? decodeJsonHeader(paymentHeader) : null };
  requests.push(entry);
  res.on("finish", () => {
    entry.status = res.statusCode;
    entry.paymentRequired = decodeJsonHeader(res.getHeader("payment-required"));
    entry.paymentResponse = decodeJsonHeader(res.getHeader("payment-response"));
    log(`${req.method} ${req.originalUrl}${paymentHeader ? " (with payment)" : ""} -> ${res.statusCode}`);
  });
  next();
});
app.use(paymentMiddleware(routes, resourceServer));
app.get("/paid", (req, res) => {
  if (opts.handlerStatus >= 400) res.status(opts.handlerStatus).json({ ok: false });
  else res.status(opts.handlerStatus).json({ ok: true });
});

const server = await new Promise((resolve, reject) => {
  const s = app.listen(0, "127.0.0.1", error => (error ? reject(error) : resolve(s)));
});
let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why})`);
  setTimeout(() => process.exit(0), 2000).unref();
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
}
stopRules(stop);
const { port } = server.address();
log(`listening on 127.0.0.1:${port}, GET /paid costs ${opts.price} of ${opts.asset} on ${opts.network} to ${opts.payTo}; facilitator ${facilitatorBase}`);
await printLine({ url: `http://127.0.0.1:${port}` });
