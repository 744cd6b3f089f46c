// A JSON-RPC proxy in front of the chain: the facilitator's viem client talks to it, so the
// control API can make chosen methods fail with an HTTP status, answer a JSON-RPC error, or lag.
import { closeServer, listenLoopback, readBody, sleep } from "./http.mjs";

function methodsOf(text) {
  try {
    const parsed = JSON.parse(text);
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    return { calls, methods: calls.map(c => (c && typeof c.method === "string" ? c.method : "")) };
  } catch {
    return { calls: [], methods: [] };
  }
}

export async function startRpcProxy({ target, faults, log }) {
  let served = 0;
  const handler = async (req, res) => {
    try {
      if (req.method !== "POST") {
        res.writeHead(405, { "Content-Type": "text/plain" }).end("JSON-RPC over POST only\n");
        return;
      }
      const body = await readBody(req);
      const { calls, methods } = methodsOf(body);
      served += calls.length;
      const fault = faults.takeRpc(methods);
      if (fault?.kind === "rpc_delay") await sleep(fault.ms);
      if (fault?.kind === "rpc_status") {
        const text = fault.body ?? JSON.stringify({ error: `injected HTTP ${fault.status} for ${methods.join(",")}` });
        res.writeHead(fault.status, { "Content-Type": fault.body ? "text/plain" : "application/json" });
        res.end(text);
        return;
      }
      if (fault?.kind === "rpc_error") {
        const answer = calls.map(c => ({ jsonrpc: "2.0", id: c?.id ?? null, error: { code: fault.code, message: fault.message } }));
        const text = JSON.stringify(Array.isArray(JSON.parse(body)) ? answer : answer[0]);
        res.writeHead(200, { "Content-Type": "application/json" }).end(text);
        return;
      }
      const upstream = await fetch(target, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, { "Content-Type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(answer);
    } catch (error) {
      log(`rpc proxy: ${error.message}`);
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(`rpc proxy error: ${error.message}\n`);
    }
  };
  const { server, url } = await listenLoopback(handler);
  log(`JSON-RPC proxy (the facilitator's RPC) on ${url} -> ${target}`);
  return { server, url, stats: () => ({ served }), close: () => closeServer(server) };
}
