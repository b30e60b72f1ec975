// The live dashboard: plain browser JavaScript (ES modules, no build step, nothing fetched from
// elsewhere). This module wires the page together: each part of the page to its view, the feed's
// news to the header, the address and window size to a redraw, then starts the feed, the
// instrument list and the settlement poll. See feed.js for the checks on market data.

import { renderAccount } from './account.js';
import { checksumText, crc32 } from './checksum.js';
import { renderConsolidated } from './consolidated.js';
import { $ } from './dom.js';
import { channelList, startFeed } from './feed.js';
import { renderFeedChecks } from './feed-checks.js';
import { banner, choose, hashId, loadInstruments } from './instruments.js';
import { renderLadder } from './ladder.js';
import { render, setViews } from './render.js';
import { pollSettlements, renderSettlements } from './settlement.js';
import { renderTicker } from './ticker.js';
import { renderTrades } from './trades.js';

setViews({
  book: renderLadder,
  trades: renderTrades,
  ticker: renderTicker,
  consolidated: renderConsolidated,
  stats: renderFeedChecks,
});

/** Shows the socket's state (`connecting`, `open`, `closed`) in the header. */
function setConnection(state, text) {
  const e = $('[data-testid="connection-status"]');
  e.dataset.state = state;
  e.textContent = text;
}

window.addEventListener('hashchange', () => choose(hashId()));
window.addEventListener('resize', () => render('book'));

/** For tests and the curious: the checksum code and each channel's check counts. */
window.mosaicDashboard = {
  crc32,
  checksumText,
  stats: () =>
    channelList().map(({ name, seq, passed, failed, resyncs, state }) => ({
      name,
      seq,
      passed,
      failed,
      resyncs,
      state,
    })),
};

renderSettlements([]);
renderFeedChecks();
startFeed({ onStatus: setConnection, onError: banner });
loadInstruments();
pollSettlements();
renderAccount();
