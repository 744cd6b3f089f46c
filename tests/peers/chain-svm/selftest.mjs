#!/usr/bin/env node
// Self-test of the chain-svm peer. Starts it, has the official @x402/svm client sign exact
// payments (building them through the peer's RPC front), calls the official facilitator over
// HTTP, checks the money that moved on LiteSVM, exercises every control knob once and prints
// what the facilitator answered. Exits non-zero on failure.
//   usage: node selftest.mjs [--quick]   (--quick skips the 30 s drop_next_send case)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createKeyPairSignerFromBytes, createSolanaRpc, getBase58Encoder } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import { HTTPFacilitatorClient } from "@x402/core/http";
import { ExactSvmScheme } from "@x402/svm/exact/client";

const quick = process.argv.includes("--quick");
const here = fileURLToPath(new URL(".", import.meta.url));
let failures = 0;
const observed = {};

function check(condition, what, detail) {
  if (condition) {
    process.stderr.write(`  ok   ${what}\n`);
  } else {
    failures += 1;
    process.stderr.write(`  FAIL ${what}${detail !== undefined ? `: ${JSON.stringify(detail)}` : ""}\n`);
  }
}

// --- start the peer -------------------------------------------------------------------------
const child = spawn(process.execPath, [`${here}start.mjs`, "--payers", "3"], {
  stdio: ["pipe", "pipe", "pipe"],
});
const peerLog = [];
createInterface({ input: child.stderr }).on("line", (line) => {
  peerLog.push(line);
  if (process.env.CHAIN_SVM_VERBOSE) process.stderr.write(`    | ${line}\n`);
});
const lines = createInterface({ input: child.stdout });
const [first] = await Promise.race([
  once(lines, "line"),
  new Promise((_, reject) => setTimeout(() => reject(new Error("peer not ready in 60 s")), 60_000)),
  once(child, "exit").then(([code]) => {
    throw new Error(`peer exited early (${code}): ${peerLog.join("\n")}`);
  }),
]);
const info = JSON.parse(first);
let extraStdout = "";
lines.on("line", (l) => (extraStdout += `${l}\n`));
process.stderr.write(`peer ready: ${first}\n`);
check(
  ["rpc", "facilitator", "control", "network", "mint", "decimals", "feePayer", "payers", "payTo"].every((k) => k in info),
  "ready line has every field",
);

// --- helpers --------------------------------------------------------------------------------
async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}
const ctl = (method, path, body) => http(method, `${info.control}${path}`, body);
const balance = async (owner) => BigInt((await ctl("GET", `/balance?owner=${owner}`)).body.amount);
async function rpcCall(method, params) {
  return (await http("POST", `${info.rpc}/selftest`, { jsonrpc: "2.0", id: 1, method, params })).body;
}
async function facilitatorCall(path, payload, requirements) {
  const started = Date.now();
  try {
    const r = await http("POST", `${info.facilitator}${path}`, {
      x402Version: payload.x402Version,
      paymentPayload: payload,
      paymentRequirements: requirements,
    });
    return { ...r, ms: Date.now() - started };
  } catch (e) {
    return { status: null, error: String(e.cause?.code ?? e.message), ms: Date.now() - started };
  }
}

const requirementsFor = (overrides = {}) => ({
  scheme: "exact",
  network: info.network,
  amount: "1000",
  asset: info.mint,
  payTo: info.payTo,
  maxTimeoutSeconds: 60,
  extra: { feePayer: info.feePayer },
  ...overrides,
});

const clients = [];
for (const p of info.payers) {
  const signer = await createKeyPairSignerFromBytes(new Uint8Array(getBase58Encoder().encode(p.secretKey)));
  check(signer.address === p.address, `payer secretKey matches its address ${p.address}`);
  // Our mint is not one of the package's default assets: allow it explicitly (spend controls).
  const client = new x402Client().setSpendControls({ allowedAssets: [{ network: info.network, asset: info.mint }] });
  // The official client; its RPC (mint lookup, blockhash) is the peer's front.
  client.register(info.network, new ExactSvmScheme(signer, { rpcUrl: `${info.rpc}/x402-client` }));
  clients.push(client);
}
async function pay(payerIndex = 0, requirements = requirementsFor()) {
  return clients[payerIndex].createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/selftest-tool", description: "chain-svm selftest", mimeType: "application/json" },
    accepts: [requirements],
  });
}
const transfersTo = async (owner) => (await ctl("GET", "/transfers")).body.filter((t) => t.to === owner);

