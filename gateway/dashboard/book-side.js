// One L2 book side, best first, holding levels exactly as they came ([price, qty, venues?]), and
// how a message's level changes apply to it (a zero quantity removes the level).

import { isZero } from './decimals.js';

/** Applies `changes` to `side` in place; `bestFirst(a, b)` says whether price a ranks before b. */
export function applyLevels(side, changes, bestFirst) {
  for (const level of changes) {
    const price = Number(level[0]);
    let i = 0;
    while (i < side.length && bestFirst(Number(side[i][0]), price)) i++;
    const found = i < side.length && Number(side[i][0]) === price;
    if (isZero(level[1])) {
      if (found) side.splice(i, 1);
    } else if (found) side[i] = level;
    else side.splice(i, 0, level);
  }
}

/** Bids rank from the highest price. */
export const higher = (a, b) => a > b;
/** Asks rank from the lowest price. */
export const lower = (a, b) => a < b;
