// Small encoding helpers shared by the peer: base58/base64, a JSON writer that keeps u64 values
// exact (bigint -> bare digits) and can mark floats ("1000.0" as the Solana RPC prints uiAmount),
// and a parser for the Solana wire formats (transaction, legacy and v0 message).
import { getBase58Decoder, getBase58Encoder } from "@solana/kit";

const b58enc = getBase58Encoder();
const b58dec = getBase58Decoder();

export const toBase58 = (bytes) => b58dec.decode(bytes);
export const fromBase58 = (text) => new Uint8Array(b58enc.encode(text));
export const toBase64 = (bytes) => Buffer.from(bytes).toString("base64");
export const fromBase64 = (text) => new Uint8Array(Buffer.from(text, "base64"));

/** A number the JSON writer prints with a decimal point (Rust's f64 formatting of whole values). */
export class Float {
  constructor(value) {
    this.value = value;
  }
}

export function stringify(value) {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    default:
      break;
  }
  if (value instanceof Float) {
    if (!Number.isFinite(value.value)) return "null";
    const text = String(value.value);
    return /[.eE]/.test(text) ? text : `${text}.0`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => stringify(v)).join(",")}]`;
  if (value instanceof Uint8Array) return JSON.stringify(toBase64(value));
  const parts = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${stringify(v)}`);
  }
  return `{${parts.join(",")}}`;
}

function readCompactU16(bytes, offset) {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 3; i += 1) {
    if (offset >= bytes.length) throw new Error("truncated compact-u16");
    const byte = bytes[offset];
    offset += 1;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, offset];
    shift += 7;
  }
  throw new Error("compact-u16 too long");
}

function take(bytes, offset, length) {
  if (offset + length > bytes.length) throw new Error("truncated");
  return [bytes.subarray(offset, offset + length), offset + length];
}

/** Parses a legacy or v0 message. Throws on malformed input. */
export function parseMessage(bytes) {
  let offset = 0;
  let version = "legacy";
  if (bytes.length < 1) throw new Error("empty message");
  if (bytes[0] & 0x80) {
    version = bytes[0] & 0x7f;
    offset = 1;
    if (version !== 0) throw new Error(`unsupported message version ${version}`);
  }
  let header;
  [header, offset] = take(bytes, offset, 3);
  const numRequiredSignatures = header[0];
  const numReadonlySigned = header[1];
  const numReadonlyUnsigned = header[2];
  let count;
  [count, offset] = readCompactU16(bytes, offset);
  const accountKeys = [];
  for (let i = 0; i < count; i += 1) {
    let key;
    [key, offset] = take(bytes, offset, 32);
    accountKeys.push(toBase58(key));
  }
  let blockhash;
  [blockhash, offset] = take(bytes, offset, 32);
  [count, offset] = readCompactU16(bytes, offset);
  const instructions = [];
  for (let i = 0; i < count; i += 1) {
    const programIdIndex = bytes[offset];
    offset += 1;
    let n;
    [n, offset] = readCompactU16(bytes, offset);
    let accounts;
    [accounts, offset] = take(bytes, offset, n);
    [n, offset] = readCompactU16(bytes, offset);
    let data;
    [data, offset] = take(bytes, offset, n);
    instructions.push({ programIdIndex, accounts: Array.from(accounts), data: new Uint8Array(data) });
  }
  const addressTableLookups = [];
  if (version === 0) {
    [count, offset] = readCompactU16(bytes, offset);
    for (let i = 0; i < count; i += 1) {
      let key;
      [key, offset] = take(bytes, offset, 32);
      let n;
      [n, offset] = readCompactU16(bytes, offset);
      let writable;
      [writable, offset] = take(bytes, offset, n);
      [n, offset] = readCompactU16(bytes, offset);
      let readonly;
      [readonly, offset] = take(bytes, offset, n);
      addressTableLookups.push({
        accountKey: toBase58(key),
        writableIndexes: Array.from(writable),
        readonlyIndexes: Array.from(readonly),
      });
    }
  }
  if (offset !== bytes.length) throw new Error("trailing bytes after message");
  if (accountKeys.length < numRequiredSignatures) throw new Error("fewer keys than signers");
  for (const ix of instructions) {
    if (ix.programIdIndex >= accountKeys.length) throw new Error("program index out of range");
  }
  return {
    version,
    header: {
      numRequiredSignatures,
      numReadonlySignedAccounts: numReadonlySigned,
      numReadonlyUnsignedAccounts: numReadonlyUnsigned,
    },
    accountKeys,
    recentBlockhash: toBase58(blockhash),
    instructions,
    addressTableLookups,
  };
}

/** Whether static account i is writable, by the message header rules. */
export function isWritable(message, index) {
  const { numRequiredSignatures, numReadonlySignedAccounts, numReadonlyUnsignedAccounts } =
    message.header;
  if (index < numRequiredSignatures) return index < numRequiredSignatures - numReadonlySignedAccounts;
  return index < message.accountKeys.length - numReadonlyUnsignedAccounts;
}

/** Splits a wire transaction into its signatures and message bytes. */
export function parseTransaction(bytes) {
  let offset = 0;
  let count;
  [count, offset] = readCompactU16(bytes, offset);
  const signatures = [];
  for (let i = 0; i < count; i += 1) {
    let sig;
    [sig, offset] = take(bytes, offset, 64);
    signatures.push(new Uint8Array(sig));
  }
  const messageBytes = new Uint8Array(bytes.subarray(offset));
  const message = parseMessage(messageBytes);
  if (signatures.length !== message.header.numRequiredSignatures) {
    throw new Error("signature count does not match the message header");
  }
  return { signatures, messageBytes, message };
}
