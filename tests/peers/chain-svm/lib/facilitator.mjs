// The official x402 facilitator (@x402/core's x402Facilitator with @x402/svm's exact scheme),
// served over HTTP as the x402 v2 facilitator API: POST /verify, POST /settle, GET /supported.
// The glue here is only the HTTP server and the signer's RPC URL (our JSON-RPC front); the
// answers are the package's own, sent as HTTP 200 JSON like the x402 reference facilitator
// (examples/typescript/facilitator): 400 for a body without paymentPayload/paymentRequirements,
// 500 {"error"} when the facilitator throws.
import http from "node:http";
import { x402Facilitator } from "@x402/core/facilitator";
import { SOLANA_DEVNET_CAIP2, SettlementCache, toFacilitatorSvmSigner } from "@x402/svm";
import { ExactSvmScheme } from "@x402/svm/exact/facilitator";
import { ExactSvmSchemeV1 } from "@x402/svm/exact/v1/facilitator";
import { stringify } from "./codec.mjs";

export const NETWORK = SOLANA_DEVNET_CAIP2;
export const NETWORK_V1 = "solana-devnet";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes one use of a delay fault ({ms, count|null}) and returns its ms (0 when none). */
export function takeDelay(faults, name) {
  const f = faults[name];
  if (!f) return 0;
  if (f.count !== null) {
    f.count -= 1;
    if (f.count <= 0) faults[name] = null;
  }
  return f.ms;
}

export class FacilitatorServer {
  constructor({ feePayerSigner, rpcUrl, faults, log }) {
    this.feePayerSigner = feePayerSigner;
    this.rpcUrl = rpcUrl;
    this.faults = faults;
    this.log = log;
    this.answers = [];
    this.build();
  }

  /** A fresh facilitator (its settlement cache and pending-settlement store start empty). */
  build() {
    const signer = toFacilitatorSvmSigner(this.feePayerSigner, { defaultRpcUrl: this.rpcUrl });
    const cache = new SettlementCache();
    this.facilitator = new x402Facilitator()
      .register(NETWORK, new ExactSvmScheme(signer, cache))
      .registerV1(NETWORK_V1, new ExactSvmSchemeV1(signer, cache));
    this.answers = [];
  }

  remember(path, status, body, extra = {}) {
    this.answers.push({ at: new Date().toISOString(), path, status, body, ...extra });
    if (this.answers.length > 1000) this.answers.splice(0, this.answers.length - 1000);
  }

  send(res, status, body) {
    const text = stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  async handle(req, res) {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/supported") {
      const body = this.facilitator.getSupported();
      this.send(res, 200, body);
      return;
    }
    if (req.method !== "POST" || (path !== "/verify" && path !== "/settle")) {
      this.send(res, 404, { error: `no route ${req.method} ${path}` });
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    let request;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      this.remember(path, 400, { error: "body is not JSON" });
      this.send(res, 400, { error: "body is not JSON" });
      return;
    }
    const { paymentPayload, paymentRequirements } = request ?? {};
    if (!paymentPayload || !paymentRequirements) {
      const body = { error: "Missing paymentPayload or paymentRequirements" };
      this.remember(path, 400, body);
      this.send(res, 400, body);
      return;
    }
    let status = 200;
    let body;
    try {
      body =
        path === "/verify"
          ? await this.facilitator.verify(paymentPayload, paymentRequirements)
          : await this.facilitator.settle(paymentPayload, paymentRequirements);
    } catch (e) {
      status = 500;
      body = { error: e instanceof Error ? e.message : String(e) };
      this.log(`facilitator ${path} threw: ${e?.stack ?? e}`);
    }
    if (path === "/settle" && this.faults.settleHangup > 0) {
      this.faults.settleHangup -= 1;
      this.remember(path, null, body, { hungUp: true });
      this.log(`facilitator /settle: answer withheld, connection closed (settle_hangup): ${stringify(body)}`);
      req.socket.destroy();
      return;
    }
    const delay = takeDelay(this.faults, path === "/verify" ? "verifyDelay" : "settleDelay");
    if (delay > 0) {
      this.log(`facilitator ${path}: answer held ${delay} ms`);
      await sleep(delay);
    }
    this.remember(path, status, body);
    this.log(`facilitator ${path} -> ${status} ${stringify(body)}`);
    if (!res.destroyed) this.send(res, status, body);
  }

  listen() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.log(`facilitator http error: ${e.stack ?? e}`);
        if (!res.headersSent) this.send(res, 500, { error: String(e?.message ?? e) });
        else res.end();
      });
    });
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(this.server.address().port)));
  }
}