// --- /supported ---------------------------------------------------------------------------
process.stderr.write("supported\n");
const supported = await http("GET", `${info.facilitator}/supported`);
observed.supported = supported;
check(supported.status === 200, "GET /supported answers 200");
const kind = supported.body.kinds?.find((k) => k.x402Version === 2 && k.network === info.network);
check(kind?.scheme === "exact" && kind?.extra?.feePayer === info.feePayer, "/supported lists exact on the network with extra.feePayer", supported.body);
const official = new HTTPFacilitatorClient({ url: info.facilitator });
const supportedParsed = await official.getSupported();
check(supportedParsed.kinds.length >= 1, "the official HTTPFacilitatorClient parses /supported");

// --- the RPC shapes the C++ buyer relies on --------------------------------------------------
process.stderr.write("rpc shapes\n");
{
  const bh = await rpcCall("getLatestBlockhash", [{ commitment: "confirmed" }]);
  check(typeof bh.result?.value?.blockhash === "string" && typeof bh.result?.context?.slot === "number", "getLatestBlockhash {context,value:{blockhash,lastValidBlockHeight}}", bh);
  const mint = await rpcCall("getAccountInfo", [info.mint, { encoding: "jsonParsed", commitment: "confirmed" }]);
  const v = mint.result?.value;
  check(
    v?.owner === "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA" && v?.data?.parsed?.type === "mint" && v.data.parsed.info.decimals === 6 && v.data.program === "spl-token",
    "getAccountInfo(mint, jsonParsed) is a parsed spl-token mint with 6 decimals",
    mint,
  );
  const b64 = await rpcCall("getAccountInfo", [info.mint, { encoding: "base64" }]);
  check(Array.isArray(b64.result?.value?.data) && b64.result.value.data[1] === "base64", "getAccountInfo base64", b64);
  const b58 = await rpcCall("getAccountInfo", [info.mint, { encoding: "base58" }]);
  check(b58.result?.value?.data?.[1] === "base58", "getAccountInfo base58 (82-byte mint)", b58);
  const missing = await rpcCall("getAccountInfo", ["11111111111111111111111111111112", { encoding: "base64" }]);
  check(missing.result?.value === null, "getAccountInfo of a missing account is value:null", missing);
  const rpc = createSolanaRpc(`${info.rpc}/selftest`);
  const multi = await rpc.getMultipleAccounts([info.mint, info.feePayer], { encoding: "base64" }).send();
  check(multi.value.length === 2 && multi.value[1].lamports > 0n, "getMultipleAccounts (kit client)");
  const ata = (await ctl("GET", `/balance?owner=${info.payers[0].address}`)).body.tokenAccount;
  const tb = await rpc.getTokenAccountBalance(ata).send();
  check(tb.value.amount === "1000000000" && tb.value.decimals === 6, "getTokenAccountBalance of a payer's ATA", tb.value);
  const parsedAta = await rpc.getAccountInfo(ata, { encoding: "jsonParsed" }).send();
  check(parsedAta.value.data.parsed.info.tokenAmount.amount === "1000000000", "getAccountInfo(ata, jsonParsed) tokenAmount");
  check((await rpc.getBalance(info.feePayer).send()).value > 0n, "getBalance");
  check(typeof (await rpc.getSlot().send()) === "bigint", "getSlot");
  check(typeof (await rpc.getBlockHeight().send()) === "bigint", "getBlockHeight");
  const latest = await rpc.getLatestBlockhash().send();
  check((await rpc.isBlockhashValid(latest.value.blockhash).send()).value === true, "isBlockhashValid");
  check((await rpc.getMinimumBalanceForRentExemption(165n).send()) === 2039280n, "getMinimumBalanceForRentExemption(165) = 2039280");
}

