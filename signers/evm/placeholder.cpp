// Replaced by the EVM signer sources.
