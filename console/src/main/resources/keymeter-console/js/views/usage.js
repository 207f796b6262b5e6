import { api, apiBlob, query } from '../api.js';
import {
  byName, currencyDecimals, decimalPlaces, formatDay, formatInstant, formatMoney, formatNumber, h, listCost, replace,
  showLoadProblem, showProblem, toast,
} from '../ui.js';

const charts = [];
/** How long a choice made with the arrow keys rests before the page is drawn for it. */
const KEY_SETTLE_MS = 700;
/** Alerts shown before "Show all": 113 of them pushed the bill many screens down. */
const ALERTS_SHOWN = 10;
/** The id of the selector whose change drew this page: focused again once drawn (keyboard users lost their place). */
let refocus = null;

/** The last 12 billing cycles (UTC calendar months), newest first. */
function recentCycles(count = 12) {
  const now = new Date();
  const cycles = [];
  for (let i = 0; i < count; i++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    cycles.push(month.toISOString().slice(0, 7));
  }
  return cycles;
}

/**
 * Usage and billing for one cycle: per-service and per-credential tables, the amount due, a daily chart per service,
 * the CSV download and the cycle's statements. Each part loads on its own, so one failing call does not hide the rest.
 */
export async function renderUsage(view, { params, isCurrent, navigate, reload }) {
  document.title = 'Usage · Keymeter';
  charts.splice(0).forEach((chart) => chart.destroy());
  const cycles = recentCycles();
  const asked = params.get('cycle');
  // a month 01–12 from 1970-01 to 9998-12, the API's range: "1999-13" showed the API's 400 in three places
  const valid = /^\d{4}-(0[1-9]|1[0-2])$/.test(asked || '') && asked >= '1970-01' && asked <= '9998-12';
  const cycle = valid ? asked : cycles[0];
  if (!cycles.includes(cycle)) {
    cycles.push(cycle);
  }
  const credentialId = params.get('credential') || '';
  const go = (changes, selector) => {
    if (!isCurrent()) {
      return; // a choice settling after the user left the page
    }
    const next = { cycle, credential: credentialId, ...changes };
    refocus = selector.id;
    navigate(`#/usage${query(next)}`);
  };

  const cycleSelect = h('select', { id: 'cycle' }, cycles.map((c) => h('option', { value: c, selected: c === cycle }, c)));
  onSettledChange(cycleSelect, (select) => go({ cycle: select.value }, select));
  // the credential in the address is chosen at once, named by its id until a name comes (from the list, or from
  // the usage report for a deleted one): the selector never reads "All credentials" over one credential's figures
  const chosenOption = credentialId ? h('option', { value: credentialId, selected: true }, credentialId) : null;
  const credentialSelect = h('select', { id: 'usage-credential' },
    h('option', { value: '' }, 'All credentials'), chosenOption);
  onSettledChange(credentialSelect, (select) => go({ credential: select.value }, select));
  const download = h('button', { type: 'button', class: 'button', id: 'download-csv' }, 'Download CSV');
  const controls = h('div', { class: 'controls card' },
    h('div', { class: 'field inline' }, h('label', { for: 'cycle' }, 'Billing cycle'), cycleSelect),
    h('div', { class: 'field inline' }, h('label', { for: 'usage-credential' }, 'Credentials'), credentialSelect),
    download);

  const summary = h('div', { class: 'summary', id: 'usage-summary' }, h('p', { class: 'loading' }, 'Loading usage…'));
  const services = h('section', { class: 'section', id: 'usage-services' });
  const byCredential = h('section', { class: 'section', id: 'usage-credentials' });
  const daily = h('section', { class: 'section', id: 'usage-daily' });
  const alerts = h('section', { class: 'section', id: 'security-alerts' });
  const statements = h('section', { class: 'section', id: 'statements' });
  replace(view, h('div', { class: 'page-head' }, h('h1', {}, 'Usage and billing')), controls,
    asked && !valid ? h('p', { class: 'alert alert-info', id: 'cycle-notice' },
      `“${asked}” is not a billing cycle (a month as YYYY-MM); showing ${cycle}.`) : null,
    summary, alerts, services, byCredential, daily, statements);
  if (refocus) {
    document.getElementById(refocus)?.focus();
    refocus = null;
  }

  download.addEventListener('click', () => downloadCsv(controls, cycle, credentialId, download));

  api('GET', 'v1/credentials').then((answer) => {
    if (!isCurrent()) {
      return;
    }
    for (const c of [...(answer.credentials || [])].sort(byName)) {
      if (c.id === credentialId) {
        chosenOption.textContent = c.name;
        credentialSelect.append(chosenOption); // in name order with the others
      } else {
        credentialSelect.append(h('option', { value: c.id }, c.name));
      }
    }
  }).catch(() => { /* the filter is optional; the usage call below shows any error */ });

  loadStatements(statements, cycle, isCurrent);
  loadAlerts(alerts, cycle, credentialId, isCurrent);

  let usage;
  try {
    usage = await api('GET', `v1/usage${query({ cycle, credentialId })}`);
  } catch (error) {
    if (isCurrent()) {
      replace(summary);
      showLoadProblem(summary, error, reload);
    }
    return;
  }
  if (!isCurrent()) {
    return;
  }
  const named = (usage.credentials || []).find((c) => c.credentialId === credentialId);
  if (chosenOption && chosenOption.textContent === credentialId && named?.name) {
    chosenOption.textContent = named.name; // a deleted credential keeps its name in billing, not in the list
  }
  drawSummary(summary, usage, credentialId);
  drawServices(services, usage, credentialId);
  drawCredentials(byCredential, usage);
  await drawDaily(daily, usage, cycle, credentialId, isCurrent);
}

