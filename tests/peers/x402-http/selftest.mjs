#!/usr/bin/env node
// Self-test of the x402-http peer. Runs, against a tiny in-process stub facilitator (GET
// /supported with exact on eip155:84532 and on Solana devnet with a feePayer, POST /verify
// isValid true, POST /settle success) and a stub Solana RPC (getAccountInfo of a mint,
// getLatestBlockhash): seller.mjs, an unpaid GET /paid, pay-fetch.mjs, pay-axios.mjs,
// pay-svm.mjs, then /settle answering success:false, /verify answering isValid:false, a handler
// that fails, and the stop rules. Prints what it observed on the wire; exits non-zero on any
// failure. `--json FILE` also writes every observation to FILE.
//   usage: node selftest.mjs [--json observed.json]
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { generateKeyPairSigner, getBase58Decoder } from "@solana/kit";
import { webcrypto } from "node:crypto";

const here = path.dirname(fileURLToPath(import.meta.url));
const jsonOut = (() => {
  const i = process.argv.indexOf("--json");
  return i > 0 ? process.argv[i + 1] : null;
})();

let passed = 0;
let failed = 0;
const observed = {};
function check(condition, what, detail) {
  if (condition) {
    passed++;
    console.log(`  ok   ${what}`);
  } else {
    failed++;
    console.log(`  FAIL ${what}${detail !== undefined ? `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}` : ""}`);
  }
  return condition;
}
function show(label, value) {
  observed[label] = value;
  console.log(`  ${label}: ${JSON.stringify(value)}`);
}
const decode = v => (v ? JSON.parse(Buffer.from(v, "base64").toString("utf8")) : null);

