// Checks, with @solana/kit's decoders and Node's Ed25519, that a transaction made by our C++
// signer is a well-formed partially signed x402 exact payment: fee payer slot empty, every other
// signature valid over the message, TransferChecked for the expected amount.
//   usage: node svm_verify.mjs BASE64_TRANSACTION FEE_PAYER AMOUNT
import { createPublicKey, verify } from "node:crypto";
import { getAddressEncoder, getCompiledTransactionMessageDecoder, getTransactionDecoder } from "@solana/kit";

const [encoded, feePayer, amount] = process.argv.slice(2);
const transaction = getTransactionDecoder().decode(Buffer.from(encoded, "base64"));
const message = getCompiledTransactionMessageDecoder().decode(transaction.messageBytes);
const fail = (why) => { console.error(why); process.exit(1); };
if (message.staticAccounts[0] !== feePayer) fail("fee payer is not account 0");
for (const [signer, signature] of Object.entries(transaction.signatures)) {
  if (signer === feePayer) { if (signature !== null && signature.some((b) => b !== 0)) fail("fee payer slot is signed"); continue; }
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(getAddressEncoder().encode(signer))]);
  const key = createPublicKey({ key: spki, format: "der", type: "spki" });
  if (!verify(null, Buffer.from(transaction.messageBytes), key, Buffer.from(signature))) fail(`bad signature by ${signer}`);
}
const transfer = message.instructions[2];
const data = Buffer.from(transfer.data);
if (data[0] !== 12 || data.readBigUInt64LE(1) !== BigInt(amount)) fail("not a TransferChecked of the amount");
console.log("valid");
