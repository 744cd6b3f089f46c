// The Solana JSON-RPC 2.0 front over HTTP, answering from the Chain (LiteSVM) with the shapes
// of the real node: {"context":{"apiVersion","slot"},"value":…} where the real one has it, bare
// values where it has none (getSlot, getBlockHeight, sendTransaction…), and its error codes.
// Any request path is accepted; the path is recorded as the caller (the peer points its own
// facilitator at /facilitator so the log can tell the callers apart).
import http from "node:http";
import { encodeAccount, parseTokenData, uiTokenAmount } from "./accounts.mjs";
import {
  RpcError,
  TOKEN_2022_PROGRAM,
  TOKEN_PROGRAM,
  feeForMessage,
} from "./chain.mjs";
import { fromBase58, fromBase64, isWritable, parseMessage, stringify, toBase58, toBase64 } from "./codec.mjs";

const API_VERSION = "2.2.20";
const GENESIS_HASH = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"; // devnet's: matches the CAIP-2 id
const MEMO_PROGRAMS = new Set(["MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr", "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"]);

const invalidParams = (message) => new RpcError(-32602, `Invalid params: ${message}`);

function configOf(params, index) {
  const c = Array.isArray(params) ? params[index] : undefined;
  return c && typeof c === "object" && !Array.isArray(c) ? c : {};
}

function requireString(params, index, what) {
  const v = Array.isArray(params) ? params[index] : undefined;
  if (typeof v !== "string") throw invalidParams(`${what} expected`);
  return v;
}

function requireAddress(params, index) {
  const v = requireString(params, index, "a base58 public key");
  let bytes;
  try {
    bytes = fromBase58(v);
  } catch {
    bytes = null;
  }
  if (!bytes || bytes.length !== 32) throw invalidParams("Invalid");
  return v;
}

function decodeWire(text, encoding) {
  if (typeof text !== "string") throw invalidParams("a serialized transaction expected");
  try {
    if (encoding === "base64") return fromBase64(text);
    if (encoding === undefined || encoding === "base58") return fromBase58(text);
  } catch {
    throw invalidParams(`invalid ${encoding ?? "base58"} encoding`);
  }
  throw invalidParams(`unsupported encoding: ${encoding}. Supported encodings: base58, base64`);
}

export class RpcFront {
  constructor({ chain, faults, log }) {
    this.chain = chain;
    this.faults = faults; // shared fault table: faults.rpcStatus = [{method, status, count}]
    this.log = log;
    this.calls = [];
  }

  context() {
    return { apiVersion: API_VERSION, slot: this.chain.slot() };
  }
  withContext(value) {
    return { context: this.context(), value };
  }
  checkMinContextSlot(config) {
    if (config.minContextSlot !== undefined && BigInt(config.minContextSlot) > this.chain.slot()) {
      throw new RpcError(-32016, "Minimum context slot has not been reached", {
        contextSlot: this.chain.slot(),
      });
    }
  }

  record(caller, method, params) {
    const config =
      method === "getSignatureStatuses" || method === "getMultipleAccounts" || method === "getTokenAccountsByOwner"
        ? configOf(params, method === "getTokenAccountsByOwner" ? 2 : 1)
        : method === "getLatestBlockhash" || method === "getSlot" || method === "getBlockHeight" || method === "getEpochInfo"
          ? configOf(params, 0)
          : configOf(params, 1);
    const entry = { at: new Date().toISOString(), caller, method };
    if (config.encoding !== undefined) entry.encoding = config.encoding;
    if (config.commitment !== undefined) entry.commitment = config.commitment;
    if (method === "simulateTransaction") {
      entry.sigVerify = config.sigVerify ?? false;
      entry.replaceRecentBlockhash = config.replaceRecentBlockhash ?? false;
    }
    if (method === "sendTransaction") {
      entry.skipPreflight = config.skipPreflight ?? false;
      if (config.preflightCommitment !== undefined) entry.preflightCommitment = config.preflightCommitment;
    }
    if (method === "getSignatureStatuses" && config.searchTransactionHistory !== undefined) {
      entry.searchTransactionHistory = config.searchTransactionHistory;
    }
    this.calls.push(entry);
    if (this.calls.length > 5000) this.calls.splice(0, this.calls.length - 5000);
  }