// ---- the stub facilitator --------------------------------------------------------------------
const EVM_NETWORK = "eip155:84532";
const SVM_NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
const BASE_SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
const DEVNET_USDC = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
const feePayer = (await generateKeyPairSigner()).address;
const stub = { mode: { verify: "ok", settle: "ok" }, calls: [] };
function readBody(req) {
  return new Promise(resolve => {
    const chunks = [];
    req.on("data", c => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}
function answer(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
const facilitator = http.createServer(async (req, res) => {
  const text = await readBody(req);
  const body = text ? JSON.parse(text) : undefined;
  const call = { method: req.method, path: req.url, headers: req.headers, body };
  stub.calls.push(call);
  const payer = body?.paymentPayload?.payload?.authorization?.from ?? (body?.paymentRequirements?.network === SVM_NETWORK ? "svm-payer" : undefined);
  if (req.method === "GET" && req.url === "/supported") {
    call.answer = {
      kinds: [
        { x402Version: 2, scheme: "exact", network: EVM_NETWORK },
        { x402Version: 2, scheme: "exact", network: SVM_NETWORK, extra: { feePayer } },
      ],
      extensions: [],
      signers: { "eip155:*": ["0x1111111111111111111111111111111111111111"], "solana:*": [feePayer] },
    };
  } else if (req.method === "POST" && req.url === "/verify") {
    if (stub.mode.verify === "http500-text") {
      res.writeHead(500, { "Content-Type": "text/plain" });
      return res.end("stub facilitator exploded");
    }
    if (stub.mode.verify === "http400-json") return answer(res, 400, { isValid: false, invalidReason: "invalid_payload", payer });
    call.answer = stub.mode.verify === "ok"
      ? { isValid: true, payer }
      : { isValid: false, invalidReason: "invalid_exact_evm_payload_signature", invalidMessage: "stub says no", payer };
  } else if (req.method === "POST" && req.url === "/settle") {
    const network = body.paymentRequirements.network;
    const transaction = network === SVM_NETWORK ? "5".repeat(88) : `0x${"ab".repeat(32)}`;
    if (stub.mode.settle === "no-transaction") return answer(res, 200, { success: true, network, payer });
    if (stub.mode.settle === "http400-json") return answer(res, 400, { success: false, errorReason: "invalid_transaction_state", transaction: "", network, payer });
    call.answer = stub.mode.settle === "ok"
      ? { success: true, transaction, network, payer, amount: body.paymentRequirements.amount }
      : { success: false, errorReason: "insufficient_funds", errorMessage: "stub says the payer is broke", transaction: "", network, payer };
  } else {
    return answer(res, 404, { error: "not found" });
  }
  answer(res, 200, call.answer);
});
await new Promise(r => facilitator.listen(0, "127.0.0.1", r));
const facilitatorUrl = `http://127.0.0.1:${facilitator.address().port}`;

// ---- the stub Solana RPC ------------------------------------------------------------------------
const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const mintData = Buffer.alloc(82); // SPL Mint: no authority, supply 0, decimals 6, initialized
mintData[44] = 6;
mintData[45] = 1;
const blockhash = getBase58Decoder().decode(webcrypto.getRandomValues(new Uint8Array(32)));
const rpcCalls = [];
const rpc = http.createServer(async (req, res) => {
  const request = JSON.parse(await readBody(req));
  rpcCalls.push({ method: request.method, params: request.params });
  let result;
  if (request.method === "getAccountInfo") {
    result = { context: { slot: 1 }, value: { data: [mintData.toString("base64"), "base64"], executable: false, lamports: 1461600, owner: TOKEN_PROGRAM, rentEpoch: 0, space: 82 } };
  } else if (request.method === "getLatestBlockhash") {
    result = { context: { slot: 1 }, value: { blockhash, lastValidBlockHeight: 1000 } };
  } else {
    return answer(res, 200, { jsonrpc: "2.0", id: request.id, error: { code: -32601, message: "method not found" } });
  }
  answer(res, 200, { jsonrpc: "2.0", id: request.id, result });
});
await new Promise(r => rpc.listen(0, "127.0.0.1", r));
const rpcUrl = `http://127.0.0.1:${rpc.address().port}`;

// ---- helpers ---------------------------------------------------------------------------------------
const children = [];
/** Starts a long-running peer script; resolves with {child, info} at its JSON line. */
function startPeer(script, args, { stdin = "pipe" } = {}) {
  const child = spawn(process.execPath, [path.join(here, script), ...args], { stdio: [stdin, "pipe", "pipe"] });
  children.push(child);
  const logs = [];
  child.stderr.on("data", d => logs.push(d.toString()));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed no JSON line within 30 s:\n${logs.join("")}`)), 30_000);
    readline.createInterface({ input: child.stdout }).once("line", line => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line), logs });
    });
    child.once("exit", code => reject(new Error(`${script} exited (${code}) before it was ready:\n${logs.join("")}`)));
  });
  return ready;
}
/** Runs a one-shot peer script; resolves with {code, lines, stderr}. */
function runPeer(script, args) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [path.join(here, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", d => (out += d));
    child.stderr.on("data", d => (err += d));
    child.once("exit", code => {
      const lines = out.split("\n").filter(Boolean);
      let json = null;
      try {
        json = JSON.parse(lines[0]);
      } catch {}
      resolve({ code, lines, json, stderr: err });
    });
  });
}
function exitOf(child, ms = 5000) {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => resolve({ timeout: true }), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}
const callsSince = n => stub.calls.slice(n).map(c => `${c.method} ${c.path}`);

const evmKey = generatePrivateKey();
const evmPayer = privateKeyToAccount(evmKey).address;
const payTo = privateKeyToAccount(generatePrivateKey()).address;
const svmPayer = await generateKeyPairSigner(true);
const svmSecret = getBase58Decoder().decode(
  new Uint8Array([
    ...new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", svmPayer.keyPair.privateKey)).slice(-32),
    ...new Uint8Array(await webcrypto.subtle.exportKey("raw", svmPayer.keyPair.publicKey)),
  ]),
);
const svmPayTo = (await generateKeyPairSigner()).address;

try {
  console.log(`stub facilitator ${facilitatorUrl}, stub Solana RPC ${rpcUrl}`);
  // ---- 1. the EVM seller ----------------------------------------------------------------------
  console.log("EVM seller on eip155:84532, 1000 atomic units of Base Sepolia USDC");
  const sellerArgs = ["--facilitator", facilitatorUrl, "--network", EVM_NETWORK, "--asset", BASE_SEPOLIA_USDC, "--pay-to", payTo, "--price-atomic", "1000", "--name", "USDC", "--version", "2"];
  const seller = await startPeer("seller.mjs", sellerArgs);
  show("seller_ready_line", seller.info);
  check(/^http:\/\/127\.0\.0\.1:\d+$/.test(seller.info.url), "seller prints {\"url\":\"http://127.0.0.1:PORT\"}");
  const paidUrl = `${seller.info.url}/paid`;

  // ---- 2. no payment: 402 ------------------------------------------------------------------------
  const unpaid = await fetch(paidUrl, { headers: { Accept: "application/json" } });
  const unpaidBody = await unpaid.text();
  const paymentRequiredRaw = unpaid.headers.get("payment-required");
  show("unpaid_status", unpaid.status);
  show("unpaid_headers", Object.fromEntries(unpaid.headers));
  show("unpaid_body", unpaidBody);
  const paymentRequired = decode(paymentRequiredRaw);
  show("payment_required_decoded", paymentRequired);
  check(unpaid.status === 402, "GET /paid without payment: 402");
  check(paymentRequired?.x402Version === 2 && paymentRequired.accepts?.length === 1, "PAYMENT-REQUIRED: base64 JSON, x402Version 2, one offer");
  const offer = paymentRequired?.accepts?.[0] ?? {};
  check(offer.scheme === "exact" && offer.network === EVM_NETWORK && offer.amount === "1000" && offer.asset === BASE_SEPOLIA_USDC && offer.payTo === payTo, "offer: exact, eip155:84532, amount 1000, asset, payTo", offer);
  check(offer.extra?.name === "USDC" && offer.extra?.version === "2", "offer extra carries the EIP-712 name and version", offer.extra);
  check(stub.calls.filter(c => c.path === "/supported").length >= 1, "the seller asked GET /supported");
  show("supported_request_headers", stub.calls.find(c => c.path === "/supported")?.headers);

  // ---- 3. pay-fetch ------------------------------------------------------------------------------
  console.log("pay-fetch.mjs (EVM exact, EIP-3009)");
  let mark = stub.calls.length;
  const pf = await runPeer("pay-fetch.mjs", ["--url", paidUrl, "--evm-key", evmKey, "--trace"]);
  check(pf.code === 0 && pf.lines.length === 1, "pay-fetch exits 0 with one line", { code: pf.code, lines: pf.lines, stderr: pf.stderr });
  check(pf.json?.status === 200 && pf.json?.body?.ok === true, "pay-fetch: status 200, body {\"ok\":true}", pf.json);
  check(pf.json?.paymentResponse?.success === true && pf.json.paymentResponse.transaction === `0x${"ab".repeat(32)}`, "pay-fetch: paymentResponse is the decoded settle answer", pf.json?.paymentResponse);
  show("pay_fetch_line_without_trace", { status: pf.json?.status, body: pf.json?.body, paymentResponse: pf.json?.paymentResponse });
  show("pay_fetch_trace", pf.json?.trace);
  const paidExchange = pf.json?.trace?.[1] ?? {};
  check(pf.json?.trace?.length === 2 && pf.json.trace[0].status === 402 && paidExchange.status === 200, "the wrapper: one unpaid request (402), one paid retry (200)");
  check(typeof paidExchange.requestHeaders?.["payment-signature"] === "string" && paidExchange.requestHeaders["x-payment"] === undefined, "the retry carries PAYMENT-SIGNATURE (not X-PAYMENT)", paidExchange.requestHeaders);
  const sent = paidExchange.payment ?? {};
  check(sent.x402Version === 2 && sent.payload?.authorization?.from === evmPayer && sent.payload.authorization.value === "1000" && /^0x[0-9a-f]{130}$/.test(sent.payload.signature), "PAYMENT-SIGNATURE: v2, EIP-3009 authorization from the payer for 1000, 65-byte signature", sent);
  const fcalls = callsSince(mark);
  show("facilitator_calls_for_one_payment", fcalls);
  check(JSON.stringify(fcalls) === JSON.stringify(["POST /verify", "POST /settle"]), "one payment: POST /verify then POST /settle");
  const verifyCall = stub.calls.slice(mark).find(c => c.path === "/verify");
  const settleCall = stub.calls.slice(mark).find(c => c.path === "/settle");
  show("verify_request_body", verifyCall?.body);
  show("verify_request_headers", verifyCall?.headers);
  show("settle_request_body", settleCall?.body);
  check(verifyCall?.body?.x402Version === 2 && JSON.stringify(Object.keys(verifyCall.body)) === JSON.stringify(["x402Version", "paymentPayload", "paymentRequirements"]), "verify body: {x402Version, paymentPayload, paymentRequirements}", verifyCall?.body && Object.keys(verifyCall.body));
  check(JSON.stringify(verifyCall?.body?.paymentPayload) === JSON.stringify(sent), "verify body's paymentPayload is exactly the decoded PAYMENT-SIGNATURE");
  check(JSON.stringify(verifyCall?.body?.paymentRequirements) === JSON.stringify(offer), "verify body's paymentRequirements is exactly the offer");
  check(JSON.stringify(settleCall?.body) === JSON.stringify(verifyCall?.body), "settle body is identical to verify body");
  const nowSeconds = Math.floor(Date.now() / 1000);
  show("authorization_window", { validAfter: sent.payload?.authorization?.validAfter, validBeforeMinusNow: Number(sent.payload?.authorization?.validBefore) - nowSeconds });
  // The same payment under the v1 header name X-PAYMENT.
  mark = stub.calls.length;
  const legacy = await fetch(paidUrl, { headers: { "X-PAYMENT": paidExchange.requestHeaders["payment-signature"] } });
  show("x_payment_header_answer", { status: legacy.status, body: await legacy.text(), paymentResponse: decode(legacy.headers.get("payment-response")), xPaymentResponse: legacy.headers.get("x-payment-response") });
  check(legacy.status === 402 && callsSince(mark).filter(c => c !== "GET /supported").length === 0, "a v2 payment under X-PAYMENT (the v1 header) is not read: a fresh 402, the facilitator is not asked");
  const sellerLog = await (await fetch(`${seller.info.url}/exchanges`)).json();
  show("seller_paid_request", sellerLog.requests.at(-1));

  // ---- 4. pay-axios ------------------------------------------------------------------------------
  console.log("pay-axios.mjs (EVM exact)");
  mark = stub.calls.length;
  const pa = await runPeer("pay-axios.mjs", ["--url", paidUrl, "--evm-key", evmKey, "--trace"]);
  check(pa.code === 0 && pa.json?.status === 200 && pa.json?.body?.ok === true && pa.json?.paymentResponse?.success === true, "pay-axios: exit 0, status 200, {\"ok\":true}, paymentResponse success", { code: pa.code, line: pa.lines[0], stderr: pa.stderr.slice(-2000) });
  check(JSON.stringify(callsSince(mark)) === JSON.stringify(["POST /verify", "POST /settle"]), "pay-axios: POST /verify then POST /settle");
  show("pay_axios_request_headers", pa.json?.trace?.[1]?.requestHeaders && Object.keys(pa.json.trace[1].requestHeaders));

  // ---- 5. settle answers success:false -----------------------------------------------------------
  console.log("/settle answers {success:false}");
  stub.mode.settle = "fail";
  mark = stub.calls.length;
  const sf = await runPeer("pay-fetch.mjs", ["--url", paidUrl, "--evm-key", evmKey, "--trace"]);
  stub.mode.settle = "ok";
  show("settle_failed_line", { ...sf.json, trace: undefined });
  show("settle_failed_seller_answer", sf.json?.trace?.at(-1));
  check(sf.code === 1 && sf.json?.error, "pay-fetch exits 1 with an error line");
  check(sf.json?.status === 402, "the seller answers 402 when /settle says success:false", sf.json?.status);
  check(JSON.stringify(callsSince(mark)) === JSON.stringify(["POST /verify", "POST /settle"]), "settle failure: one /verify, one /settle, no retry", callsSince(mark));

  // ---- 6. verify answers isValid:false -------------------------------------------------------------
  console.log("/verify answers {isValid:false}");
  stub.mode.verify = "fail";
  mark = stub.calls.length;
  const vf = await runPeer("pay-fetch.mjs", ["--url", paidUrl, "--evm-key", evmKey, "--trace"]);
  stub.mode.verify = "ok";
  show("verify_failed_line", { ...vf.json, trace: undefined });
  show("verify_failed_seller_answer", vf.json?.trace?.at(-1));
  check(vf.code === 1 && vf.json?.status === 402, "isValid false: the seller answers 402, pay-fetch exits 1");
  check(JSON.stringify(callsSince(mark)) === JSON.stringify(["POST /verify"]), "isValid false: no /settle", callsSince(mark));

  // ---- 6b. malformed facilitator answers ------------------------------------------------------------
  console.log("malformed or non-200 facilitator answers");
  for (const [label, mode, phase] of [
    ["verify_http500_text", { verify: "http500-text" }, "verify"],
    ["verify_http400_json", { verify: "http400-json" }, "verify"],
    ["settle_http400_json", { settle: "http400-json" }, "settle"],
    ["settle_without_transaction", { settle: "no-transaction" }, "settle"],
  ]) {
    Object.assign(stub.mode, mode);
    mark = stub.calls.length;
    const r = await runPeer("pay-fetch.mjs", ["--url", paidUrl, "--evm-key", evmKey, "--trace"]);
    stub.mode = { verify: "ok", settle: "ok" };
    const last = r.json?.trace?.at(-1) ?? {};
    show(label, { facilitatorCalls: callsSince(mark).filter(c => c !== "GET /supported"), status: last.status, responseHeaders: last.responseHeaders, paymentRequired: last.paymentRequired, paymentResponse: last.paymentResponse, body: last.body });
    check(r.code === 1 && last.status >= 400, `${label}: the payer is refused (HTTP ${last.status})`);
  }

  // ---- 7. SVM seller and pay-svm -----------------------------------------------------------------
  console.log("SVM seller on Solana devnet, pay-svm.mjs");
  const svmSeller = await startPeer("seller.mjs", ["--facilitator", facilitatorUrl, "--network", SVM_NETWORK, "--asset", DEVNET_USDC, "--pay-to", svmPayTo, "--price-atomic", "2500"]);
  const svmUnpaid = await fetch(`${svmSeller.info.url}/paid`);
  const svmRequired = decode(svmUnpaid.headers.get("payment-required"));
  show("svm_payment_required_decoded", svmRequired);
  check(svmUnpaid.status === 402 && svmRequired?.accepts?.[0]?.extra?.feePayer === feePayer, "SVM offer: extra.feePayer is the facilitator's /supported feePayer");
  mark = stub.calls.length;
  const ps = await runPeer("pay-svm.mjs", ["--url", `${svmSeller.info.url}/paid`, "--secret", svmSecret, "--rpc", rpcUrl, "--trace"]);
  check(ps.code === 0 && ps.json?.status === 200 && ps.json?.body?.ok === true && ps.json?.paymentResponse?.success === true, "pay-svm: exit 0, status 200, paymentResponse success", { code: ps.code, line: ps.lines[0], stderr: ps.stderr.slice(-2000) });
  show("svm_payment_signature_decoded", ps.json?.trace?.[1]?.payment);
  show("svm_rpc_calls", rpcCalls);
  check(rpcCalls.some(c => c.method === "getAccountInfo" && c.params?.[0] === DEVNET_USDC && c.params?.[1]?.encoding === "base64"), "pay-svm read the mint with getAccountInfo base64");
  check(rpcCalls.some(c => c.method === "getLatestBlockhash"), "pay-svm asked getLatestBlockhash");
  check(typeof ps.json?.trace?.[1]?.payment?.payload?.transaction === "string", "SVM PAYMENT-SIGNATURE payload: {transaction: base64}");
  show("svm_verify_request_body", stub.calls.slice(mark).find(c => c.path === "/verify")?.body);
  const psAxios = await runPeer("pay-svm.mjs", ["--url", `${svmSeller.info.url}/paid`, "--secret", svmSecret, "--rpc", rpcUrl, "--via", "axios"]);
  check(psAxios.code === 0 && psAxios.json?.status === 200, "pay-svm --via axios: exit 0, status 200", psAxios.lines[0]);
  const otherFeePayer = (await generateKeyPairSigner()).address;
  const overridden = await startPeer("seller.mjs", ["--facilitator", facilitatorUrl, "--network", SVM_NETWORK, "--asset", DEVNET_USDC, "--pay-to", svmPayTo, "--price-atomic", "2500", "--svm-fee-payer", otherFeePayer]);
  const overriddenOffer = decode((await fetch(`${overridden.info.url}/paid`)).headers.get("payment-required"))?.accepts?.[0];
  check(overriddenOffer?.extra?.feePayer === otherFeePayer, "--svm-fee-payer replaces the facilitator's feePayer in the offer", overriddenOffer?.extra);
  overridden.child.kill("SIGTERM");
  svmSeller.child.kill("SIGTERM");
  check(!(await exitOf(svmSeller.child)).timeout, "SVM seller exits on SIGTERM");

  // ---- 8. the handler fails: no settle --------------------------------------------------------------
  console.log("--handler-status 500");
  const failing = await startPeer("seller.mjs", [...sellerArgs, "--handler-status", "500"]);
  mark = stub.calls.length;
  const hf = await runPeer("pay-fetch.mjs", ["--url", `${failing.info.url}/paid`, "--evm-key", evmKey, "--trace"]);
  show("handler_failed_line", { ...hf.json, trace: undefined });
  show("handler_failed_headers", hf.json?.trace?.at(-1)?.responseHeaders);
  check(hf.code === 1 && hf.json?.status === 500, "a failing handler's 500 reaches the payer", hf.json?.status);
  check(JSON.stringify(callsSince(mark).filter(c => c !== "GET /supported")) === JSON.stringify(["POST /verify"]), "a failing handler: verified, never settled", callsSince(mark));
  failing.child.stdin.end();
  check(!(await exitOf(failing.child)).timeout, "seller exits when its stdin pipe closes");

  // ---- 9. bad options, stop rules ----------------------------------------------------------------
  const bad = await runPeer("pay-fetch.mjs", ["--url", paidUrl]);
  check(bad.code === 1 && bad.json?.error?.includes("--evm-key"), "pay-fetch without --evm-key: exit 1, JSON error line", bad.lines);
  const dead = await runPeer("pay-fetch.mjs", ["--url", "http://127.0.0.1:9/paid", "--evm-key", evmKey]);
  check(dead.code === 1 && typeof dead.json?.error === "string", "pay-fetch to a dead port: exit 1, JSON error line", dead.lines);
  seller.child.kill("SIGINT");
  check(!(await exitOf(seller.child)).timeout, "seller exits on SIGINT");
} catch (error) {
  failed++;
  console.log(`  FAIL ${error.stack ?? error}`);
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  facilitator.close();
  rpc.close();
  facilitator.closeAllConnections();
  rpc.closeAllConnections();
}
if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify({ passed, failed, observed }, null, 2)}\n`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