// --- 1. a normal payment: verify + settle -----------------------------------------------------
process.stderr.write("normal payment\n");
const payer0 = info.payers[0].address;
const before0 = await balance(payer0);
const beforePayTo = await balance(info.payTo);
const feePayerSolBefore = BigInt((await ctl("GET", `/sol?address=${info.feePayer}`)).body.lamports);
const payment = await pay(0);
check(typeof payment.payload?.transaction === "string", "the official client built a payment");
const verify = await facilitatorCall("/verify", payment, requirementsFor());
observed.verify_ok = verify;
check(verify.status === 200 && verify.body.isValid === true, "verify: isValid true", verify.body);
const settle = await facilitatorCall("/settle", payment, requirementsFor());
observed.settle_ok = settle;
check(settle.status === 200 && settle.body.success === true && typeof settle.body.transaction === "string", "settle: success true with a transaction", settle.body);
check((await balance(payer0)) === before0 - 1000n, "the payer lost exactly 1000");
check((await balance(info.payTo)) === beforePayTo + 1000n, "payTo gained exactly 1000");
const tr = (await ctl("GET", "/transfers")).body;
check(tr.length === 1 && tr[0].amount === "1000" && tr[0].from === payer0 && tr[0].to === info.payTo && tr[0].signature === settle.body.transaction, "/transfers has exactly that transfer", tr);
check((await ctl("GET", `/status?signature=${settle.body.transaction}`)).body.status === "processed", "/status processed");
const feePayerSolAfter = BigInt((await ctl("GET", `/sol?address=${info.feePayer}`)).body.lamports);
observed.fee_payer_lamports_spent = (feePayerSolBefore - feePayerSolAfter).toString();
check(feePayerSolAfter < feePayerSolBefore, "the fee payer paid the fee (/sol)");
{
  const rpc = createSolanaRpc(`${info.rpc}/selftest`);
  const st = await rpc.getSignatureStatuses([settle.body.transaction]).send();
  check(st.value[0]?.confirmationStatus === "confirmed" && st.value[0]?.err === null, "getSignatureStatuses confirmed", st.value[0]);
  const got = await rpc.getTransaction(settle.body.transaction, { encoding: "jsonParsed", maxSupportedTransactionVersion: 0 }).send();
  check(got?.meta?.fee === BigInt(observed.fee_payer_lamports_spent), "getTransaction meta.fee equals what the fee payer lost", { fee: got?.meta?.fee?.toString() });
  const t = got?.transaction?.message?.instructions?.[2];
  check(t?.parsed?.type === "transferChecked" && t.parsed.info.tokenAmount.amount === "1000", "getTransaction jsonParsed shows the transferChecked");
  const b64tx = await rpcCall("getTransaction", [settle.body.transaction, { encoding: "base64", maxSupportedTransactionVersion: 0 }]);
  check(b64tx.result?.transaction?.[1] === "base64", "getTransaction base64");
  const wire = Buffer.from(b64tx.result.transaction[0], "base64");
  const messageB64 = wire.subarray(1 + 64 * wire[0]).toString("base64");
  const fee = await rpcCall("getFeeForMessage", [messageB64, { commitment: "confirmed" }]);
  check(fee.result?.value === Number(observed.fee_payer_lamports_spent), "getFeeForMessage of the payment's message = the fee charged", fee);
  const resend = await rpcCall("sendTransaction", [b64tx.result.transaction[0], { encoding: "base64" }]);
  observed.rpc_resend_with_preflight = resend;
  check(resend.error?.code === -32002 && resend.error?.data?.err === "AlreadyProcessed", "sendTransaction (preflight) of a processed transaction: -32002 AlreadyProcessed", resend);
  const resendSkip = await rpcCall("sendTransaction", [b64tx.result.transaction[0], { encoding: "base64", skipPreflight: true }]);
  check(resendSkip.result === settle.body.transaction, "sendTransaction (skipPreflight) of a processed transaction answers its signature", resendSkip);
  const sim = await rpcCall("simulateTransaction", [payment.payload.transaction, { encoding: "base64", sigVerify: false, commitment: "confirmed" }]);
  check(sim.result?.value?.err === "AlreadyProcessed", "simulateTransaction of a processed payment: err AlreadyProcessed", sim.result?.value);
}
const officialVerify = await official.verify(await pay(1), requirementsFor());
check(officialVerify.isValid === true, "the official HTTPFacilitatorClient parses /verify");

