// The fault table the control API fills and the RPC proxy and facilitator server consult.
// Every entry has `remaining`: how many more times it fires (-1: until POST /reset).

export class Faults {
  constructor(log) {
    this.log = log;
    this.reset();
  }

  reset() {
    this.rpc = []; // { kind: "rpc_status" | "rpc_error" | "rpc_delay", method, status, body, code, message, ms, remaining }
    this.facilitator = { verify_delay: null, settle_delay: null, settle_hangup: null, verify_hangup: null };
    this.confirmationTimeoutMs = null; // overrides the receipt-wait bound when set
  }

  /** The first armed RPC fault for any of `methods` (a batch may carry several), consumed once per match. */
  takeRpc(methods) {
    for (const fault of this.rpc) {
      if (fault.remaining === 0) continue;
      const hits = methods.filter(m => fault.method === "*" || fault.method === m).length;
      if (hits === 0) continue;
      if (fault.remaining > 0) fault.remaining = Math.max(0, fault.remaining - hits);
      this.log(`fault: ${fault.kind} on ${methods.join(",")} (${fault.remaining === -1 ? "until reset" : `${fault.remaining} left`})`);
      return fault;
    }
    return null;
  }

  /** The facilitator fault named `kind`, consumed once, or null. */
  takeFacilitator(kind) {
    const fault = this.facilitator[kind];
    if (!fault || fault.remaining === 0) return null;
    if (fault.remaining > 0) fault.remaining -= 1;
    this.log(`fault: ${kind}${fault.ms !== undefined ? ` ${fault.ms} ms` : ""} (${fault.remaining === -1 ? "until reset" : `${fault.remaining} left`})`);
    return fault;
  }

  snapshot() {
    return {
      rpc: this.rpc.filter(f => f.remaining !== 0),
      facilitator: Object.fromEntries(Object.entries(this.facilitator).filter(([, f]) => f && f.remaining !== 0)),
      confirmationTimeoutMs: this.confirmationTimeoutMs,
    };
  }
}

/** count: a positive integer, or -1 for "until reset"; `fallback` when absent. */
export function parseCount(value, fallback) {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || (n < 1 && n !== -1)) {
    throw Object.assign(new Error("count must be a positive integer or -1 (until reset)"), { status: 400 });
  }
  return n;
}

export function parseMs(value, name = "ms") {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) {
    throw Object.assign(new Error(`${name} must be a non-negative integer`), { status: 400 });
  }
  return n;
}