/**
 * Calls {@code take} when the select's choice changed, at once for a pointer or Enter, and for the arrow keys (a
 * closed select fires change on every step) once they rest, or when the select loses the focus: each step drew the
 * whole page (a dozen calls) and added a history entry, and keys pressed while it was drawn were lost, so passing
 * 300 credentials by keyboard was impractical.
 */
function onSettledChange(select, take) {
  let keyed = false;
  let timer = null;
  const now = () => {
    clearTimeout(timer);
    timer = null;
    take(select);
  };
  select.addEventListener('keydown', (e) => {
    keyed = !['Enter', ' ', 'Tab', 'Escape'].includes(e.key);
    if (e.key === 'Enter' && timer) {
      now();
    }
  });
  select.addEventListener('change', () => {
    if (!keyed) {
      now();
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(now, KEY_SETTLE_MS);
  });
  select.addEventListener('blur', () => {
    if (timer) {
      now();
    }
  });
}

/**
 * With a credential chosen, the API narrows credentials[] only: services[] and amountDue stay the account's bill
 * (free units apply per account). So the chosen credential's figures come from its own entry.
 */
function usedServices(usage, credentialId) {
  return credentialId ? (usage.credentials || []).flatMap((c) => c.services || []) : (usage.services || []);
}

function drawSummary(container, usage, credentialId) {
  const currency = usage.currency || 'USD';
  const totals = usedServices(usage, credentialId).reduce((t, s) => ({
    requests: t.requests + Number(s.requests || 0), units: t.units + Number(s.units || 0),
  }), { requests: 0, units: 0 });
  // a cycle not begun yet is "open" to the API (not closed); to a reader it is to come
  const upcoming = usage.cycle?.start && new Date(usage.cycle.start).getTime() > Date.now();
  const status = upcoming ? 'upcoming' : (usage.cycle?.status || 'open');
  const whose = credentialId ? 'of the chosen credential' : null;
  replace(container,
    tile('Billing cycle', usage.cycle?.id || '', h('span', { class: `badge badge-${status}` }, status),
      usage.cycle ? `${formatDay(usage.cycle.start)} – ${lastDay(usage.cycle.end)}` : ''),
    tile('Amount due', h('span', { id: 'amount-due' }, formatMoney(usage.amountDue, currency)), null,
      ({ open: 'so far, billed when the cycle closes', upcoming: 'the cycle has not begun' }[status]
        || 'for the closed cycle')
        + (credentialId ? ', for the whole account' : '')),
    tile('Requests', h('span', { id: 'total-requests' }, formatNumber(totals.requests)), null, whose),
    tile('Units', h('span', { id: 'total-units' }, formatNumber(totals.units)), null, whose));
}

/** The cycle's end is exclusive (the next month's first instant): show the last day in it. */
function lastDay(end) {
  return end ? formatDay(new Date(new Date(end).getTime() - 1)) : '';
}

function tile(label, value, badge, note) {
  return h('div', { class: 'tile card' }, h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value' }, value, badge ? ' ' : null, badge), note ? h('div', { class: 'small muted' }, note) : null);
}

function drawServices(container, usage, credentialId) {
  const currency = usage.currency || 'USD';
  // list-price cost per service: its units at its price, exact (ui.js listCost); with a credential chosen the
  // units are the account's, beside that credential's figures, so the column is left out then
  const costs = !credentialId;
  const headings = ['Service', 'Requests', 'Units', ...(costs ? ['Cost'] : []), 'Free units', 'Billable units',
    'Price / 1,000', 'Amount'];
  const rows = usage.services || [];
  replace(container, h('h2', {}, 'By service'),
    credentialId ? h('p', { class: 'help', id: 'services-account-wide' },
      "The account's bill, all credentials together: the free allowance applies once per service for the whole account.")
      : null,
    rows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive numeric', id: 'services-table' },
      h('thead', {}, h('tr', {}, headings.map((t, i) => h('th', { class: i > 0 && t !== 'Service' ? 'num' : null }, t)))),
      h('tbody', {}, rows.map((s) => h('tr', { dataset: { service: s.service } },
        cell('Service', s.service, false), cell('Requests', formatNumber(s.requests)), cell('Units', formatNumber(s.units)),
        costs ? cell('Cost', cost(listCost(s.units, s.pricePer1000, decimalsOf(usage.amountDue, currency)), currency)) : null,
        cell('Free units', formatNumber(s.freeUnits)), cell('Billable units', formatNumber(s.billableUnits)),
        cell('Price / 1,000', formatMoney(s.pricePer1000, currency)), cell('Amount', formatMoney(s.amount, currency))))),
      h('tfoot', {}, h('tr', {}, h('th', { colspan: headings.length - 1, scope: 'row' }, 'Amount due'),
        h('td', { class: 'total num', id: 'services-amount-due' }, formatMoney(usage.amountDue, currency))))))
      : h('p', { class: 'muted', id: 'no-usage' },
        usage.cycle && usage.cycle.status === 'closed' ? 'No usage in this cycle.' : 'No usage in this cycle yet.'));
}

