// The control HTTP API: fault injection, mining, and views of the chain (see README.md).
import { getAddress, isAddress, isHex, parseSignature } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { parseCount, parseMs } from "./faults.mjs";
import { setBalance, usdcAbi } from "./chain.mjs";
import { closeServer, listenLoopback, readJson, sendJson } from "./http.mjs";

const badRequest = message => Object.assign(new Error(message), { status: 400 });

function addressParam(value, name) {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) throw badRequest(`${name} must be an address`);
  return getAddress(value);
}

function nonceParam(value) {
  if (typeof value !== "string" || !isHex(value) || value.length !== 66) throw badRequest("nonce must be 0x and 64 hex digits");
  return value.toLowerCase();
}

const cancelTypes = {
  CancelAuthorization: [
    { name: "authorizer", type: "address" },
    { name: "nonce", type: "bytes32" },
  ],
};
const transferTypes = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
};

export async function startControl(ctx) {
  const { provider, publicClient, usdc, payers, relayer, faults, facilitator, chainId, log } = ctx;
  const rpc = (method, params = []) => provider.request({ method, params });
  const drainSink = privateKeyToAccount(generatePrivateKey()).address;
  const initialFacilitatorWei = ctx.facilitatorWei;
  let facilitatorGasTouched = false;
  let miningMode = { mode: "auto" };
  const domain = { name: usdc.name, version: usdc.version, chainId, verifyingContract: usdc.address };

  const payerFor = address => {
    const payer = payers.find(p => p.address.toLowerCase() === address.toLowerCase());
    if (!payer) throw Object.assign(new Error(`${address} is not one of the peer's payers`), { status: 404 });
    return payer;
  };
  const balanceOf = address => publicClient.readContract({ address: usdc.address, abi: usdcAbi, functionName: "balanceOf", args: [address] });

  async function setMining(spec) {
    const mode = spec.mode;
    if (mode === "auto") {
      await rpc("evm_setIntervalMining", [0]);
      await rpc("evm_setAutomine", [true]);
      miningMode = { mode };
    } else if (mode === "interval") {
      const ms = parseMs(spec.ms);
      if (ms === 0) throw badRequest("interval mining needs ms > 0");
      await rpc("evm_setAutomine", [false]);
      await rpc("evm_setIntervalMining", [ms]);
      miningMode = { mode, ms };
    } else if (mode === "manual") {
      await rpc("evm_setAutomine", [false]);
      await rpc("evm_setIntervalMining", [0]);
      miningMode = { mode };
    } else {
      throw badRequest('mining mode must be "auto", "interval" or "manual"');
    }
    log(`mining: ${JSON.stringify(miningMode)}`);
    return miningMode;
  }

  /** Sends a USDC call from the relayer and waits until it is mined. */
  async function relay(functionName, args) {
    let hash;
    try {
      hash = await relayer.wallet.writeContract({ address: usdc.address, abi: usdcAbi, functionName, args });
    } catch (error) {
      // A revert (nonce already used or canceled, say) is the caller's conflict, not ours.
      const root = error.walk?.() ?? error;
      throw Object.assign(new Error(`${functionName} failed: ${root.details ?? root.shortMessage ?? root.message}`), { status: 409 });
    }
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 });
    return { tx: hash, block: Number(receipt.blockNumber), status: receipt.status };
  }

  async function addFault(spec) {
    const kind = spec.kind ?? (spec.mode ? "mining" : undefined);
    switch (kind) {
      case "rpc_status": {
        if (typeof spec.method !== "string" || !spec.method) throw badRequest("method is required");
        const status = Number(spec.status);
        if (!Number.isInteger(status) || status < 400 || status > 599) throw badRequest("status must be 400..599");
        const fault = { kind, method: spec.method, status, body: spec.body, remaining: parseCount(spec.count, 1) };
        faults.rpc.push(fault);
        return fault;
      }
      case "rpc_error": {
        if (typeof spec.method !== "string" || !spec.method) throw badRequest("method is required");
        const fault = { kind, method: spec.method, code: Number(spec.code ?? -32000), message: String(spec.message ?? "injected error"), remaining: parseCount(spec.count, 1) };
        faults.rpc.push(fault);
        return fault;
      }
      case "rpc_delay": {
        if (typeof spec.method !== "string" || !spec.method) throw badRequest("method is required");
        const fault = { kind, method: spec.method, ms: parseMs(spec.ms), remaining: parseCount(spec.count, 1) };
        faults.rpc.push(fault);
        return fault;
      }
      case "settle_delay":
      case "verify_delay": {
        const fault = { kind, ms: parseMs(spec.ms), remaining: parseCount(spec.count, -1) };
        faults.facilitator[kind] = fault;
        return fault;
      }
      case "settle_hangup":
      case "verify_hangup": {
        const fault = { kind, remaining: parseCount(spec.count, -1) };
        faults.facilitator[kind] = fault;
        return fault;
      }
      case "confirmation_timeout": {
        faults.confirmationTimeoutMs = spec.ms === null ? null : parseMs(spec.ms);
        return { kind, ms: faults.confirmationTimeoutMs };
      }
      case "mining":
        return { kind, ...(await setMining(spec)) };
      default:
        throw badRequest("unknown fault kind (rpc_status, rpc_error, rpc_delay, settle_delay, verify_delay, settle_hangup, verify_hangup, confirmation_timeout, mining)");
    }
  }

  async function reset() {
    faults.reset();
    await setMining({ mode: "auto" });
    if (facilitatorGasTouched) {
      await setBalance(provider, facilitator.address, initialFacilitatorWei);
      facilitatorGasTouched = false;
    }
    // Automine does not pick up what manual or interval mining left in the mempool: mine it.
    const pending = await rpc("eth_getBlockByNumber", ["pending", false]);
    const minedPending = pending?.transactions?.length ?? 0;
    if (minedPending > 0) await rpc("evm_mine");
    return { ok: true, minedPending };
  }

  async function authorization(authorizer, nonce) {
    const used = await publicClient.readContract({ address: usdc.address, abi: usdcAbi, functionName: "authorizationState", args: [authorizer, nonce] });
    if (!used) return { state: "unused", tx: null };
    const events = async eventName =>
      publicClient.getContractEvents({ address: usdc.address, abi: usdcAbi, eventName, args: { authorizer, nonce }, fromBlock: 0n });
    const [usedLogs, canceledLogs] = await Promise.all([events("AuthorizationUsed"), events("AuthorizationCanceled")]);
    if (usedLogs.length) return { state: "used", tx: usedLogs[0].transactionHash, block: Number(usedLogs[0].blockNumber) };
    if (canceledLogs.length) return { state: "canceled", tx: canceledLogs[0].transactionHash, block: Number(canceledLogs[0].blockNumber) };
    return { state: "used", tx: null };
  }

  async function cancel(authorizer, nonce) {
    const payer = payerFor(authorizer);
    const signature = await payer.account.signTypedData({ domain, types: cancelTypes, primaryType: "CancelAuthorization", message: { authorizer: payer.address, nonce } });
    const { v, r, s } = parseSignature(signature);
    return relay("cancelAuthorization", [payer.address, nonce, Number(v), r, s]);
  }

  async function drain(address) {
    const payer = payerFor(address);
    const amount = await balanceOf(payer.address);
    if (amount === 0n) return { tx: null, amount: "0", to: drainSink };
    const message = {
      from: payer.address,
      to: drainSink,
      value: amount,
      validAfter: 0n,
      validBefore: BigInt(Math.floor(Date.now() / 1000) + 3600),
      nonce: generatePrivateKey(), // 32 random bytes
    };
    const signature = await payer.account.signTypedData({ domain, types: transferTypes, primaryType: "TransferWithAuthorization", message });
    const { v, r, s } = parseSignature(signature);
    const result = await relay("transferWithAuthorization", [message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, Number(v), r, s]);
    return { ...result, amount: amount.toString(), to: drainSink };
  }

  async function transfers() {
    const logs = await publicClient.getContractEvents({ address: usdc.address, abi: usdcAbi, eventName: "Transfer", fromBlock: 0n });
    return logs.map(l => ({ from: l.args.from, to: l.args.to, value: l.args.value.toString(), tx: l.transactionHash, block: Number(l.blockNumber) }));
  }

  const routes = {
    "POST /fault": async body => addFault(body),
    "POST /reset": async () => reset(),
    "POST /mine": async () => {
      await rpc("evm_mine");
      return { block: Number(await rpc("eth_blockNumber")) };
    },
    "GET /balance": async (_, q) => ({ balance: (await balanceOf(addressParam(q.get("address"), "address"))).toString() }),
    "GET /eth": async (_, q) => ({ balance: BigInt(await rpc("eth_getBalance", [addressParam(q.get("address"), "address"), "latest"])).toString() }),
    "GET /authorization": async (_, q) => authorization(addressParam(q.get("authorizer"), "authorizer"), nonceParam(q.get("nonce"))),
    "POST /cancel": async body => cancel(addressParam(body.authorizer, "authorizer"), nonceParam(body.nonce)),
    "GET /transfers": async () => transfers(),
    "POST /drain": async body => drain(addressParam(body.address, "address")),
    "POST /facilitator/gas": async body => {
      let wei;
      try {
        wei = BigInt(body.wei);
      } catch {
        throw badRequest("wei must be a decimal string");
      }
      if (wei < 0n) throw badRequest("wei must be >= 0");
      await setBalance(provider, facilitator.address, wei);
      facilitatorGasTouched = true;
      return { address: facilitator.address, balance: wei.toString() };
    },
    "GET /facilitator/log": async () => facilitator.history,
    "GET /faults": async () => ({ ...faults.snapshot(), mining: miningMode }),
    "GET /health": async () => ({ ok: true, block: Number(await rpc("eth_blockNumber")) }),
  };

  const handler = async (req, res) => {
    const url = new URL(req.url, "http://x");
    const route = routes[`${req.method} ${url.pathname}`];
    try {
      if (!route) return sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      const body = req.method === "POST" ? await readJson(req) : {};
      sendJson(res, 200, await route(body, url.searchParams));
    } catch (error) {
      const status = error.status ?? 500;
      if (status === 500) log(`control ${req.method} ${url.pathname}: ${error.stack ?? error}`);
      sendJson(res, status, { error: error.shortMessage ?? error.message });
    }
  };

  const { server, url } = await listenLoopback(handler);
  log(`control API on ${url}`);
  return { server, url, close: () => closeServer(server), drainSink };
}
