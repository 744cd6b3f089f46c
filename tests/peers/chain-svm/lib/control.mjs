// The control API (JSON over HTTP): faults, reset, blockhash expiry, balances, transfers,
// statuses, drain, and the logs of RPC calls and facilitator answers.
import http from "node:http";
import { stringify } from "./codec.mjs";

function positiveInt(v, name, { allowZero = false } = {}) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${name} must be a ${allowZero ? "non-negative" : "positive"} integer`);
  return n;
}

export class ControlServer {
  constructor({ peer, log }) {
    this.peer = peer;
    this.log = log;
  }

  faultsView() {
    const { faults, chain } = this.peer;
    return {
      rpc_status: faults.rpcStatus.map((f) => ({ ...f })),
      verify_delay: faults.verifyDelay,
      settle_delay: faults.settleDelay,
      settle_hangup: faults.settleHangup,
      confirm_delay: chain.faults.confirmDelay,
      drop_next_send: chain.faults.dropSends,
    };
  }

  applyFault(f) {
    const { faults, chain } = this.peer;
    const count = (dflt) => (f.count === undefined || f.count === null ? dflt : positiveInt(f.count, "count"));
    switch (f.kind) {
      case "rpc_status": {
        if (typeof f.method !== "string" || !f.method) throw new Error("rpc_status needs method");
        const status = positiveInt(f.status, "status");
        if (status < 100 || status > 599) throw new Error("status must be an HTTP status");
        faults.rpcStatus.push({ method: f.method, status, count: count(1) });
        break;
      }
      case "verify_delay":
      case "settle_delay": {
        const ms = positiveInt(f.ms, "ms", { allowZero: true });
        const key = f.kind === "verify_delay" ? "verifyDelay" : "settleDelay";
        faults[key] = ms === 0 ? null : { ms, count: count(null) };
        break;
      }
      case "settle_hangup":
        faults.settleHangup += count(1);
        break;
      case "confirm_delay": {
        const ms = positiveInt(f.ms, "ms", { allowZero: true });
        chain.faults.confirmDelay = ms === 0 ? null : { ms, count: count(null) };
        break;
      }
      case "drop_next_send":
        chain.faults.dropSends += count(1);
        break;
      default:
        throw new Error(`unknown fault kind: ${f.kind}`);
    }
    this.log(`fault set: ${stringify(f)}`);
  }

  async handle(req, res) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method} ${url.pathname}`;
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8").trim();
    let body = {};
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return this.send(res, 400, { error: "body is not JSON" });
      }
    }
    const { chain } = this.peer;
    try {
      switch (route) {
        case "GET /info":
          return this.send(res, 200, this.peer.info);
        case "POST /fault":
          for (const f of Array.isArray(body) ? body : [body]) this.applyFault(f);
          return this.send(res, 200, { ok: true, faults: this.faultsView() });
        case "GET /faults":
          return this.send(res, 200, this.faultsView());
        case "POST /reset":
          await this.peer.reset({ faultsOnly: !!body.faults_only });
          return this.send(res, 200, { ok: true, slot: chain.slot(), blockhash: chain.latestBlockhash() });
        case "POST /expire_blockhash":
          return this.send(res, 200, { ok: true, ...chain.expireBlockhash() });
        case "GET /balance": {
          const owner = url.searchParams.get("owner");
          if (!owner) return this.send(res, 400, { error: "owner= is required" });
          const b = await chain.tokenBalance(owner);
          return this.send(res, 200, { owner, mint: chain.mint, tokenAccount: b.tokenAccount, exists: b.exists, amount: b.amount.toString() });
        }
        case "GET /sol": {
          const address = url.searchParams.get("address");
          if (!address) return this.send(res, 400, { error: "address= is required" });
          return this.send(res, 200, { address, lamports: (chain.account(address)?.lamports ?? 0n).toString() });
        }
        case "GET /transfers":
          return this.send(res, 200, chain.transfers);
        case "GET /status": {
          const signature = url.searchParams.get("signature");
          if (!signature) return this.send(res, 400, { error: "signature= is required" });
          return this.send(res, 200, { signature, ...chain.statusOf(signature) });
        }
        case "POST /drain": {
          if (typeof body.owner !== "string") return this.send(res, 400, { error: "owner is required" });
          return this.send(res, 200, { ok: true, ...(await chain.drain(body.owner)) });
        }
        case "GET /rpc_log":
          return this.send(res, 200, { summary: this.peer.rpc.summary(), calls: this.peer.rpc.calls });
        case "GET /facilitator_log":
          return this.send(res, 200, this.peer.facilitator.answers);
        default:
          return this.send(res, 404, { error: `no route ${route}` });
      }
    } catch (e) {
      return this.send(res, 400, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  send(res, status, body) {
    const text = stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  listen() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.log(`control error: ${e.stack ?? e}`);
        if (!res.headersSent) this.send(res, 500, { error: String(e?.message ?? e) });
      });
    });
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(this.server.address().port)));
  }
}