/** "3 rejected (2 referrer not permitted, 1 expired)": why a credential's requests were refused, most first. */
function rejected(c) {
  const reasons = Object.entries(c.rejectedByReason || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const why = reasons.map(([reason, count]) => `${formatNumber(count)} ${reason.replaceAll('-', ' ')}`).join(', ');
  return `${formatNumber(c.rejectedRequests)} rejected${why ? ` (${why})` : ''}`;
}

/**
 * The decimals the server rounds amounts to: those of its amount due (a sum from zero at the catalog's scale), the
 * browser's idea of the currency only without one. ISO 4217 and the browser's CLDR data disagree for some
 * currencies (IQD: 3 and 0).
 */
function decimalsOf(amountDue, currency) {
  return decimalPlaces(amountDue) ?? currencyDecimals(currency);
}

function cost(amount, currency) {
  return amount === null ? '—' : formatMoney(amount, currency);
}

function drawCredentials(container, usage) {
  const currency = usage.currency || 'USD';
  // in name order, as the list is (the API's is by id); a deleted credential without a name by its id
  const credentials = [...(usage.credentials || [])]
    .sort((a, b) => byName({ name: a.name || a.credentialId }, { name: b.name || b.credentialId }));
  const rows = [];
  for (const c of credentials) {
    const services = c.services || [];
    services.forEach((s, i) => rows.push(h('tr', { dataset: { credentialId: c.credentialId, service: s.service } },
      i === 0 ? h('td', { 'data-label': 'Credentials', rowspan: services.length, class: 'group' },
        credentialLink(c.credentialId, c.name),
        h('div', { class: 'small muted rejected' }, `${rejected(c)} · ${formatMoney(c.cost, currency)} total`))
        : null,
      cell('Service', s.service, false), cell('Requests', formatNumber(s.requests)), cell('Units', formatNumber(s.units)),
      cell('Cost', formatMoney(s.cost, currency)))));
    if (!services.length) {
      rows.push(h('tr', { dataset: { credentialId: c.credentialId } },
        h('td', { 'data-label': 'Credentials', class: 'group' },
          credentialLink(c.credentialId, c.name)),
        h('td', { colspan: 4, class: 'muted rejected' },
          `${rejected(c)}, no accepted usage`)));
    }
  }
  replace(container, h('h2', {}, 'By credentials'),
    credentials.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive numeric', id: 'credential-usage-table' },
      h('thead', {}, h('tr', {}, ['Credentials', 'Service', 'Requests', 'Units', 'Cost'].map((t, i) => h('th', { class: i > 0 && t !== 'Service' ? 'num' : null }, t)))),
      h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'No credential has usage in this cycle.'),
    h('p', { class: 'help' }, 'Cost is the list price (units / 1,000 × price). The free monthly allowance applies once per service '
      + 'for the whole account, in the table above.'));
}

