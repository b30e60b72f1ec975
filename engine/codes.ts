/**
 * Result codes of the engine: 1000-1999 belong to matching, 2000-2999 to the pre-trade risk
 * stage and settlement.
 * A rejection is an event carrying one of these codes and a reason, never an exception.
 */
export const Code = {
  // commands and fields
  INVALID_COMMAND: 1001,
  INVALID_TIMESTAMP: 1002,
  INVALID_ACCOUNT: 1003,
  INVALID_CLIENT_ORDER_ID: 1004,
  INVALID_SIDE: 1005,
  INVALID_ORDER_TYPE: 1006,
  INVALID_TIF: 1007,
  INVALID_STP: 1008,
  INVALID_COMBINATION: 1009,
  // prices
  INVALID_PRICE: 1010,
  PRICE_NOT_ON_TICK: 1011,
  PRICE_ABOVE_MAX: 1012,
  PRICE_OUTSIDE_BAND: 1013,
  INVALID_STOP_PRICE: 1014,
  // quantities
  INVALID_QUANTITY: 1020,
  QUANTITY_NOT_ON_LOT: 1021,
  QUANTITY_BELOW_MIN: 1022,
  QUANTITY_ABOVE_MAX: 1023,
  // decimals at the edge
  INVALID_DECIMAL: 1025,
  NOT_SAFE_INTEGER: 1026,
  // time in force
  INVALID_EXPIRY: 1030,
  POST_ONLY_WOULD_TAKE: 1031,
  // orders
  DUPLICATE_CLIENT_ORDER_ID: 1040,
  UNKNOWN_ORDER: 1041,
  NOT_ORDER_OWNER: 1042,
  NOT_AMENDABLE: 1043,
  NOTHING_TO_CHANGE: 1044,
  // instruments
  UNKNOWN_INSTRUMENT: 1050,
  INSTRUMENT_HALTED: 1051,
  DUPLICATE_INSTRUMENT: 1052,
  INVALID_INSTRUMENT: 1053,
  // pre-trade risk and settlement (2000-2999)
  RISK_NOT_ELIGIBLE: 2001,
  RISK_FROZEN: 2002,
  RISK_INSUFFICIENT_BALANCE: 2003,
  RISK_UNKNOWN_ASSET: 2004,
  RISK_INVALID_AMOUNT: 2005,
  RISK_UNKNOWN_TRADE: 2006,
  RISK_OFF: 2007,
  RISK_UNKNOWN_WITHDRAWAL: 2008,
  // linked identities
  /** The identity is linked already (to this account or another), or is the account itself. */
  IDENTITY_LINKED: 2010,
  /** The identity is not linked to this account. */
  IDENTITY_NOT_LINKED: 2011,
  /** Open orders, trades waiting for settlement or withdrawals waiting stand in the way. */
  IDENTITY_BUSY: 2012,
  /** The account already settles on the venue as another of its identities: one per ledger. */
  IDENTITY_LEDGER_TAKEN: 2013,
} as const;

export type CodeName = keyof typeof Code;

const names = new Map<number, CodeName>(Object.entries(Code).map(([k, v]) => [v, k as CodeName]));

/** The name of a result code, e.g. `PRICE_NOT_ON_TICK`, or `UNKNOWN_CODE`. */
export function codeName(code: number): string {
  return names.get(code) ?? 'UNKNOWN_CODE';
}
