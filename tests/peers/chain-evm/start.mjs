#!/usr/bin/env node
// Real-chain EVM peer for the x402 integration tests (see README.md): a Hardhat chain with
// Circle's USDC and Multicall3, a JSON-RPC proxy that can inject faults, the official x402
// facilitator behind it, and a control API. Prints one JSON line on stdout when ready; logs go
// to stderr. Stops on SIGTERM, SIGINT, or when stdin (if it is a pipe or socket) closes.
//   usage: node start.mjs [--payers N] [--mint-usdc WHOLE_USDC] [--name EIP712_NAME]
//          [--confirmation-timeout-ms MS] [--polling-ms MS]
import fs from "node:fs";

// stdout carries exactly one line: whatever a library prints goes to stderr.
const stderrWrite = (...args) => console.error(...args);
console.log = stderrWrite;
console.info = stderrWrite;
console.debug = stderrWrite;
const log = (...args) => console.error(`[chain-evm ${new Date().toISOString().slice(11, 23)}]`, ...args);

function parseArgs(argv) {
  const opts = { payers: 3, mintUsdc: "1000", name: "USD Coin", confirmationTimeoutMs: 180_000, pollingMs: 250 };
  const keys = { "--payers": "payers", "--mint-usdc": "mintUsdc", "--name": "name", "--confirmation-timeout-ms": "confirmationTimeoutMs", "--polling-ms": "pollingMs" };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split("=", 2);
    if (!(flag in keys)) throw new Error(`unknown option ${flag}`);
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    opts[keys[flag]] = value;
  }
  opts.payers = Number(opts.payers);
  if (!Number.isInteger(opts.payers) || opts.payers < 1 || opts.payers > 100) throw new Error("--payers must be 1..100");
  if (!/^\d+(\.\d{1,6})?$/.test(String(opts.mintUsdc))) throw new Error("--mint-usdc must be a decimal USDC amount");
  opts.confirmationTimeoutMs = Number(opts.confirmationTimeoutMs);
  opts.pollingMs = Number(opts.pollingMs);
  if (!(opts.confirmationTimeoutMs > 0) || !(opts.pollingMs > 0)) throw new Error("timeouts must be positive");
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`chain-evm: ${error.message}`);
  process.exit(2);
}

const { parseEther, parseUnits } = await import("viem");
const { generatePrivateKey, privateKeyToAccount } = await import("viem/accounts");
const chainLib = await import("./lib/chain.mjs");
const { Faults } = await import("./lib/faults.mjs");
const { startRpcProxy } = await import("./lib/rpc-proxy.mjs");
const { startFacilitator } = await import("./lib/facilitator.mjs");
const { startControl } = await import("./lib/control.mjs");

const closers = [];
let stopping = false;
async function stop(why, code = 0) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why})`);
  const timer = setTimeout(() => process.exit(code), 3000);
  timer.unref();
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (error) {
      log(`while stopping: ${error.message}`);
    }
  }
  process.exit(code);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGHUP", () => stop("SIGHUP"));

// stdin closing means the test that started us is gone. Only a pipe or socket is watched: a
// /dev/null or terminal stdin (CI runs with no standard input) would end at once or never.
try {
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on("data", () => {});
    process.stdin.on("end", () => stop("stdin closed"));
    process.stdin.on("error", () => stop("stdin error"));
    process.stdin.resume();
  }
} catch {
  // no stdin at all
}

try {
  const chain = await chainLib.startChain({ log });
  closers.push(() => chain.server.close());
  const { provider } = chain;
  const publicClient = chainLib.publicClientFor(provider);

  const usdc = await chainLib.deployUsdc(provider, publicClient, { eip712Name: opts.name, log });
  await chainLib.installMulticall3(provider, publicClient, usdc.roles.deployer);

  const mintAtomic = parseUnits(String(opts.mintUsdc), usdc.decimals);
  const payers = [];
  for (let i = 0; i < opts.payers; i++) {
    const privateKey = generatePrivateKey();
    const account = privateKeyToAccount(privateKey);
    if (mintAtomic > 0n) await chainLib.mintUsdc(publicClient, usdc, account.address, mintAtomic);
    payers.push({ address: account.address, privateKey, account });
  }
  const payTo = privateKeyToAccount(generatePrivateKey()).address;
  // Submits /cancel and /drain transactions (the payers hold no ETH, as x402 payers need none).
  const relayer = await chainLib.makeAccount(provider, parseEther("1000"));

  const facilitatorKey = generatePrivateKey();
  const facilitatorWei = parseEther("10000");
  await chainLib.setBalance(provider, privateKeyToAccount(facilitatorKey).address, facilitatorWei);

  const faults = new Faults(log);
  const rpcProxy = await startRpcProxy({ target: chain.url, faults, log });
  closers.push(() => rpcProxy.close());
  const network = `eip155:${chain.chainId}`;
  const facilitator = await startFacilitator({
    privateKey: facilitatorKey,
    rpcUrl: rpcProxy.url,
    network,
    faults,
    log,
    pollingIntervalMs: opts.pollingMs,
    confirmationTimeoutMs: opts.confirmationTimeoutMs,
  });
  closers.push(() => facilitator.close());
  const control = await startControl({ provider, publicClient, usdc, payers, relayer, faults, facilitator, facilitatorWei, chainId: chain.chainId, log });
  closers.push(() => control.close());

  const ready = {
    rpc: chain.url,
    facilitator: facilitator.url,
    control: control.url,
    chainId: chain.chainId,
    network,
    usdc: usdc.address,
    name: usdc.name,
    version: usdc.version,
    decimals: usdc.decimals,
    payers: payers.map(p => ({ address: p.address, privateKey: p.privateKey })),
    payTo,
    facilitatorAddress: facilitator.address,
    facilitatorRpc: rpcProxy.url,
    symbol: usdc.symbol,
    multicall3: chainLib.MULTICALL3_ADDRESS,
    mintedPerPayer: mintAtomic.toString(),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  log("ready");
} catch (error) {
  log(`start-up failed: ${error.stack ?? error}`);
  await stop("start-up failed", 1);
}