  /** Methods with their encodings and options, per caller, since the last reset. */
  summary() {
    const byCaller = {};
    for (const c of this.calls) {
      const opts = Object.entries(c)
        .filter(([k]) => k !== "at" && k !== "caller" && k !== "method")
        .map(([k, v]) => `${k}=${v}`);
      const key = [c.method, ...opts].join(" ");
      byCaller[c.caller] ??= {};
      byCaller[c.caller][key] = (byCaller[c.caller][key] ?? 0) + 1;
    }
    return byCaller;
  }

  takeStatusFault(method) {
    const list = this.faults.rpcStatus;
    const i = list.findIndex((f) => f.method === method || f.method === "*");
    if (i < 0) return null;
    const f = list[i];
    f.count -= 1;
    if (f.count <= 0) list.splice(i, 1);
    return f.status;
  }

  async handleHttp(req, res) {
    const caller = (req.url ?? "/").split("?")[0] || "/";
    if (req.method !== "POST") {
      res.writeHead(405, { "content-type": "text/plain" });
      res.end("Used HTTP Method is not allowed. POST or OPTIONS is required");
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      this.reply(res, 200, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
      return;
    }
    const batch = Array.isArray(body);
    const requests = batch ? body : [body];
    for (const r of requests) {
      if (r && typeof r.method === "string") this.record(caller, r.method, r.params);
    }
    for (const r of requests) {
      const status = r && typeof r.method === "string" ? this.takeStatusFault(r.method) : null;
      if (status !== null) {
        this.log(`rpc fault: ${r.method} answered HTTP ${status}`);
        const headers = { "content-type": "application/json" };
        if (status === 429) headers["retry-after"] = "1";
        res.writeHead(status, headers);
        res.end(
          stringify({
            jsonrpc: "2.0",
            error: {
              code: status,
              message:
                status === 429
                  ? "Too many requests for a specific RPC call, contact your app developer or support@rpcpool.com."
                  : `HTTP ${status} (injected by the test peer)`,
            },
            id: r.id ?? null,
          }),
        );
        return;
      }
    }
    const answers = requests.map((r) => this.dispatch(r));
    this.reply(res, 200, batch ? answers : answers[0]);
  }

  reply(res, status, body) {
    const text = stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  dispatch(request) {
    if (!request || typeof request !== "object" || request.jsonrpc !== "2.0" || typeof request.method !== "string") {
      return { jsonrpc: "2.0", error: { code: -32600, message: "Invalid request" }, id: request?.id ?? null };
    }
    const { id = null, method, params = [] } = request;
    const handler = this.methods[method];
    if (!handler) return { jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id };
    try {
      return { jsonrpc: "2.0", result: handler.call(this, params), id };
    } catch (e) {
      if (e instanceof RpcError) {
        const error = { code: e.code, message: e.message };
        if (e.data !== undefined) error.data = e.data;
        return { jsonrpc: "2.0", error, id };
      }
      this.log(`rpc ${method} internal error: ${e.stack ?? e}`);
      return { jsonrpc: "2.0", error: { code: -32603, message: `Internal error: ${e.message}` }, id };
    }
  }

  methods = {
    getHealth() {
      return "ok";
    },
    getVersion() {
      return { "feature-set": 3073396398, "solana-core": `${API_VERSION} (litesvm test peer)` };
    },
    getGenesisHash() {
      return GENESIS_HASH;
    },
    getIdentity() {
      return { identity: this.chain.authority.address };
    },
    getSlot(params) {
      this.checkMinContextSlot(configOf(params, 0));
      return this.chain.slot();
    },
    getBlockHeight(params) {
      this.checkMinContextSlot(configOf(params, 0));
      return this.chain.blockHeight();
    },
    getTransactionCount() {
      return BigInt(this.chain.records.size);
    },
    getEpochInfo() {
      const slot = this.chain.slot();
      const slotsInEpoch = 432000n;
      return {
        absoluteSlot: slot,
        blockHeight: this.chain.blockHeight(),
        epoch: slot / slotsInEpoch,
        slotIndex: slot % slotsInEpoch,
        slotsInEpoch,
        transactionCount: BigInt(this.chain.records.size),
      };
    },
    getLatestBlockhash(params) {
      this.checkMinContextSlot(configOf(params, 0));
      return this.withContext({
        blockhash: this.chain.latestBlockhash(),
        lastValidBlockHeight: this.chain.lastValidBlockHeight(),
      });
    },
    isBlockhashValid(params) {
      const hash = requireString(params, 0, "a blockhash");
      this.checkMinContextSlot(configOf(params, 1));
      return this.withContext(this.chain.isBlockhashValid(hash));
    },
    getFeeForMessage(params) {
      const text = requireString(params, 0, "a base64 message");
      let message;
      try {
        message = parseMessage(fromBase64(text));
      } catch (e) {
        throw invalidParams(`invalid transaction message: ${e.message}`);
      }
      const valid = this.chain.isBlockhashValid(message.recentBlockhash);
      return this.withContext(valid ? feeForMessage(message) : null);
    },
    getMinimumBalanceForRentExemption(params) {
      const len = Array.isArray(params) ? params[0] : undefined;
      if (typeof len !== "number" && typeof len !== "bigint") throw invalidParams("data length expected");
      return this.chain.svm.minimumBalanceForRentExemption(BigInt(len));
    },
    getRecentPrioritizationFees() {
      return [{ slot: this.chain.slot(), prioritizationFee: 0 }];
    },
    getBalance(params) {
      const address = requireAddress(params, 0);
      this.checkMinContextSlot(configOf(params, 1));
      return this.withContext(this.chain.account(address)?.lamports ?? 0n);
    },
    getAccountInfo(params) {
      const address = requireAddress(params, 0);
      const config = configOf(params, 1);
      this.checkMinContextSlot(config);
      return this.withContext(
        encodeAccount(this.chain, this.chain.account(address), config.encoding, config.dataSlice),
      );
    },
    getMultipleAccounts(params) {
      const list = Array.isArray(params) ? params[0] : undefined;
      if (!Array.isArray(list)) throw invalidParams("an array of public keys expected");
      if (list.length > 100) throw invalidParams("Too many inputs provided; max 100");
      const config = configOf(params, 1);
      this.checkMinContextSlot(config);
      return this.withContext(
        list.map((_, i) => {
          const address = requireAddress(list, i);
          return encodeAccount(this.chain, this.chain.account(address), config.encoding, config.dataSlice);
        }),
      );
    },
    getProgramAccounts(params) {
      const program = requireAddress(params, 0);
      const config = configOf(params, 1);
      const filters = Array.isArray(config.filters) ? config.filters : [];
      const accounts = this.chain.svm.getProgramAccounts(program).filter((a) =>
        filters.every((f) => {
          if (f.dataSize !== undefined) return a.data.length === Number(f.dataSize);
          if (f.memcmp) {
            const want = f.memcmp.encoding === "base64" ? fromBase64(f.memcmp.bytes) : fromBase58(f.memcmp.bytes);
            const off = Number(f.memcmp.offset ?? 0);
            if (off + want.length > a.data.length) return false;
            return want.every((b, i) => a.data[off + i] === b);
          }
          if (f.tokenAccountState !== undefined) return a.data.length >= 165 && a.data[108] !== 0;
          throw invalidParams("unknown filter");
        }),
      );
      const value = accounts.map((a) => ({
        pubkey: a.address,
        account: encodeAccount(
          this.chain,
          { lamports: a.lamports, owner: a.programAddress, executable: a.executable, data: a.data, space: BigInt(a.data.length) },
          config.encoding,
          config.dataSlice,
        ),
      }));
      return config.withContext ? this.withContext(value) : value;
    },
    getTokenAccountBalance(params) {
      const address = requireAddress(params, 0);
      const t = this.chain.tokenAccount(address);
      if (!t) throw invalidParams("not a Token account");
      return this.withContext(uiTokenAmount(t.amount, this.chain.mintDecimals(t.mint)));
    },
    getTokenSupply(params) {
      const address = requireAddress(params, 0);
      const a = this.chain.account(address);
      const parsed = a ? parseTokenData(this.chain, a.owner, a.data) : null;
      if (!parsed || parsed.parsed.type !== "mint") throw invalidParams("Invalid param: not a Token mint");
      return this.withContext(uiTokenAmount(BigInt(parsed.parsed.info.supply), parsed.parsed.info.decimals));
    },
    getTokenAccountsByOwner(params) {
      const owner = requireAddress(params, 0);
      const filter = configOf(params, 1);
      const config = configOf(params, 2);
      let programs;
      if (typeof filter.mint === "string") {
        const mint = this.chain.account(filter.mint);
        if (!mint) throw invalidParams("Invalid param: could not find mint");
        programs = [mint.owner];
      } else if (typeof filter.programId === "string") {
        if (filter.programId !== TOKEN_PROGRAM && filter.programId !== TOKEN_2022_PROGRAM)
          throw invalidParams("Invalid param: unrecognized Token program id");
        programs = [filter.programId];
      } else {
        throw invalidParams("Invalid params: expected mint or programId filter");
      }
      const value = [];
      for (const program of programs) {
        for (const a of this.chain.svm.getProgramAccounts(program)) {
          const t = this.chain.tokenAccount(a.address);
          if (!t || t.owner !== owner) continue;
          if (typeof filter.mint === "string" && t.mint !== filter.mint) continue;
          value.push({ pubkey: a.address, account: encodeAccount(this.chain, this.chain.account(a.address), config.encoding, config.dataSlice) });
        }
      }
      return this.withContext(value);
    },
    simulateTransaction(params) {
      const config = configOf(params, 1);
      if (config.sigVerify && config.replaceRecentBlockhash) {
        throw invalidParams("sigVerify may not be used with replaceRecentBlockhash");
      }
      this.checkMinContextSlot(config);
      const wire = decodeWire(Array.isArray(params) ? params[0] : undefined, config.encoding);
      const sim = this.chain.simulate(wire, {
        sigVerify: !!config.sigVerify,
        replaceRecentBlockhash: !!config.replaceRecentBlockhash,
      });
      let accounts = null;
      if (config.accounts && Array.isArray(config.accounts.addresses)) {
        const post = new Map(sim.postAccounts.map((a) => [a.address, a]));
        accounts = config.accounts.addresses.map((address) => {
          const a = post.get(address);
          const account = a
            ? { lamports: a.lamports, owner: a.programAddress, executable: a.executable, data: a.data, space: BigInt(a.data.length) }
            : this.chain.account(address);
          return encodeAccount(this.chain, account, config.accounts.encoding ?? "base64");
        });
      }
      return this.withContext({
        accounts,
        err: sim.err,
        fee: sim.fee,
        innerInstructions: config.innerInstructions ? sim.innerInstructions : null,
        loadedAccountsDataSize: sim.loadedAccountsDataSize,
        logs: sim.logs,
        replacementBlockhash: sim.replacementBlockhash,
        returnData: sim.returnData,
        unitsConsumed: sim.unitsConsumed,
      });
    },
    sendTransaction(params) {
      const config = configOf(params, 1);
      this.checkMinContextSlot(config);
      const wire = decodeWire(Array.isArray(params) ? params[0] : undefined, config.encoding);
      return this.chain.send(wire, { skipPreflight: !!config.skipPreflight });
    },
    getSignatureStatuses(params) {
      const list = Array.isArray(params) ? params[0] : undefined;
      if (!Array.isArray(list)) throw invalidParams("an array of signatures expected");
      if (list.length > 256) throw invalidParams("Too many inputs provided; max 256");
      return this.withContext(list.map((s) => (typeof s === "string" ? this.chain.signatureStatus(s) : null)));
    },
    getSignaturesForAddress(params) {
      const address = requireAddress(params, 0);
      const config = configOf(params, 1);
      const limit = Math.min(Number(config.limit ?? 1000), 1000);
      const out = [];
      for (const rec of [...this.chain.records.values()].reverse()) {
        if (!rec.parsed.message.accountKeys.includes(address)) continue;
        const status = this.chain.signatureStatus(rec.signature);
        out.push({
          blockTime: rec.blockTime,
          confirmationStatus: status.confirmationStatus,
          err: rec.err,
          memo: null,
          signature: rec.signature,
          slot: rec.slot,
        });
        if (out.length >= limit) break;
      }
      return out;
    },
    getTransaction(params) {
      const signature = requireString(params, 0, "a signature");
      const config = configOf(params, 1);
      const rec = this.chain.records.get(signature);
      if (!rec) return null;
      const version = rec.parsed.message.version;
      if (version !== "legacy" && config.maxSupportedTransactionVersion === undefined) {
        throw new RpcError(
          -32015,
          `Transaction version (${version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0`,
        );
      }
      return transactionView(this.chain, rec, config.encoding ?? "json");
    },
    requestAirdrop(params) {
      const address = requireAddress(params, 0);
      const amount = Array.isArray(params) ? params[1] : undefined;
      if (typeof amount !== "number" && typeof amount !== "bigint") throw invalidParams("lamports expected");
      return this.chain.airdrop(address, amount);
    },
  };

  listen() {
    this.server = http.createServer((req, res) => {
      this.handleHttp(req, res).catch((e) => {
        this.log(`rpc http error: ${e.stack ?? e}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(this.server.address().port)));
  }
}

function tokenBalancesView(list) {
  return list.map((b) => ({
    accountIndex: b.accountIndex,
    mint: b.mint,
    owner: b.owner,
    programId: b.programId,
    uiTokenAmount: uiTokenAmount(b.amount, b.decimals),
  }));
}

function parsedInstruction(chain, keys, ix, stackHeight) {
  const programId = keys[ix.programIdIndex];
  const accounts = ix.accounts.map((i) => keys[i]);
  const data = typeof ix.data === "string" ? fromBase58(ix.data) : ix.data;
  if (MEMO_PROGRAMS.has(programId)) {
    return { parsed: Buffer.from(data).toString("utf8"), program: "spl-memo", programId, stackHeight };
  }
  if ((programId === TOKEN_PROGRAM || programId === TOKEN_2022_PROGRAM) && data[0] === 12 && data.length >= 10 && accounts.length >= 4) {
    const amount = Buffer.from(data).readBigUInt64LE(1);
    return {
      parsed: {
        info: { authority: accounts[3], destination: accounts[2], mint: accounts[1], source: accounts[0], tokenAmount: uiTokenAmount(amount, data[9]) },
        type: "transferChecked",
      },
      program: programId === TOKEN_PROGRAM ? "spl-token" : "spl-token-2022",
      programId,
      stackHeight,
    };
  }
  return { accounts, data: toBase58(data), programId, stackHeight };
}

/** getTransaction's answer for a landed transaction, in encoding json, jsonParsed, base64 or base58. */
function transactionView(chain, rec, encoding) {
  const msg = rec.parsed.message;
  const keys = msg.accountKeys;
  const meta = {
    computeUnitsConsumed: rec.computeUnitsConsumed,
    err: rec.err,
    fee: rec.fee,
    innerInstructions:
      encoding === "jsonParsed"
        ? rec.innerInstructions.map((g) => ({
            index: g.index,
            instructions: g.instructions.map((ix) => parsedInstruction(chain, keys, ix, ix.stackHeight)),
          }))
        : rec.innerInstructions,
    loadedAddresses: { readonly: [], writable: [] },
    logMessages: rec.logs,
    postBalances: rec.postBalances,
    postTokenBalances: tokenBalancesView(rec.postTokenBalances),
    preBalances: rec.preBalances,
    preTokenBalances: tokenBalancesView(rec.preTokenBalances),
    rewards: [],
    status: rec.err ? { Err: rec.err } : { Ok: null },
  };
  if (rec.returnData) meta.returnData = rec.returnData;
  let transaction;
  if (encoding === "base64") transaction = [toBase64(rec.wire), "base64"];
  else if (encoding === "base58") transaction = [toBase58(rec.wire), "base58"];
  else {
    const signatures = rec.parsed.signatures.map((s) => toBase58(s));
    const message = {
      accountKeys:
        encoding === "jsonParsed"
          ? keys.map((pubkey, i) => ({ pubkey, signer: i < msg.header.numRequiredSignatures, source: "transaction", writable: isWritable(msg, i) }))
          : keys,
      header: msg.header,
      instructions: msg.instructions.map((ix) =>
        encoding === "jsonParsed"
          ? parsedInstruction(chain, keys, ix, null)
          : { accounts: ix.accounts, data: toBase58(ix.data), programIdIndex: ix.programIdIndex, stackHeight: null },
      ),
      recentBlockhash: msg.recentBlockhash,
    };
    if (encoding === "jsonParsed") delete message.header;
    if (msg.version !== "legacy") message.addressTableLookups = msg.addressTableLookups;
    transaction = { message, signatures };
  }
  return {
    blockTime: rec.blockTime,
    meta,
    slot: rec.slot,
    transaction,
    version: msg.version,
  };
}

