/**
 * What the settlement chaincode's state layout shares with the exchange: how many trade ids one
 * verdict key holds, so that the daemon knows which batches touch the same key.
 */
export const VERDICTS_PER_KEY = 128;
