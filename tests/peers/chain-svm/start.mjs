#!/usr/bin/env node
// Starts the chain-svm test peer: LiteSVM (the real Solana runtime) behind a Solana JSON-RPC
// front, the official x402 facilitator (@x402/core + @x402/svm exact) and a control API, all on
// ephemeral loopback ports. Prints ONE JSON line on stdout when ready; logs go to stderr.
//   usage: node start.mjs [--payers N] [--balance ATOMIC] [--quiet]
// Exits on SIGTERM, SIGINT, or when stdin (a pipe or socket) closes.
import fs from "node:fs";

// Nothing but the ready line may reach stdout: libraries that log do so on stderr.
for (const name of ["log", "info", "debug"]) console[name] = (...args) => console.error(...args);
// A parent that closed our stdout or stderr must not crash the peer (EPIPE).
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

function usage(message) {
  process.stderr.write(`${message}\nusage: node start.mjs [--payers N] [--balance ATOMIC_UNITS] [--quiet]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let payers = 1;
let payerBalance = 1_000_000_000n; // 1000 USDC at 6 decimals
let quiet = false;
for (let i = 0; i < args.length; i += 1) {
  const a = args[i];
  const value = () => {
    if (i + 1 >= args.length) usage(`${a} needs a value`);
    i += 1;
    return args[i];
  };
  if (a === "--payers") {
    payers = Number(value());
    if (!Number.isInteger(payers) || payers < 1 || payers > 64) usage("--payers must be 1..64");
  } else if (a === "--balance") {
    const v = value();
    if (!/^\d+$/.test(v)) usage("--balance must be atomic units (digits)");
    payerBalance = BigInt(v);
  } else if (a === "--quiet") {
    quiet = true;
  } else if (a === "--help" || a === "-h") {
    usage("chain-svm test peer");
  } else {
    usage(`unknown argument: ${a}`);
  }
}

const log = quiet ? () => {} : (line) => process.stderr.write(`[chain-svm] ${line}\n`);
const { startPeer } = await import("./lib/peer.mjs");
const peer = await startPeer({ payers, payerBalance, log });
process.stdout.write(`${JSON.stringify(peer.info)}\n`);
log(`ready: rpc ${peer.info.rpc}, facilitator ${peer.info.facilitator}, control ${peer.info.control}`);

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why})`);
  const force = setTimeout(() => process.exit(0), 2000);
  force.unref();
  try {
    await peer.close();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
// Stdin closing means the parent went away, but only a pipe or socket can say so: /dev/null or
// a closed descriptor reads as end-of-file at once and is not watched.
let watchStdin = false;
try {
  const st = fs.fstatSync(0);
  watchStdin = st.isFIFO() || st.isSocket();
} catch {
  watchStdin = false;
}
if (watchStdin) {
  process.stdin.on("end", () => stop("stdin closed"));
  process.stdin.on("error", () => stop("stdin error"));
  process.stdin.resume();
}