/** A credential named in a table, wrapped anywhere: a 128-character name without spaces pushed the figures out of view. */
function credentialLink(id, name) {
  return h('a', { href: `#/credentials/${encodeURIComponent(id)}`, class: 'credential-link' }, name || id);
}

/** A table cell labelled for the stacked phone layout; numbers are right-aligned. */
function cell(label, value, numeric = true) {
  return h('td', { 'data-label': label, class: numeric ? 'num' : null }, value);
}

/** One Chart.js timeline per service with usage: units per day (bars) and requests per day (line). */
async function drawDaily(container, usage, cycle, credentialId, isCurrent) {
  const services = usedServices(usage, credentialId).filter((s) => Number(s.requests || 0) > 0 || Number(s.units || 0) > 0);
  replace(container, h('h2', {}, 'Daily usage'));
  if (!services.length) {
    container.append(h('p', { class: 'muted' }, 'Charts appear once there is usage in this cycle.'));
    return;
  }
  const grid = h('div', { class: 'charts' });
  container.append(grid);
  await Promise.all(services.map(async ({ service }) => {
    const figure = h('figure', { class: 'chart card', dataset: { service } }, h('figcaption', {}, service));
    grid.append(figure);
    try {
      const answer = await api('GET', `v1/usage/daily${query({ cycle, credentialId, service })}`);
      if (isCurrent()) {
        drawChart(figure, service, answer.days || []);
      }
    } catch (error) {
      showProblem(figure, error, { prepend: false });
    }
  }));
}

