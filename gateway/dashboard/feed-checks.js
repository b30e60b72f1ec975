// The feed checks in the footer: per channel its last sequence, checks passed and failed,
// resyncs and state, and a summary of all of them.

import { $, el } from './dom.js';
import { channelList } from './feed.js';

export function renderFeedChecks() {
  let passed = 0;
  let failed = 0;
  const rows = channelList().map((ch) => {
    passed += ch.passed;
    failed += ch.failed;
    return el(
      'tr',
      {
        'data-testid': 'channel-stat',
        'data-channel': ch.name,
        'data-seq': ch.seq === null ? '' : String(ch.seq),
        'data-passed': String(ch.passed),
        'data-failed': String(ch.failed),
        class: ch.failed > 0 ? 'bad' : '',
      },
      el('td', {}, ch.name),
      el('td', { class: 'num' }, ch.seq === null ? '—' : String(ch.seq)),
      el('td', { class: 'num' }, String(ch.passed)),
      el('td', { class: 'num' }, String(ch.failed)),
      el('td', { class: 'num' }, String(ch.resyncs)),
      el('td', { title: ch.note }, ch.note ? `${ch.state}: ${ch.note}` : ch.state),
    );
  });
  $('[data-testid="channel-stats"]').replaceChildren(...rows);
  const summary = $('[data-testid="checks-summary"]');
  summary.textContent = `${passed} passed, ${failed} failed`;
  summary.dataset.passed = String(passed);
  summary.dataset.failed = String(failed);
  summary.classList.toggle('bad', failed > 0);
}
