// Checks with viem that a payment made by our C++ signer is valid: reads the PaymentPayload and
// the requirement it pays from the file given, recovers the signer of the EIP-712 message, and
// exits 0 only if it equals authorization.from.
//   usage: node evm_verify.mjs FILE   (FILE: {"payload": {...}, "requirements": {...}})
import { readFileSync } from "node:fs";
import { recoverTypedDataAddress, getAddress } from "viem";

const { payload, requirements } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const a = payload.payload.authorization;
const domain = { name: requirements.extra.name, version: requirements.extra.version,
                 chainId: Number(requirements.network.split(":")[1]), verifyingContract: requirements.asset };
const types = { TransferWithAuthorization: [
  { name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" } ] };
const message = { from: a.from, to: a.to, value: BigInt(a.value), validAfter: BigInt(a.validAfter),
                  validBefore: BigInt(a.validBefore), nonce: a.nonce };
const signer = await recoverTypedDataAddress({ domain, types, primaryType: "TransferWithAuthorization",
                                               message, signature: payload.payload.signature });
if (getAddress(signer) !== getAddress(a.from)) {
  console.error(`recovered ${signer}, expected ${a.from}`);
  process.exit(1);
}
if (getAddress(a.to) !== getAddress(requirements.payTo) || a.value !== requirements.amount) {
  console.error("payee or amount differ from the requirement");
  process.exit(1);
}
console.log(`valid: signed by ${signer}`);
