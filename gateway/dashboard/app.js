// The live dashboard: plain browser JavaScript (ES modules, no build step, nothing fetched from
// elsewhere). This module wires the page together: each part of the page to its view, the
// socket's messages to the parts they concern (market data to the feed, the account's reports to
// its orders, fills, balances and log), a login or logout to a new socket session and fresh
// reads, the address and window size to a redraw; then it starts the socket, the instrument list
// and the settlement poll. See feed.js for the checks on market data.

import { renderAccount } from './account.js';
import { loadBalances } from './balances.js';
import { checksumText, crc32 } from './checksum.js';
import { renderConsolidated } from './consolidated.js';
import { $ } from './dom.js';
import { channelList, following, startFeed } from './feed.js';
import { renderFeedChecks } from './feed-checks.js';
import { loadFills, onFillReport } from './fills.js';
import { banner, choose, currentInstrument, hashId, loadInstruments } from './instruments.js';
import { renderLadder } from './ladder.js';
import { loadOrders, onOrderReport } from './my-orders.js';
import { render, setViews } from './render.js';
import { logReport } from './reports.js';
import { currentSession, endSession, onSessionChange, watchExpiry } from './session.js';
import { renderPriceChart, startPriceChart } from './price-chart.js';
import { pollSettlements, renderSettlements } from './settlement.js';
import { onMessage, onOpen, reconnect, startSocket } from './socket.js';
import { update as updateTicket } from './ticket.js';
import { renderTicker } from './ticker.js';
import { renderTrades } from './trades.js';

setViews({
  book: renderLadder,
  trades: renderTrades,
  ticker: () => {
    renderTicker();
    updateTicket(); // the band and the estimate follow the last price
  },
  consolidated: renderConsolidated,
  stats: renderFeedChecks,
  ticket: () => updateTicket(),
  candles: renderPriceChart,
});

/** Shows the socket's state (`connecting`, `open`, `closed`) in the header. */
function setConnection(state, text) {
  const e = $('[data-testid="connection-status"]');
  e.dataset.state = state;
  e.textContent = text;
}

/** The account's own messages on the socket. */
onMessage((m) => {
  if (m.type === 'exec') {
    logReport(m);
    onOrderReport(m);
    onFillReport(m);
    loadBalances();
  } else if (m.type === 'reject') {
    logReport(m);
  } else if (m.type === 'login-error') {
    // The token was refused (expired, or the exchange restarted): log in again.
    endSession();
    renderAccount(`${m.code}: ${m.message}`);
  }
});

/** After a login, a logout or an expiry: a socket of that session, and the account's parts read again. */
function sessionChanged(s) {
  reconnect();
  renderAccount();
  loadInstruments();
  loadOrders(s !== null);
  loadFills(s !== null);
  loadBalances();
  render('ticket');
}
onSessionChange(sessionChanged);
// At each reconnection the account's open orders are read again: reports may have been missed.
onOpen(() => {
  if (currentSession() !== null) loadOrders(true);
});

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
// A new interval: its history and its channel.
startPriceChart(() => {
  const inst = currentInstrument();
  if (inst !== null) choose(inst.id);
});
startFeed({ onError: banner });
startSocket({ onStatus: setConnection, busy: following });
watchExpiry();
loadInstruments();
pollSettlements();
renderAccount();
loadFills(currentSession() !== null);
loadBalances();
