#!/usr/bin/env node
// Self-test of the chain-evm peer: starts start.mjs, pays 1000 atomic USDC with the official
// @x402/evm client (EIP-3009) through the official facilitator's /verify and /settle, checks the
// chain, then works every control knob once and prints what the facilitator answered.
// Exits non-zero on any failure. `--json FILE` also writes every observed answer to FILE.
//   usage: node selftest.mjs [--json observed.json]
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { x402Client } from "@x402/core/client";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { toClientEvmSigner } from "@x402/evm";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

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
function show(label, answer) {
  observed[label] = answer;
  console.log(`  ${label}: HTTP ${answer.status}${answer.ms !== undefined ? ` after ${answer.ms} ms` : ""} ${answer.hangup ? "(connection closed, no answer)" : JSON.stringify(answer.body)}`);
}

// ---- start the peer -------------------------------------------------------------------------
const peer = spawn(process.execPath, [path.join(here, "start.mjs"), "--payers", "6", "--mint-usdc", "1000"], {
  stdio: ["pipe", "pipe", "pipe"],
});
const peerLog = [];
peer.stderr.on("data", d => peerLog.push(d.toString()));
const info = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("peer did not print its JSON line within 60 s")), 60_000);
  readline.createInterface({ input: peer.stdout }).once("line", line => {
    clearTimeout(timer);
    resolve(JSON.parse(line));
  });
  peer.once("exit", code => reject(new Error(`peer exited (${code}) before it was ready:\n${peerLog.join("")}`)));
});
let peerExited = false;
peer.once("exit", () => (peerExited = true));

async function request(base, method, route, body) {
  const started = Date.now();
  try {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: body !== undefined ? { "Content-Type": "application/json" } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, ms: Date.now() - started };
  } catch (error) {
    return { status: 0, hangup: true, error: String(error.cause?.code ?? error.message), ms: Date.now() - started };
  }
}
const control = (method, route, body) => request(info.control, method, route, body);
const facilitator = (route, paymentPayload, paymentRequirements) =>
  request(info.facilitator, "POST", route, { x402Version: paymentPayload.x402Version, paymentPayload, paymentRequirements });
const balance = async address => BigInt((await control("GET", `/balance?address=${address}`)).body.balance);

const requirements = (over = {}) => ({
  scheme: "exact",
  network: info.network,
  asset: info.usdc,
  amount: "1000",
  payTo: info.payTo,
  maxTimeoutSeconds: 300,
  extra: { name: info.name, version: info.version },
  ...over,
});
/** The official client signs a payment for `reqs` from payer `payerIndex`. */
async function pay(payerIndex, reqs = requirements()) {
  const account = privateKeyToAccount(info.payers[payerIndex].privateKey);
  const client = registerExactEvmScheme(new x402Client(), { signer: toClientEvmSigner(account) });
  // This chain's USDC is no @x402/evm default asset: opt it in, as the client's spend controls ask.
  client.setSpendControls({ allowedAssets: [{ network: info.network, asset: info.usdc }] });
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "mcp://selftest/tools/add", description: "chain-evm self-test", mimeType: "application/json" },
    accepts: [reqs],
  });
}

