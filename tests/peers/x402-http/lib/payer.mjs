// The payers' common half: builds the official x402Client for a signer, pays one GET with the
// official @x402/fetch or @x402/axios wrapper, and prints the one result line.
import { printLine, decodeJsonHeader, bodyOf } from "./common.mjs";

/**
 * Spend controls. The x402Client by default pays only its known default assets up to $1; a
 * test peer pays whatever asset and amount the seller under test asks for, unless
 * --default-spend-controls keeps the library's defaults.
 */
export function applySpendControls(client, keepDefaults) {
  if (!keepDefaults) client.setSpendControls({ allowedAssets: true, maxAmountPerPayment: false });
  return client;
}

/** Each HTTP exchange the wrapper makes, as the wire saw it (for --trace). */
function traceEntry(method, url, requestHeaders, status, responseHeaders, body) {
  const pick = (headers, names) => Object.fromEntries(names.filter(n => headers[n] !== undefined).map(n => [n, headers[n]]));
  const req = pick(requestHeaders, ["payment-signature", "x-payment", "access-control-expose-headers"]);
  const { date, connection, "keep-alive": keepAlive, ...res } = responseHeaders;
  return {
    method,
    url,
    requestHeaders: req,
    payment: decodeJsonHeader(req["payment-signature"] ?? req["x-payment"]),
    status,
    responseHeaders: res,
    paymentRequired: decodeJsonHeader(res["payment-required"]),
    paymentResponse: decodeJsonHeader(res["payment-response"] ?? res["x-payment-response"]),
    body,
  };
}

/** Pays `url` with @x402/fetch's wrapFetchWithPayment over `client`. */
export async function payWithFetch(url, client, trace) {
  const { wrapFetchWithPayment, decodePaymentResponseHeader } = await import("@x402/fetch");
  const tracingFetch = async (input, init) => {
    const request = new Request(input, init);
    const sent = Object.fromEntries([...request.headers].map(([k, v]) => [k.toLowerCase(), v]));
    const response = await fetch(request);
    const received = Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v]));
    trace.push(traceEntry(request.method, request.url, sent, response.status, received, bodyOf(await response.clone().text())));
    return response;
  };
  const fetchWithPayment = wrapFetchWithPayment(tracingFetch, client);
  const response = await fetchWithPayment(url, { method: "GET" });
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  return {
    status: response.status,
    body: bodyOf(await response.text()),
    paymentResponse: header ? decodePaymentResponseHeader(header) : null,
    paymentRequired: decodeJsonHeader(response.headers.get("PAYMENT-REQUIRED")),
  };
}

/** Pays `url` with @x402/axios's wrapAxiosWithPayment over `client`. */
export async function payWithAxios(url, client, trace) {
  const { default: axios } = await import("axios");
  const { wrapAxiosWithPayment, decodePaymentResponseHeader } = await import("@x402/axios");
  const instance = axios.create();
  instance.interceptors.response.use(
    response => {
      trace.push(traceEntry(response.config.method.toUpperCase(), response.config.url, lowerHeaders(response.config.headers), response.status, lowerHeaders(response.headers), bodyOf(response.data)));
      return response;
    },
    error => {
      const r = error.response;
      if (r) trace.push(traceEntry(r.config.method.toUpperCase(), r.config.url, lowerHeaders(r.config.headers), r.status, lowerHeaders(r.headers), bodyOf(r.data)));
      return Promise.reject(error);
    },
  );
  wrapAxiosWithPayment(instance, client);
  let response;
  try {
    response = await instance.get(url);
  } catch (error) {
    if (!error.response) throw error;
    response = error.response;
  }
  const header = response.headers["payment-response"] ?? response.headers["x-payment-response"];
  return {
    status: response.status,
    body: bodyOf(response.data),
    paymentResponse: header ? decodePaymentResponseHeader(header) : null,
    paymentRequired: decodeJsonHeader(response.headers["payment-required"]),
  };
}

function lowerHeaders(headers) {
  const plain = typeof headers?.toJSON === "function" ? headers.toJSON() : { ...(headers ?? {}) };
  return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/**
 * Prints the result line and exits: 0 with {"status","body","paymentResponse"} on a 2xx
 * answer; 1 with the same plus "error" (and the decoded PAYMENT-REQUIRED of a 402) otherwise.
 */
export async function finish(result, trace, withTrace) {
  const line = { status: result.status, body: result.body, paymentResponse: result.paymentResponse };
  const ok = result.status >= 200 && result.status < 300;
  if (!ok) {
    line.error = `HTTP ${result.status}`;
    if (result.paymentRequired) line.paymentRequired = result.paymentRequired;
  }
  if (withTrace) line.trace = trace;
  await printLine(line);
  process.exit(ok ? 0 : 1);
}

/** Prints {"error": ...} and exits 1. */
export async function fail(error, trace, withTrace) {
  const line = { error: error?.message ?? String(error) };
  if (error?.cause) line.cause = String(error.cause?.code ?? error.cause?.message ?? error.cause);
  if (withTrace) line.trace = trace;
  await printLine(line);
  process.exit(1);
}
