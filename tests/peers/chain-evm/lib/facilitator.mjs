// The official x402 facilitator (@x402/core x402Facilitator + @x402/evm ExactEvmScheme), served
// over HTTP the way the x402 TypeScript example facilitator serves it: POST /verify and POST
// /settle take {x402Version, paymentPayload, paymentRequirements} and answer the library's
// VerifyResponse / SettleResponse with 200; a thrown error is 500 {"error": message}; a body
// without paymentPayload or paymentRequirements is 400; GET /supported answers getSupported().
// The only glue here is this HTTP server and the viem client behind the signer.
import { x402Facilitator } from "@x402/core/facilitator";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { createWalletClient, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat as hardhatChain } from "viem/chains";
import { closeServer, listenLoopback, readBody, sendJson, sleep, toJson } from "./http.mjs";

export async function startFacilitator({ privateKey, rpcUrl, network, faults, log, pollingIntervalMs, confirmationTimeoutMs }) {
  const account = privateKeyToAccount(privateKey);
  const viemClient = createWalletClient({
    account,
    chain: hardhatChain,
    transport: http(rpcUrl),
    pollingInterval: pollingIntervalMs,
  }).extend(publicActions);

  const signer = toFacilitatorEvmSigner(
    {
      address: account.address,
      getCode: args => viemClient.getCode(args),
      readContract: args => viemClient.readContract({ ...args, args: args.args || [] }),
      verifyTypedData: args => viemClient.verifyTypedData(args),
      writeContract: args => viemClient.writeContract({ ...args, args: args.args || [] }),
      sendTransaction: args => viemClient.sendTransaction(args),
      // toFacilitatorEvmSigner sets args.timeout (confirmationTimeoutMs); the control API's
      // confirmation_timeout fault may shorten it at run time.
      waitForTransactionReceipt: args =>
        viemClient.waitForTransactionReceipt({ ...args, timeout: faults.confirmationTimeoutMs ?? args.timeout }),
    },
    { confirmationTimeoutMs },
  );

  const facilitator = new x402Facilitator();
  // What registerExactEvmScheme() registers for x402 v2. Its v1 half is left out: @x402/evm's v1
  // networks are fixed names (base, base-sepolia, ...) with fixed chain ids, none of them 31337,
  // so a v1 payment cannot be made on this chain and /supported would list networks it lacks.
  facilitator.register(network, new ExactEvmScheme(signer, {}));

  const history = []; // every /verify and /settle: request and the answer sent (or not)
  const record = entry => {
    history.push(entry);
    if (history.length > 500) history.shift();
    log(`facilitator ${entry.path} -> ${entry.hangup ? "hang-up" : entry.status} ${toJson(entry.response)}`);
  };

  async function handlePayment(req, res, path) {
    const started = Date.now();
    let body;
    try {
      const text = await readBody(req);
      body = JSON.parse(text);
    } catch {
      const response = { error: "request body is not JSON" };
      record({ path, status: 400, request: null, response, ms: Date.now() - started });
      return sendJson(res, 400, response);
    }
    const { paymentPayload, paymentRequirements } = body ?? {};
    if (!paymentPayload || !paymentRequirements) {
      const response = { error: "Missing paymentPayload or paymentRequirements" };
      record({ path, status: 400, request: body, response, ms: Date.now() - started });
      return sendJson(res, 400, response);
    }
    let status = 200;
    let response;
    try {
      response = path === "/verify"
        ? await facilitator.verify(paymentPayload, paymentRequirements)
        : await facilitator.settle(paymentPayload, paymentRequirements);
    } catch (error) {
      if (path === "/settle" && error instanceof Error && error.message.includes("Settlement aborted:")) {
        response = {
          success: false,
          errorReason: error.message.replace("Settlement aborted: ", ""),
          network: paymentPayload?.network || "unknown",
        };
      } else {
        status = 500;
        response = { error: error instanceof Error ? error.message : "Unknown error" };
      }
    }
    const delay = faults.takeFacilitator(path === "/verify" ? "verify_delay" : "settle_delay");
    if (delay) await sleep(delay.ms);
    const hangup = faults.takeFacilitator(path === "/verify" ? "verify_hangup" : "settle_hangup");
    record({ path, status, request: body, response, ms: Date.now() - started, hangup: !!hangup });
    if (hangup) {
      req.socket.destroy();
      return;
    }
    sendJson(res, status, response);
  }

  const handler = async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    try {
      if (req.method === "POST" && (path === "/verify" || path === "/settle")) return await handlePayment(req, res, path);
      if (req.method === "GET" && path === "/supported") return sendJson(res, 200, facilitator.getSupported());
      sendJson(res, 404, { error: `no route ${req.method} ${path}` });
    } catch (error) {
      log(`facilitator: ${error.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { error: error.message });
    }
  };

  const { server, url } = await listenLoopback(handler);
  log(`x402 facilitator (@x402/core + @x402/evm exact, ${network}) on ${url}, account ${account.address}`);
  return { server, url, address: account.address, history, facilitator, close: () => closeServer(server) };
}
