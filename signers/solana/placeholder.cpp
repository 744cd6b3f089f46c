// Replaced by the Solana signer sources.