function drawChart(figure, service, days) {
  if (!window.Chart) {
    figure.append(h('p', { class: 'alert alert-error' }, 'The chart library did not load.'), dailyTable(service, days));
    return;
  }
  const canvas = h('canvas', {
    id: `chart-${service}`, role: 'img', 'aria-label': `Daily units and requests of ${service}; the numbers are in the table below`,
  });
  figure.append(h('div', { class: 'chart-box' }, canvas), dailyTable(service, days));
  const styles = getComputedStyle(document.documentElement);
  charts.push(new window.Chart(canvas, {
    type: 'bar',
    data: {
      labels: days.map((d) => d.date),
      datasets: [
        { label: 'Units', data: days.map((d) => Number(d.units || 0)), backgroundColor: styles.getPropertyValue('--chart-units').trim(), order: 2 },
        { label: 'Requests', type: 'line', data: days.map((d) => Number(d.requests || 0)),
          borderColor: styles.getPropertyValue('--chart-requests').trim(), backgroundColor: styles.getPropertyValue('--chart-requests').trim(),
          pointRadius: 2, tension: 0.2, order: 1, yAxisID: 'requests' },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { callback(value) { return this.getLabelForValue(value).slice(5); }, maxRotation: 0, autoSkipPadding: 8 } },
        y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Units' } },
        // an axis of their own: 5 requests of 200 units each drew as a flat line at 0 on the units' scale
        requests: { position: 'right', beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false },
          title: { display: true, text: 'Requests' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  }));
}

/**
 * The chart's numbers as a table, folded away under the chart: a canvas is one image to a screen reader, and exact
 * figures of a day were only in a tooltip that needs a pointer.
 */
function dailyTable(service, days) {
  return h('details', { class: 'chart-data' },
    // named by service: a list of the page's controls read "Show the numbers" once per chart
    h('summary', {}, 'Show the numbers', h('span', { class: 'visually-hidden' }, ` of ${service}`)),
    h('div', { class: 'table-scroll' }, h('table', { class: 'table numeric', id: `daily-${service}` },
      h('caption', { class: 'small muted' }, `${service}, per UTC day`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col', class: 'num' }, 'Requests'),
        h('th', { scope: 'col', class: 'num' }, 'Units'))),
      h('tbody', {}, days.map((d) => h('tr', {}, h('th', { scope: 'row' }, d.date),
        h('td', { class: 'num' }, formatNumber(d.requests)), h('td', { class: 'num' }, formatNumber(d.units))))))));
}

async function downloadCsv(container, cycle, credentialId, button) {
  container.querySelectorAll('.problem').forEach((e) => e.remove());
  button.disabled = true;
  try {
    // a plain link cannot carry the bearer token, so fetch the file and save it from a blob URL
    const csv = await apiBlob(`v1/usage.csv${query({ cycle, credentialId })}`, 'text/csv');
    // a byte order mark for the file saved (not the API's answer): without it Excel read the UTF-8 names as
    // another encoding ("CafÃ©")
    const blob = new Blob(['\uFEFF', csv], { type: csv.type });
    const url = URL.createObjectURL(blob);
    const name = `keymeter-usage-${cycle}${credentialId ? `-${credentialId}` : ''}.csv`;
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast(`Downloaded ${name}`);
  } catch (error) {
    showProblem(container, error, { prepend: false });
  } finally {
    button.disabled = false;
  }
}

/**
 * Keys used after they were invalidated or expired, by the cycle of their last such use: a stolen key, or an
 * application never given its new key. Shown only when there are any, above the bill, as a warning.
 */
async function loadAlerts(container, cycle, credentialId, isCurrent) {
  let answer;
  try {
    answer = await api('GET', `v1/security-alerts${query({ cycle, credentialId })}`);
  } catch (error) {
    // a credential not found, or a server not reached, is the usage report's problem to show, once
    if (isCurrent() && error.status !== 404 && error.status !== 0) {
      replace(container, h('h2', {}, 'Security alerts'));
      showProblem(container, error, { prepend: false });
    }
    return;
  }
  // the latest use first: the key still being sent matters most. By time, not text: an instant on the whole second
  // is written without a fraction ("…:30Z"), and sorted after "…:30.120Z" as text
  const list = [...(answer.alerts || [])].sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen));
  if (!isCurrent() || !list.length) {
    return;
  }
  const keys = new Set(list.map((a) => a.keyId)).size;
  replace(container, h('h2', {}, 'Security alerts'),
    h('p', { class: 'alert alert-warning' }, `${keys === 1 ? 'A key was' : `${keys} keys were`} used after `
      + 'being invalidated or expiring, and refused. If you did not expect it, the key may be in other hands: check '
      + 'which applications still send it, and issue them a new key if they are yours.'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive', id: 'security-alerts-table' },
      h('thead', {}, h('tr', {}, ['Credentials', 'Key ID', 'Refused as', 'Uses', 'First use', 'Last use']
        .map((t) => h('th', { class: t === 'Uses' ? 'num' : null }, t)))),
      h('tbody', {}, list.map((a, i) => h('tr', { dataset: { keyId: a.keyId }, hidden: i >= ALERTS_SHOWN },
        h('td', { 'data-label': 'Credentials' },
          credentialLink(a.credentialId, a.name)),
        h('td', { 'data-label': 'Key ID', class: 'mono' }, a.keyId),
        cell('Refused as', a.reason, false), cell('Uses', formatNumber(a.count)),
        cell('First use', formatInstant(a.firstSeen), false), cell('Last use', formatInstant(a.lastSeen), false)))))),
    list.length > ALERTS_SHOWN ? showAll(container, list.length) : null,
    h('p', { class: 'help' }, 'Uses are counted from the first use after the key died, which may be in an earlier cycle; '
      + 'uses of about the last hour may not be counted yet.'));
}

