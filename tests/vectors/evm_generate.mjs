// Generates tests/vectors/evm_vectors.json with viem, an implementation independent of ours:
// EIP-712 domain separators, struct hashes, digests and signatures of EIP-3009
// TransferWithAuthorization messages from fixed keys, plus negative cases.
//   command: cd tests/vectors && npm ci && node evm_generate.mjs > evm_vectors.json
import { hashDomain, hashStruct, hashTypedData, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { secp256k1 } from "@noble/curves/secp256k1";

const types = {
  TransferWithAuthorization: [
    { name: "from", type: "address" }, { name: "to", type: "address" },
    { name: "value", type: "uint256" }, { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" },
  ],
};
const domainTypes = {
  EIP712Domain: [
    { name: "name", type: "string" }, { name: "version", type: "string" },
    { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" },
  ],
};
const domains = {
  base_sepolia: { name: "USDC", version: "2", chainId: 84532, verifyingContract: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" },
  base: { name: "USD Coin", version: "2", chainId: 8453, verifyingContract: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" },
};
const keys = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",  // Anvil/Hardhat #0
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",  // Anvil/Hardhat #1
  "0x0101010101010101010101010101010101010101010101010101010101010101",
];
const payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const nonce = (i) => keccak256(toHex(`x402-mcp-proxy vector nonce ${i}`));

const vectors = [];
let i = 0;
for (const key of keys) {
  const account = privateKeyToAccount(key);
  for (const [domainName, domain] of Object.entries(domains)) {
    for (const value of [1n, 1000n, 123456789n]) {
      const message = { from: account.address, to: payTo, value, validAfter: 1740672089n,
                        validBefore: 1740672154n + BigInt(i), nonce: nonce(i) };
      const signature = await account.signTypedData({ domain, types, primaryType: "TransferWithAuthorization", message });
      vectors.push({
        private_key: key, address: account.address, domain_name: domainName, domain: { ...domain },
        domain_separator: hashDomain({ domain, types: domainTypes }),
        message: { ...message, value: value.toString(), validAfter: message.validAfter.toString(),
                   validBefore: message.validBefore.toString() },
        struct_hash: hashStruct({ data: message, primaryType: "TransferWithAuthorization", types }),
        digest: hashTypedData({ domain, types, primaryType: "TransferWithAuthorization", message }),
        signature,
      });
      ++i;
    }
  }
}

// Negative cases, each from the first vector, with the reason our verifier must give.
const base = vectors[0];
const flip = (hex, byteIndex) => {
  const bytes = Buffer.from(hex.slice(2), "hex");
  bytes[byteIndex] ^= 0x01;
  return "0x" + bytes.toString("hex");
};
const sig = Buffer.from(base.signature.slice(2), "hex");
const n = secp256k1.CURVE.n;
const s = BigInt("0x" + sig.subarray(32, 64).toString("hex"));
const highS = Buffer.concat([sig.subarray(0, 32), Buffer.from((n - s).toString(16).padStart(64, "0"), "hex"),
                             Buffer.from([sig[64] === 27 ? 28 : 27])]);
const negatives = [
  { name: "flipped bit in the signature", signature: flip(base.signature, 10), reason: "invalid_exact_evm_signature" },
  { name: "high-s form of a valid signature", signature: "0x" + highS.toString("hex"), reason: "invalid_exact_evm_signature" },
  { name: "signed for another chain id", domain_override: { chainId: 1 }, reason: "invalid_exact_evm_signature" },
  { name: "signed for another domain version", domain_override: { version: "1" }, reason: "invalid_exact_evm_signature" },
  { name: "pays someone else", message_override: { to: "0x0000000000000000000000000000000000000001" }, reason: "invalid_exact_evm_recipient_mismatch" },
  { name: "expired", message_override: { validBefore: "1700000000" }, reason: "invalid_exact_evm_payload_authorization_valid_before" },
];
const account = privateKeyToAccount(base.private_key);
for (const negative of negatives) {
  if (negative.domain_override || negative.message_override) {
    const domain = { ...base.domain, ...(negative.domain_override ?? {}) };
    const message = { ...base.message, ...(negative.message_override ?? {}) };
    const typed = { ...message, value: BigInt(message.value), validAfter: BigInt(message.validAfter),
                    validBefore: BigInt(message.validBefore) };
    negative.signature = await account.signTypedData({ domain, types, primaryType: "TransferWithAuthorization", message: typed });
    negative.message = message;
  } else {
    negative.message = base.message;
  }
  // The requirement the verifier holds is always the base one (Base Sepolia, payTo, amount).
  negative.requirement_domain = base.domain;
  negative.amount = base.message.value;
  delete negative.domain_override;
  delete negative.message_override;
}
console.log(JSON.stringify({ generator: "viem", vectors, negatives }, null, 1));