try {
  console.log(`peer: ${JSON.stringify({ ...info, payers: info.payers.map(p => p.address) })}`);
  check(info.chainId === 31337 && info.network === "eip155:31337", "chain id 31337");
  check(info.version === "2" && info.decimals === 6, `USDC EIP-712 name "${info.name}", version "${info.version}", decimals ${info.decimals}`);
  const supported = await request(info.facilitator, "GET", "/supported");
  show("supported", supported);
  check(supported.status === 200 && supported.body.kinds.some(k => k.x402Version === 2 && k.scheme === "exact" && k.network === info.network), "/supported lists exact on eip155:31337 (v2)");

  // ---- 1. the normal payment ----------------------------------------------------------------
  console.log("normal payment: 1000 atomic units to payTo");
  const payer0 = info.payers[0].address;
  const before0 = await balance(payer0);
  check((await balance(info.payTo)) === 0n, "payTo starts at zero");
  const p1 = await pay(0);
  check(p1.payload.authorization.value === "1000" && p1.accepted.payTo === info.payTo, "client signed EIP-3009 for 1000");
  const v1 = await facilitator("/verify", p1, requirements());
  show("verify_ok", v1);
  check(v1.status === 200 && v1.body.isValid === true, "verify: isValid true");
  const s1 = await facilitator("/settle", p1, requirements());
  show("settle_ok", s1);
  check(s1.status === 200 && s1.body.success === true && /^0x[0-9a-f]{64}$/.test(s1.body.transaction), "settle: success with a transaction hash");
  check((await balance(info.payTo)) === 1000n, "payTo holds exactly 1000");
  check(before0 - (await balance(payer0)) === 1000n, "payer paid exactly 1000");
  const transfers = (await control("GET", "/transfers")).body;
  const mine = transfers.filter(t => t.tx === s1.body.transaction);
  check(mine.length === 1 && mine[0].from === payer0 && mine[0].to === info.payTo && mine[0].value === "1000", "/transfers: one Transfer payer->payTo 1000 in the settle tx", mine);
  const auth1 = await control("GET", `/authorization?authorizer=${payer0}&nonce=${p1.payload.authorization.nonce}`);
  show("authorization_after_settle", auth1);
  check(auth1.body.state === "used" && auth1.body.tx === s1.body.transaction, "/authorization: used, by the settle tx");

  // ---- 2. the same payment again -----------------------------------------------------------
  console.log("repeated settle and verify of the settled payment");
  const s2 = await facilitator("/settle", p1, requirements());
  show("settle_repeat", s2);
  check(s2.status === 200 && s2.body.success === false, "repeat settle: success false");
  const v2 = await facilitator("/verify", p1, requirements());
  show("verify_after_settle", v2);
  check(v2.status === 200 && v2.body.isValid === false, "verify of a settled payment: isValid false");
  check((await balance(info.payTo)) === 1000n, "nothing moved twice");

  // ---- 3. cancelled authorization ------------------------------------------------------------
  console.log("cancelAuthorization before settle");
  const p3 = await pay(1);
  const payer1 = info.payers[1].address;
  const c3 = await control("POST", "/cancel", { authorizer: payer1, nonce: p3.payload.authorization.nonce });
  show("cancel", c3);
  check(c3.status === 200 && /^0x[0-9a-f]{64}$/.test(c3.body.tx) && c3.body.status === "success", "/cancel: mined");
  const a3 = await control("GET", `/authorization?authorizer=${payer1}&nonce=${p3.payload.authorization.nonce}`);
  show("authorization_after_cancel", a3);
  check(a3.body.state === "canceled" && a3.body.tx === c3.body.tx, "/authorization: canceled");
  const v3 = await facilitator("/verify", p3, requirements());
  show("verify_cancelled", v3);
  check(v3.status === 200 && v3.body.isValid === false, "verify after cancel: isValid false");
  const s3 = await facilitator("/settle", p3, requirements());
  show("settle_cancelled", s3);
  check(s3.status === 200 && s3.body.success === false, "settle after cancel: success false");

  // ---- 4. drained payer --------------------------------------------------------------------
  console.log("payer drained between verify and settle");
  const payer2 = info.payers[2].address;
  const p4 = await pay(2);
  const v4a = await facilitator("/verify", p4, requirements());
  check(v4a.body.isValid === true, "verify before drain: valid");
  const d4 = await control("POST", "/drain", { address: payer2 });
  show("drain", d4);
  check(d4.status === 200 && d4.body.amount === "1000000000" && (await balance(payer2)) === 0n, "/drain: balance moved away");
  const v4 = await facilitator("/verify", p4, requirements());
  show("verify_drained", v4);
  check(v4.status === 200 && v4.body.isValid === false, "verify with drained payer: isValid false");
  const s4 = await facilitator("/settle", p4, requirements());
  show("settle_drained", s4);
  check(s4.status === 200 && s4.body.success === false, "settle with drained payer: success false");

  // ---- 5. one 429 on eth_getTransactionReceipt ---------------------------------------------
  console.log("settle when eth_getTransactionReceipt answers 429 once");
  const p5 = await pay(3);
  const f5 = await control("POST", "/fault", { kind: "rpc_status", method: "eth_getTransactionReceipt", status: 429, count: 1 });
  check(f5.status === 200, "fault rpc_status armed");
  const s5 = await facilitator("/settle", p5, requirements());
  show("settle_receipt_429_once", s5);
  const faults5 = (await control("GET", "/faults")).body;
  check(faults5.rpc.length === 0, "the 429 was served (fault used up)", faults5);
  const a5 = await control("GET", `/authorization?authorizer=${info.payers[3].address}&nonce=${p5.payload.authorization.nonce}`);
  check(a5.body.state === "used", "the transfer landed on chain");

  // How many failed receipt look-ups it takes: viem's http transport tries each request 4 times
  // (retryCount 3) and waitForTransactionReceipt looks twice before it gives up: 8 failures.
  for (const count of [7, 8]) {
    const p = await pay(3);
    await control("POST", "/fault", { kind: "rpc_status", method: "eth_getTransactionReceipt", status: 429, count });
    const s = await facilitator("/settle", p, requirements());
    show(`settle_receipt_429_x${count}`, s);
    check(count === 7 ? s.body.success === true : s.body.errorReason === "settlement_pending", `429 x${count} on eth_getTransactionReceipt: ${count === 7 ? "success" : "settlement_pending"}`);
    await control("POST", "/reset");
  }

  // ---- 5b. receipts fail until the receipt wait times out, then a retry ---------------------
  console.log("settle when eth_getTransactionReceipt keeps failing (429 until reset), receipt wait bounded to 3 s");
  const p5b = await pay(3);
  await control("POST", "/fault", { kind: "rpc_status", method: "eth_getTransactionReceipt", status: 429, count: -1 });
  await control("POST", "/fault", { kind: "confirmation_timeout", ms: 3000 });
  const s5b = await facilitator("/settle", p5b, requirements());
  show("settle_receipt_429_always", s5b);
  const a5b = await control("GET", `/authorization?authorizer=${info.payers[3].address}&nonce=${p5b.payload.authorization.nonce}`);
  check(a5b.body.state === "used", "the transfer landed on chain anyway");
  await control("POST", "/reset");
  const s5c = await facilitator("/settle", p5b, requirements());
  show("settle_retry_after_pending", s5c);

  // ---- 6. facilitator out of gas -----------------------------------------------------------
  console.log("settle with the facilitator account at 0 wei");
  const g6 = await control("POST", "/facilitator/gas", { wei: "0" });
  check(g6.status === 200 && (await control("GET", `/eth?address=${info.facilitatorAddress}`)).body.balance === "0", "/facilitator/gas: 0 wei");
  const p6 = await pay(3);
  const v6 = await facilitator("/verify", p6, requirements());
  show("verify_out_of_gas", v6);
  const s6 = await facilitator("/settle", p6, requirements());
  show("settle_out_of_gas", s6);
  check(s6.body.success !== true, "settle without gas does not succeed");
  await control("POST", "/reset");
  check(BigInt((await control("GET", `/eth?address=${info.facilitatorAddress}`)).body.balance) > 0n, "/reset restores the facilitator's gas");
  const s6b = await facilitator("/settle", p6, requirements());
  check(s6b.body.success === true, "the same payment settles once gas is back", s6b.body);

  // ---- 7. verify refusals ------------------------------------------------------------------
  console.log("verify refusals");
  const p7 = await pay(4);
  const forged = await pay(5);
  forged.payload.authorization = { ...forged.payload.authorization, from: info.payers[4].address };
  const v7a = await facilitator("/verify", forged, requirements());
  show("verify_bad_signature", v7a);
  check(v7a.body.isValid === false, "bad signature refused");
  const tampered = structuredClone(p7);
  const sig = tampered.payload.signature;
  tampered.payload.signature = sig.slice(0, 10) + (sig[10] === "0" ? "1" : "0") + sig.slice(11);
  const v7a2 = await facilitator("/verify", tampered, requirements());
  show("verify_tampered_signature", v7a2);
  check(v7a2.body.isValid === false, "tampered signature refused");
  const v7b = await facilitator("/verify", p7, requirements({ amount: "2000" }));
  show("verify_wrong_amount", v7b);
  check(v7b.body.isValid === false, "wrong amount refused");
  const otherPayTo = privateKeyToAccount(generatePrivateKey()).address;
  const v7c = await facilitator("/verify", p7, requirements({ payTo: otherPayTo }));
  show("verify_wrong_payto", v7c);
  check(v7c.body.isValid === false, "wrong payTo refused");
  const s7c = await facilitator("/settle", p7, requirements({ payTo: otherPayTo }));
  show("settle_wrong_payto", s7c);
  const v7d = await request(info.facilitator, "POST", "/verify", { x402Version: 2, paymentPayload: p7 });
  show("verify_missing_requirements", v7d);
  check(v7d.status === 400, "missing paymentRequirements: 400");

  const p7e = await pay(4, requirements({ extra: { name: "USDC", version: "2" } }));
  const v7e = await facilitator("/verify", p7e, requirements({ extra: { name: "USDC", version: "2" } }));
  show("verify_wrong_eip712_name", v7e);
  check(v7e.body.invalidReason === "invalid_exact_evm_token_name_mismatch", "wrong EIP-712 name refused");
  const p7f = await pay(4, requirements({ maxTimeoutSeconds: 3 }));
  const v7f = await facilitator("/verify", p7f, requirements({ maxTimeoutSeconds: 3 }));
  show("verify_valid_before_too_soon", v7f);
  check(v7f.body.invalidReason === "invalid_exact_evm_payload_authorization_valid_before", "validBefore within 6 s refused");
  const v7g = await facilitator("/verify", p7, requirements({ network: "eip155:1" }));
  show("verify_unsupported_network", v7g);
  check(v7g.status === 500, "unregistered network: 500");
  const v7h = await request(info.facilitator, "POST", "/verify", { x402Version: 1, paymentPayload: { ...p7, x402Version: 1 }, paymentRequirements: requirements() });
  show("verify_x402_v1", v7h);
  check(v7h.status === 500, "x402 v1 payload: 500 (no v1 scheme on this chain)");

  // ---- 8. facilitator delays and hang-up ---------------------------------------------------
  console.log("facilitator delays and hang-up");
  await control("POST", "/fault", { kind: "verify_delay", ms: 800 });
  const v8 = await facilitator("/verify", p7, requirements());
  check(v8.body.isValid === true && v8.ms >= 800, `verify_delay 800: answered after ${v8.ms} ms`);
  await control("POST", "/fault", { kind: "settle_delay", ms: 1500 });
  const s8 = await facilitator("/settle", p7, requirements());
  show("settle_delayed", s8);
  check(s8.body.success === true && s8.ms >= 1500, `settle_delay 1500: answered after ${s8.ms} ms`);
  await control("POST", "/reset");
  const p8 = await pay(4);
  await control("POST", "/fault", { kind: "settle_hangup", count: 1 });
  const s8h = await facilitator("/settle", p8, requirements());
  show("settle_hangup", s8h);
  check(s8h.hangup === true, `settle_hangup: connection closed without an answer (${s8h.error})`);
  const a8 = await control("GET", `/authorization?authorizer=${info.payers[4].address}&nonce=${p8.payload.authorization.nonce}`);
  check(a8.body.state === "used", "settle_hangup: the transfer landed anyway");
  const log8 = (await control("GET", "/facilitator/log")).body.at(-1);
  check(log8.hangup === true && log8.response.success === true, "/facilitator/log has the unsent answer", log8.response);
  const s8r = await facilitator("/settle", p8, requirements());
  show("settle_after_hangup_retry", s8r);
  check(s8r.body.errorReason === "invalid_exact_evm_nonce_already_used", "settling again after a hang-up: nonce already used");
  await control("POST", "/reset");

  // ---- 9. mining modes ---------------------------------------------------------------------
  console.log("mining modes");
  const m9 = await control("POST", "/mine");
  check(m9.status === 200 && m9.body.block > 0, `/mine: block ${m9.body.block}`);
  await control("POST", "/fault", { kind: "mining", mode: "interval", ms: 1500 });
  const p9 = await pay(4);
  const s9 = await facilitator("/settle", p9, requirements());
  show("settle_interval_mining", s9);
  check(s9.body.success === true, `interval mining 1500 ms: settled after ${s9.ms} ms`);
  await control("POST", "/fault", { mode: "manual" });
  const p9b = await pay(4);
  const pending = facilitator("/settle", p9b, requirements());
  const early = await Promise.race([pending.then(() => "answered"), new Promise(r => setTimeout(() => r("held"), 2000))]);
  check(early === "held", "manual mining: settle is held while no block is mined");
  const m9b = await control("POST", "/mine");
  const s9b = await pending;
  show("settle_manual_mining_then_mine", s9b);
  check(s9b.body.success === true, `manual mining: settled once /mine made block ${m9b.body.block}`);
  // Held confirmation past the receipt-wait bound, then the retry reconciles.
  await control("POST", "/fault", { kind: "confirmation_timeout", ms: 2000 });
  const p9c = await pay(4);
  const s9c = await facilitator("/settle", p9c, requirements());
  show("settle_manual_mining_timeout", s9c);
  check(s9c.body.errorReason === "settlement_pending" && /^0x[0-9a-f]{64}$/.test(s9c.body.transaction), "manual mining past the receipt timeout: settlement_pending with the hash");
  await control("POST", "/mine");
  const s9d = await facilitator("/settle", p9c, requirements());
  show("settle_retry_after_timeout_mined", s9d);
  check(s9d.body.success === true && s9d.body.transaction === s9c.body.transaction, "retry after the block: success, same transaction");
  await control("POST", "/reset");
  check((await control("GET", "/faults")).body.mining.mode === "auto", "/reset: automine back on");

  // ---- 10. RPC failing for good during verify ----------------------------------------------
  console.log("verify and settle while the facilitator's RPC answers 500 for eth_call and eth_getCode");
  const p10 = await pay(4);
  await control("POST", "/fault", { kind: "rpc_status", method: "eth_call", status: 500, count: -1 });
  await control("POST", "/fault", { kind: "rpc_status", method: "eth_getCode", status: 500, count: -1 });
  const v10 = await facilitator("/verify", p10, requirements());
  show("verify_rpc_500", v10);
  check(v10.body.isValid !== true, "verify does not pass when the RPC fails");
  await control("POST", "/reset");

  check(!peerExited, "peer still running");

  // ---- 11. a second copy at once, stopped by closing its stdin ------------------------------
  console.log("a second peer alongside, stopped by closing stdin");
  const second = spawn(process.execPath, [path.join(here, "start.mjs"), "--payers", "1"], { stdio: ["pipe", "pipe", "ignore"] });
  const secondInfo = await new Promise((resolve, reject) => {
    readline.createInterface({ input: second.stdout }).once("line", line => resolve(JSON.parse(line)));
    second.once("exit", code => reject(new Error(`second peer exited (${code})`)));
  });
  check(secondInfo.rpc !== info.rpc && secondInfo.usdc && secondInfo.payers.length === 1, "second peer ready on its own ports");
  const secondCode = await new Promise(resolve => {
    const t = setTimeout(() => resolve("still running after 10 s"), 10_000);
    second.once("exit", c => {
      clearTimeout(t);
      resolve(c);
    });
    second.stdin.end();
  });
  check(secondCode === 0, `second peer exited ${secondCode} when its stdin closed`);
} catch (error) {
  failed++;
  console.log(`FAIL self-test aborted: ${error.stack ?? error}`);
} finally {
  if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify(observed, null, 2)}\n`);
  peer.kill("SIGTERM");
  const code = await new Promise(resolve => {
    if (peerExited) return resolve(peer.exitCode);
    const t = setTimeout(() => {
      peer.kill("SIGKILL");
      resolve("killed");
    }, 5000);
    peer.once("exit", c => {
      clearTimeout(t);
      resolve(c);
    });
  });
  if (code !== 0) {
    failed++;
    console.log(`  FAIL peer exit code on SIGTERM: ${code}`);
  } else {
    passed++;
    console.log("  ok   peer exited 0 on SIGTERM");
  }
  if (failed) console.log(`--- peer log ---\n${peerLog.join("")}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