/** Unfolds the alerts past the first few; the focus stays in the table, on the first one it shows. */
function showAll(container, count) {
  const button = h('button', { type: 'button', class: 'button link', id: 'show-all-alerts' }, `Show all ${count} alerts`);
  button.addEventListener('click', () => {
    const hidden = [...container.querySelectorAll('#security-alerts-table tbody tr[hidden]')];
    hidden.forEach((row) => { row.hidden = false; });
    button.remove();
    hidden[0]?.querySelector('a')?.focus();
  });
  return button;
}

async function loadStatements(container, cycle, isCurrent) {
  replace(container, h('h2', {}, 'Statements'), h('p', { class: 'loading' }, 'Loading statements…'));
  let answer;
  try {
    answer = await api('GET', `v1/statements${query({ cycle })}`);
  } catch (error) {
    if (isCurrent()) {
      replace(container, h('h2', {}, 'Statements'));
      if (error.status === 0) { // a server not reached: said once, by the usage report
        container.append(h('p', { class: 'muted' }, 'Not loaded.'));
      } else {
        showProblem(container, error, { prepend: false });
      }
    }
    return;
  }
  if (!isCurrent()) {
    return;
  }
  const list = answer.statements || [];
  replace(container, h('h2', {}, 'Statements'),
    list.length ? list.map(statementCard)
      : h('p', { class: 'muted', id: 'no-statements' },
        cycle < new Date().toISOString().slice(0, 7)
          ? `No statement for ${cycle}. A final statement is issued shortly after a cycle closes when the account `
            + 'had usage in it; usage arriving later is billed on an adjustment statement.'
          : `No statement for ${cycle} yet. A cycle's final statement is issued shortly after the cycle closes; `
            + 'usage arriving later is billed on an adjustment statement.'));
}

function statementCard(statement) {
  const currency = statement.currency || 'USD';
  return h('article', { class: 'card statement', dataset: { statementId: statement.statementId } },
    h('div', { class: 'slot-head' },
      h('h3', {}, `${statement.cycle} · ${statement.kind === 'adjustment' ? 'Adjustment' : 'Final statement'}`),
      h('strong', {}, formatMoney(statement.amountDue, currency))),
    h('p', { class: 'small muted' }, `Issued ${formatInstant(statement.issuedAt)} · `, h('code', {}, statement.statementId)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive numeric' },
      h('thead', {}, h('tr', {}, ['Service', 'Requests', 'Units', 'Free units', 'Billable units', 'Price / 1,000', 'Amount']
        .map((t, i) => h('th', { class: i > 0 && t !== 'Service' ? 'num' : null }, t)))),
      h('tbody', {}, (statement.lines || []).map((l) => h('tr', {},
        cell('Service', l.service, false), cell('Requests', formatNumber(l.requests)), cell('Units', formatNumber(l.units)),
        cell('Free units', formatNumber(l.freeUnits)), cell('Billable units', formatNumber(l.billableUnits)),
        cell('Price / 1,000', formatMoney(l.pricePer1000, currency)), cell('Amount', formatMoney(l.amount, currency))))))));
}
