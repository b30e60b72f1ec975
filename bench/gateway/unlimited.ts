/**
 * The gateway's limits raised out of a benchmark's way: every generator and subscriber connects
 * from this machine, and each account sends far more than a client is allowed to.
 */
export const UNLIMITED = {
  messagesPerSecond: 10_000_000,
  burst: 10_000_000,
  accountMessagesPerSecond: 10_000_000,
  accountBurst: 10_000_000,
  accountOrdersPerSecond: 10_000_000,
  accountOrderBurst: 10_000_000,
  connectionsPerAddress: 1_000_000,
  challengeBurst: 10_000,
  loginBurst: 10_000,
};