// --- 2. the same payment settled twice ------------------------------------------------------
process.stderr.write("same payment twice\n");
observed.settle_twice = await facilitatorCall("/settle", payment, requirementsFor());
check(observed.settle_twice.body.success === false, "second settle of the same payment fails", observed.settle_twice.body);
check((await transfersTo(info.payTo)).length === 1, "still exactly one transfer");

// --- 3. verify failures ------------------------------------------------------------------------
process.stderr.write("verify failures\n");
const p3 = await pay(1);
observed.verify_wrong_amount = await facilitatorCall("/verify", p3, requirementsFor({ amount: "2000" }));
check(observed.verify_wrong_amount.body.isValid === false, "verify with a wrong amount is invalid", observed.verify_wrong_amount.body);
observed.verify_wrong_recipient = await facilitatorCall("/verify", p3, requirementsFor({ payTo: info.feePayer === info.payTo ? payer0 : info.payers[2].address }));
check(observed.verify_wrong_recipient.body.isValid === false, "verify with a wrong recipient is invalid", observed.verify_wrong_recipient.body);
{
  const bytes = Buffer.from(p3.payload.transaction, "base64");
  // Wire layout: compact-u16 count (1 byte here), then 64-byte signatures; #0 is the fee
  // payer's (empty), #1 the payer's. Flip one bit of the payer's signature.
  bytes[1 + 64 + 10] ^= 0x01;
  const bad = { ...p3, payload: { transaction: bytes.toString("base64") } };
  observed.verify_bad_signature = await facilitatorCall("/verify", bad, requirementsFor());
  check(observed.verify_bad_signature.body.isValid === false, "verify with a bad signature is invalid", observed.verify_bad_signature.body);
  observed.settle_bad_signature = await facilitatorCall("/settle", bad, requirementsFor());
}
observed.verify_missing_fields = await http("POST", `${info.facilitator}/verify`, { x402Version: 2 });
check(observed.verify_missing_fields.status === 400, "verify without paymentPayload answers 400");

// --- 4. a drained payer --------------------------------------------------------------------------
process.stderr.write("drained payer\n");
const p4 = await pay(2);
const drain = await ctl("POST", "/drain", { owner: info.payers[2].address });
observed.drain = drain;
check(drain.status === 200 && drain.body.amount === "1000000000", "/drain moved the whole balance", drain.body);
check((await balance(info.payers[2].address)) === 0n, "/balance is 0 after /drain");
observed.verify_drained = await facilitatorCall("/verify", p4, requirementsFor());
observed.settle_drained = await facilitatorCall("/settle", p4, requirementsFor());
check(observed.verify_drained.body.isValid === false && observed.settle_drained.body.success === false, "verify and settle of a drained payer fail", [observed.verify_drained.body, observed.settle_drained.body]);

// --- 5. 429 on getSignatureStatuses during confirmation ---------------------------------------------
process.stderr.write("429 on getSignatureStatuses\n");
{
  const p = await pay(0);
  const before = await balance(info.payTo);
  await ctl("POST", "/fault", { kind: "rpc_status", method: "getSignatureStatuses", status: 429, count: 1 });
  observed.settle_429 = await facilitatorCall("/settle", p, requirementsFor());
  const s = observed.settle_429.body;
  check(s.success === false && s.errorReason === "settlement_pending" && typeof s.transaction === "string" && s.transaction.length > 0, "a 429 during confirmation answers settlement_pending with the transaction", s);
  check((await ctl("GET", `/status?signature=${s.transaction}`)).body.status === "processed", "the transaction did land (/status processed)");
  check((await balance(info.payTo)) === before + 1000n, "the 1000 moved although settle said pending");
  observed.settle_429_retry = await facilitatorCall("/settle", p, requirementsFor());
  check(observed.settle_429_retry.body.success === true && observed.settle_429_retry.body.transaction === s.transaction, "settling the same payment again reconciles to success with the same transaction", observed.settle_429_retry.body);
  check((await balance(info.payTo)) === before + 1000n, "and nothing moved twice");
}

