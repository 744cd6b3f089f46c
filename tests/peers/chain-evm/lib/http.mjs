// Small HTTP helpers shared by the RPC proxy, the facilitator server and the control API.
import http from "node:http";

/** Reads a request body as a UTF-8 string (limit: 10 MiB). */
export function readBody(req, limit = 10 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", chunk => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error("request body too large"), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Parses a JSON body; an empty body is {}. Throws an error carrying status 400 otherwise. */
export async function readJson(req) {
  const text = await readBody(req);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error("request body is not JSON"), { status: 400 });
  }
}

/** JSON.stringify that writes bigints as decimal strings. */
export function toJson(value) {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** Sends a JSON answer (the same Content-Type express's res.json() sends). */
export function sendJson(res, status, value) {
  const body = toJson(value);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Starts an http.Server on 127.0.0.1 with an ephemeral port; resolves to { server, url }. */
export function listenLoopback(handler) {
  const server = http.createServer(handler);
  // Keep-alive connections must not hold shutdown up.
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

/** Closes a server and every connection it still holds. */
export function closeServer(server) {
  return new Promise(resolve => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