// --- 6. an expired blockhash ---------------------------------------------------------------------------------
process.stderr.write("expired blockhash\n");
{
  const p = await pay(0);
  const exp = await ctl("POST", "/expire_blockhash");
  observed.expire_blockhash = exp;
  check(exp.status === 200 && exp.body.blockhash !== exp.body.expired.blockhash, "/expire_blockhash replaced the blockhash", exp.body);
  const valid = await rpcCall("isBlockhashValid", [exp.body.expired.blockhash, {}]);
  check(valid.result?.value === false, "isBlockhashValid(old) is false", valid);
  observed.verify_expired = await facilitatorCall("/verify", p, requirementsFor());
  observed.settle_expired = await facilitatorCall("/settle", p, requirementsFor());
  check(observed.verify_expired.body.isValid === false && observed.settle_expired.body.success === false, "verify and settle of a payment on an expired blockhash fail", [observed.verify_expired.body, observed.settle_expired.body]);
}

// --- 7. the other knobs --------------------------------------------------------------------------------------
process.stderr.write("verify_delay, settle_delay\n");
{
  await ctl("POST", "/fault", { kind: "verify_delay", ms: 800, count: 1 });
  const p = await pay(0);
  const v = await facilitatorCall("/verify", p, requirementsFor());
  observed.verify_delay = v;
  check(v.body.isValid === true && v.ms >= 800, `verify_delay: answer after ${v.ms} ms`);
  await ctl("POST", "/fault", { kind: "settle_delay", ms: 1200, count: 1 });
  const before = await balance(info.payTo);
  const s = await facilitatorCall("/settle", p, requirementsFor());
  observed.settle_delay = s;
  check(s.body.success === true && s.ms >= 1200, `settle_delay: success after ${s.ms} ms`, s.body);
  check((await balance(info.payTo)) === before + 1000n, "settle_delay: 1000 moved");
}
process.stderr.write("settle_hangup\n");
{
  const p = await pay(0);
  const before = await balance(info.payTo);
  await ctl("POST", "/fault", { kind: "settle_hangup" });
  const s = await facilitatorCall("/settle", p, requirementsFor());
  observed.settle_hangup = s;
  check(s.status === null, "settle_hangup: no HTTP answer", s);
  check((await balance(info.payTo)) === before + 1000n, "settle_hangup: the settlement happened anyway");
  observed.settle_after_hangup = await facilitatorCall("/settle", p, requirementsFor());
  check(observed.settle_after_hangup.body.success === false, "settling again after a hang-up does not pay twice", observed.settle_after_hangup.body);
  check((await balance(info.payTo)) === before + 1000n, "settle_hangup: nothing moved twice");
}
process.stderr.write("confirm_delay\n");
{
  const p = await pay(0);
  await ctl("POST", "/fault", { kind: "confirm_delay", ms: 2500, count: 1 });
  const pending = facilitatorCall("/settle", p, requirementsFor());
  await new Promise((r) => setTimeout(r, 800));
  const sigs = (await ctl("GET", "/rpc_log")).body.calls.filter((c) => c.method === "getSignatureStatuses").length;
  const s = await pending;
  observed.confirm_delay = s;
  check(s.body.success === true && s.ms >= 2500, `confirm_delay: success after ${s.ms} ms`, s.body);
  check(sigs > 0, "confirm_delay: the facilitator was polling getSignatureStatuses meanwhile");
}
async function sendCount() {
  return (await ctl("GET", "/rpc_log")).body.calls.filter((c) => c.method === "sendTransaction" && c.caller === "/facilitator").length;
}
async function waitForSend(before) {
  for (let i = 0; i < 100; i += 1) {
    if ((await sendCount()) > before) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
process.stderr.write("drained while the transaction is pending (fails on chain)\n");
{
  const p = await pay(1);
  const before = await balance(info.payTo);
  await ctl("POST", "/fault", { kind: "confirm_delay", ms: 1500, count: 1 });
  const sends = await sendCount();
  const pending = facilitatorCall("/settle", p, requirementsFor());
  check(await waitForSend(sends), "the facilitator sent the transaction");
  await ctl("POST", "/drain", { owner: info.payers[1].address });
  const s = await pending;
  observed.settle_failed_onchain = s;
  check(s.body.success === false && s.body.errorReason === "invalid_exact_svm_transaction_failed" && s.body.transaction, "a transaction failing on chain answers invalid_exact_svm_transaction_failed with the transaction", s.body);
  check((await ctl("GET", `/status?signature=${s.body.transaction}`)).body.status === "failed", "/status failed");
  check((await balance(info.payTo)) === before, "nothing moved");
}
if (!quick) {
  process.stderr.write("drop_next_send (the facilitator polls for 30 s)\n");
  {
    const p = await pay(0);
    const before = await balance(info.payTo);
    await ctl("POST", "/fault", { kind: "drop_next_send" });
    const s = await facilitatorCall("/settle", p, requirementsFor());
    observed.drop_next_send = s;
    check(s.body.success === false && s.body.errorReason === "settlement_pending", `drop_next_send: settlement_pending after ${s.ms} ms`, s.body);
    check((await ctl("GET", `/status?signature=${s.body.transaction}`)).body.status === "unknown", "drop_next_send: /status unknown");
    check((await balance(info.payTo)) === before, "drop_next_send: nothing moved");
  }
  process.stderr.write("blockhash expired while the transaction is pending (30 s)\n");
  {
    const p = await pay(0);
    const before = await balance(info.payTo);
    await ctl("POST", "/fault", { kind: "confirm_delay", ms: 1500, count: 1 });
    const sends = await sendCount();
    const pending = facilitatorCall("/settle", p, requirementsFor());
    check(await waitForSend(sends), "the facilitator sent the transaction");
    await ctl("POST", "/expire_blockhash");
    const s = await pending;
    observed.settle_expired_while_pending = s;
    check(s.body.success === false && s.body.errorReason === "settlement_pending", `expired while pending: settlement_pending after ${s.ms} ms`, s.body);
    const st = (await ctl("GET", `/status?signature=${s.body.transaction}`)).body;
    observed.status_expired_while_pending = st;
    check(st.status === "unknown" && st.neverLanded === "BlockhashNotFound", "the transaction never landed (BlockhashNotFound)", st);
    check((await balance(info.payTo)) === before, "nothing moved");
  }
}
process.stderr.write("status, reset\n");
{
  const unknown = await ctl("GET", "/status?signature=1111111111111111111111111111111111111111111111111111111111111111");
  check(unknown.body.status === "unknown", "/status of an unknown signature");
  const rpcLog = (await ctl("GET", "/rpc_log")).body.summary;
  observed.rpc_methods = {
    "x402 client (@x402/svm exact/client ExactSvmScheme)": rpcLog["/x402-client"],
    "facilitator (@x402/svm exact/facilitator ExactSvmScheme, toFacilitatorSvmSigner)": rpcLog["/facilitator"],
  };
  check(!!rpcLog["/x402-client"] && !!rpcLog["/facilitator"], "the RPC log saw both the client and the facilitator");
  const reset = await ctl("POST", "/reset");
  check(reset.status === 200, "/reset");
  check((await balance(info.payers[2].address)) === 1_000_000_000n && (await balance(info.payTo)) === 0n, "/reset restored the balances");
  check((await ctl("GET", "/transfers")).body.length === 0, "/reset emptied /transfers");
  const again = await facilitatorCall("/settle", await pay(2), requirementsFor());
  check(again.body.success === true, "a payment settles after /reset", again.body);
}
check(extraStdout === "", "the peer printed nothing else on stdout", extraStdout);

// --- stop ---------------------------------------------------------------------------------------------------------------
child.stdin.end(); // closing stdin stops the peer
const [code] = await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(() => r([-1]), 5000))]);
check(code === 0, "the peer exits 0 when stdin closes", code);
if (code === -1) child.kill("SIGKILL");

process.stdout.write(`${JSON.stringify(observed, null, 2)}\n`);
process.stderr.write(failures ? `selftest: ${failures} check(s) failed\n` : "selftest: all checks passed\n");
process.exit(failures ? 1 : 0);
