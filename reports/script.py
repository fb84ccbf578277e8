"""The report page's script: draws the figures, and re-aggregates the embedded cells when a filter
changes (plain JavaScript, no library besides the inlined plotly.js).

Python draws every figure once, with all the data (reports.charts): its look (colours, axes,
hover text) stays Python's. A chart the filters apply to names its data series with the trace
``meta`` key; here a *view* per chart recomputes those series from the cells in the page's JSON
(reports.dashboard) for the current filters, and ``Plotly.react`` redraws it. KPI tiles work the
same way, with the change against the previous period of the same length.

The filters live in the URL hash (``#from=2025-03&to=2025-05&department=Sales&network=linkedin
&campaign=q3-pipeline``): a filtered view can be bookmarked and sent, and the tests set it.
``window.reachloopReport`` tells the world when drawing is done and what is shown (``view``).
"""

SCRIPT = r"""
(function () {
  'use strict';
  const state = window.reachloopReport = { done: false, errors: [], drawn: 0, renders: 0, view: {} };
  // No toolbar: it covered the legends. Drag still zooms, a double click resets.
  const config = { displayModeBar: false, responsive: true };
  const dataEl = document.getElementById('report-data');
  const D = dataEl ? JSON.parse(dataEl.textContent) : null;
  const FILTERS = ['period', 'department', 'network', 'campaign'];
  const base = {};   // chart id -> the figure as Python drew it
  const charts = Array.from(document.querySelectorAll('[data-chart]'));
  charts.forEach(function (el) {
    try { base[el.id] = JSON.parse(document.getElementById(el.id + '-spec').textContent); }
    catch (e) { state.errors.push(el.id + ': ' + e); console.error(e); }
  });

  // ---- small helpers ------------------------------------------------------------------------
  const DAY = 86400000;
  function isoDay(d) { return new Date(d * DAY).toISOString().slice(0, 10); }
  function monthOf(d) { return isoDay(d).slice(0, 7); }
  function weekOf(d) { const w = new Date(d * DAY).getUTCDay(); return isoDay(d - ((w + 6) % 7)); }
  function sum(a) { let s = 0; for (const x of a) s += x; return s; }
  function ratio(a, b) { return b ? a / b : null; }
  function quantile(sorted, p) {   // continuous, as DuckDB's quantile_cont and median
    if (!sorted.length) return null;
    const pos = (sorted.length - 1) * p, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }
  function sorted(lists) { const out = [].concat.apply([], lists); out.sort(function (a, b) { return a - b; }); return out; }
  function fmtNum(x) { return x == null ? '–' : Math.round(x).toLocaleString('en-US'); }
  function fmtPct(x, digits) { return x == null ? '–' : (100 * x).toFixed(digits == null ? 1 : digits) + '%'; }
  function fmtMoney(x, cur) { return x == null ? '–' : fmtNum(x) + ' ' + cur; }
  function clip(s, n) { s = String(s); n = n || 38; return s.length <= n ? s : s.slice(0, n - 1) + '…'; }
  function columnsOf(t) { const at = {}; t.columns.forEach(function (c, i) { at[c] = i; }); return at; }
  function monthLabel(m) {
    return new Date(m + '-01T00:00:00Z').toLocaleString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
  }
  function addMonths(m, k) {
    const d = new Date(m + '-01T00:00:00Z'); d.setUTCMonth(d.getUTCMonth() + k); return d.toISOString().slice(0, 7);
  }
  function monthsBetween(a, b) {
    return (+b.slice(0, 4) - +a.slice(0, 4)) * 12 + (+b.slice(5, 7) - +a.slice(5, 7));
  }

  // ---- filters ------------------------------------------------------------------------------
  const filter = { from: '', to: '', department: '', network: '', campaign: '' };
  const months = [];
  if (D && D.shares) {
    const seen = new Set(D.shares.day.map(monthOf));
    if (D.engagements) D.engagements.day.forEach(function (d) { seen.add(monthOf(d)); });
    Array.from(seen).sort().forEach(function (m) { months.push(m); });
  }
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    filter.from = months.includes(p.get('from')) ? p.get('from') : '';
    filter.to = months.includes(p.get('to')) ? p.get('to') : '';
    if (filter.from && filter.to && filter.from > filter.to) { const t = filter.from; filter.from = filter.to; filter.to = t; }
    filter.department = (D.department_options || []).includes(p.get('department')) ? p.get('department') : '';
    filter.network = D.dims.network.includes(p.get('network')) ? p.get('network') : '';
    filter.campaign = D.dims.campaign.includes(p.get('campaign')) ? p.get('campaign') : '';
  }
  function writeHash() {
    const p = new URLSearchParams();
    Object.keys(filter).forEach(function (k) { if (filter[k]) p.set(k, filter[k]); });
    const hash = p.toString();
    history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
  }
  function active() {   // the filters set, by name (the period counts once)
    const out = [];
    if (filter.from || filter.to) out.push('period');
    ['department', 'network', 'campaign'].forEach(function (k) { if (filter[k]) out.push(k); });
    return out;
  }
  function period() {   // [first month, last month] of the current period, null for everything
    if (!filter.from && !filter.to) return null;
    return [filter.from || months[0], filter.to || months[months.length - 1]];
  }
  function previous(p) {   // the period of the same length just before, if the data cover it
    if (!p) return null;
    const n = monthsBetween(p[0], p[1]) + 1, before = [addMonths(p[0], -n), addMonths(p[0], -1)];
    return before[0] >= months[0] ? before : null;
  }
  function periodText(p) { return p[0] === p[1] ? monthLabel(p[0]) : monthLabel(p[0]) + '–' + monthLabel(p[1]); }

  // The cells of one table (shares, engagements, attribution segments …) that pass the filters
  // for period ``p``. The department applies to employee posts; page posts stay in as the
  // baseline they are, except for ``own`` figures (attribution: what the department's posts did).
  // ``department``: another department than the filter's ('' for all).
  function pick(cells, p, own, department) {
    const dims = D.dims, out = [], name = department === undefined ? filter.department : department;
    const dep = name ? dims.department.indexOf(name) : -1;
    if (name && dep < 0) return out;   // a department the cells pool (too few sharers to name)
    const net = filter.network ? dims.network.indexOf(filter.network) : -1;
    const camp = filter.campaign ? dims.campaign.indexOf(filter.campaign) : -1;
    const page = dims.author_type.indexOf('page');
    for (let i = 0; i < cells.day.length; i++) {
      if (p) { const m = monthOf(cells.day[i]); if (m < p[0] || m > p[1]) continue; }
      if (net >= 0 && cells.network[i] !== net) continue;
      if (camp >= 0 && cells.campaign[i] !== camp) continue;
      if (dep >= 0 && (own || cells.author_type[i] !== page) && cells.department[i] !== dep) continue;
      out.push(i);
    }
    return out;
  }
  function authorType(cells, i) { return D.dims.author_type[cells.author_type[i]]; }

  // Sums of the share cells ``idx`` by author type (and by ``keyOf(day)`` when given).
  function shareTotals(idx, keyOf) {
    const c = D.shares, groups = {};
    idx.forEach(function (i) {
      const key = (keyOf ? keyOf(c.day[i]) : '') + '|' + authorType(c, i);
      const g = groups[key] || (groups[key] = { shares: 0, impressions: 0, interactions: 0, clicks: 0,
        members_reached: 0, potential_reach: 0, reached_shares: 0, measured_shares: 0, ratios: [], authors: new Set() });
      ['shares', 'impressions', 'interactions', 'clicks', 'members_reached', 'potential_reach', 'reached_shares', 'measured_shares']
        .forEach(function (k) { g[k] += c[k][i]; });
      g.ratios.push(c.reach_ratios[i]);
      c.authors[i].forEach(function (a) { g.authors.add(a); });
    });
    Object.keys(groups).forEach(function (k) { groups[k].ratios = sorted(groups[k].ratios); });
    return groups;
  }
  function engagementTotals(idx, keyOf, onlyType) {
    const c = D.engagements, groups = {};
    idx.forEach(function (i) {
      if (onlyType && authorType(c, i) !== onlyType) return;
      const key = keyOf ? keyOf(c.day[i]) : '';
      const g = groups[key] || (groups[key] = { engagements: 0, known: 0, colleague: 0 });
      g.engagements += c.engagements[i]; g.known += c.known_actor[i]; g.colleague += c.colleague_engagements[i];
    });
    return groups;
  }
  const EMPTY = { shares: 0, impressions: 0, interactions: 0, clicks: 0, members_reached: 0, potential_reach: 0,
                  reached_shares: 0, measured_shares: 0, ratios: [], authors: new Set() };
  function get(groups, key) { return groups[key] || EMPTY; }

  // The deals touched by the posts the filters pick (each deal once however many of its touches
  // pass), in the order of D.deals (won, open, lost; by amount in the reporting currency).
  function dealsIn(p) {
    const d = D.deals, c = d.cells, hit = new Uint8Array(d.deal_id.length);
    pick(c, p, true).forEach(function (i) { if (c.deal[i] >= 0) hit[c.deal[i]] = 1; });
    const out = { list: [], touched: 0, won: 0, revenue: {} };
    for (let i = 0; i < hit.length; i++) {
      if (!hit[i]) continue;
      out.list.push(i); out.touched++;
      if (d.status[i] === 'won') {
        out.won++;
        out.revenue[d.currency[i]] = (out.revenue[d.currency[i]] || 0) + (d.amount[i] || 0);
      }
    }
    return out;
  }

  // ---- KPI tiles: id -> function(period) -> {value, hint, number, kind} ----------------------
  const kpis = {
    amplification: function (p) {
      const t = shareTotals(pick(D.shares, p));
      const e = quantile(get(t, '|employee').ratios, 0.5), g = quantile(get(t, '|page').ratios, 0.5);
      const x = e != null && g ? e / g : null;
      return { number: x, kind: 'ratio', value: x == null ? '–' : '×' + x.toFixed(1),
               hint: 'employee ' + fmtPct(e) + ' vs page ' + fmtPct(g) + ' median reach' };
    },
    employee_posts: function (p) {
      const t = shareTotals(pick(D.shares, p)), e = get(t, '|employee'), g = get(t, '|page');
      return { number: e.shares, kind: 'count', value: fmtNum(e.shares),
               hint: 'by ' + fmtNum(e.authors.size) + ' employees; ' + fmtNum(g.shares) + ' page posts' };
    },
    members_reached: function (p) {
      const e = get(shareTotals(pick(D.shares, p)), '|employee');
      return { number: e.members_reached, kind: 'count', value: fmtNum(e.members_reached),
               hint: 'unique impressions where known' };
    },
    ctr_lift: function (p) {
      const t = shareTotals(pick(D.shares, p)), e = get(t, '|employee'), g = get(t, '|page');
      const ce = ratio(e.clicks, e.impressions), cg = ratio(g.clicks, g.impressions);
      const x = ce && cg ? ce / cg : null;
      return { number: x, kind: 'ratio', value: x ? '×' + x.toFixed(1) : '–',
               hint: 'CTR ' + fmtPct(ce) + ' vs ' + fmtPct(cg) + '; reference ≈ ×2' };
    },
    colleague_share: function (p) {
      const g = engagementTotals(pick(D.engagements, p), null, 'employee')[''] || { known: 0, colleague: 0 };
      const x = ratio(g.colleague, g.known);
      return { number: x, kind: 'share', value: fmtPct(x, 0), hint: 'on employee posts; lower is healthier' };
    },
    won_revenue: function (p) {
      const d = dealsIn(p), cur = D.currency;
      const others = Object.keys(d.revenue).filter(function (c) { return c !== cur; }).sort()
        .map(function (c) { return fmtMoney(d.revenue[c], c); });
      return { number: cur ? (d.revenue[cur] || 0) : null, kind: 'count',
               value: cur ? fmtMoney(d.revenue[cur] || 0, cur) : '–',
               hint: fmtNum(d.won) + ' won deals of ' + fmtNum(d.touched) + ' touched' +
                     (others.length ? '; also ' + others.join(', ') + ' (never added up)' : '') };
    },
    // The last month of the period: employees who shared then (on the network, of the campaign)
    // ÷ employees on the department's roster then (mart_program_adoption; a suppressed group
    // shows no figure, the pooled departments have no roster row of their own).
    activation: function (p) {
      const a = D.adoption, dep = filter.department || '';
      let month = '';
      a.month.forEach(function (m) { if ((!p || m <= p[1]) && m > month) month = m; });
      const none = { number: null, kind: 'share', value: '–' };
      if (!month) return Object.assign(none, { hint: 'no roster in this period' });
      if (dep === D.other_departments) {
        return Object.assign(none, { hint: 'no roster for ' + dep + ' (mart_program_adoption counts each department, small ones suppressed)' });
      }
      let row = -1;
      a.month.forEach(function (m, i) { if (m === month && a.department[i] === dep) row = i; });
      const enrolled = row < 0 ? null : a.enrolled_employees[row];
      if (enrolled == null) {
        return Object.assign(none, { hint: row < 0 ? 'no one on the roster in ' + month + '-01'
          : 'suppressed: fewer than ' + D.min_group + ' employees on the roster in ' + month + '-01' });
      }
      let active = a.active_sharers[row];
      if (filter.network || filter.campaign) {
        const authors = new Set();
        pick(D.shares, [month, month], true).forEach(function (i) {
          if (authorType(D.shares, i) === 'employee') D.shares.authors[i].forEach(function (k) { authors.add(k); });
        });
        active = authors.size;
      }
      const x = ratio(active, enrolled);
      return { number: x, kind: 'share', value: fmtPct(x, 0),
               hint: fmtNum(active) + ' of ' + fmtNum(enrolled) + ' employees shared in ' + month + '-01' };
    },
    // The network with the most employee posts among the filtered posts, and its engagement
    // rate (all its posts, as mart_network_monthly); the change compares that same network.
    main_network: function (p, network) {
      const c = D.shares, by = {};
      pick(c, p).forEach(function (i) {
        const n = D.dims.network[c.network[i]];
        const g = by[n] || (by[n] = { posts: 0, interactions: 0, impressions: 0 });
        if (authorType(c, i) === 'employee') g.posts += c.shares[i];
        g.interactions += c.interactions[i]; g.impressions += c.impressions[i];
      });
      let best = network || '';
      if (!network) Object.keys(by).sort().forEach(function (n) { if (!best || by[n].posts > by[best].posts) best = n; });
      const g = by[best];
      if (!g) return { number: null, kind: 'count', value: network ? best : '–', hint: 'no posts' };
      return { number: g.posts, kind: 'count', value: best, same: best,
               hint: fmtNum(g.posts) + ' employee posts, engagement ' + fmtPct(ratio(g.interactions, g.impressions)) };
    },
    // The period's last audited month: audits count whole companies' posts, so the other
    // filters do not apply (KPI_FILTERS).
    share_of_voice: function (p) {
      const v = D.voice;
      let row = -1;
      v.month.forEach(function (m, i) { if (!p || m <= p[1]) row = i; });
      if (row < 0) return { number: null, kind: 'share', value: '–', hint: 'no audit in this period' };
      const x = v.share_of_voice_engagement[row];
      return { number: x, kind: 'share', value: fmtPct(x, 0),
               hint: 'of engagement, ' + fmtPct(v.share_of_voice_posts[row], 0) + ' of posts, among ' +
                     fmtNum(v.companies_audited[row]) + ' companies audited' };
    },
    // Running goals (on track or behind) among the goals of the filters (goalsIn), and how many
    // of them are on track.
    goals: function (p) {
      const t = D.goals, at = columnsOf(t), running = goalsIn(p).filter(function (r) {
        return r[at.status] === 'on_track' || r[at.status] === 'behind';
      });
      const on = running.filter(function (r) { return r[at.status] === 'on_track'; }).length;
      // ``alone``: an earlier period's goals are over, never running: nothing to compare with.
      return { number: on, kind: 'count', value: on + ' of ' + running.length,
               hint: 'running goals whose forecast reaches the target', alone: 'goals are measured against their targets' };
    },
    // Earned media value of the filters' employee shares (the months of mart_program_value when
    // only a period is set; the value cells of mart_share_value otherwise).
    emv: function (p) {
      const v = valueByMonth(p), cur = D.value_months.currency;
      const x = total(v.emv);
      return { number: x, kind: 'count', value: fmtMoney(x, cur), hint: 'what the reach would have cost as paid media' };
    },
    // ROI needs the program's cost, which only the months split: it follows the period (KPI_FILTERS).
    roi: function (p) {
      const rows = valueMonths(p), cur = D.value_months.currency;
      const emv = total(rows.map(function (r) { return r.emv; })), won = total(rows.map(function (r) { return r.won_revenue; }));
      const cost = total(rows.map(function (r) { return r.cost; }));
      const known = emv != null && won != null && cost;
      const x = known ? (won + emv - cost) / cost : null;
      const rev = won != null && cost ? (won - cost) / cost : null;
      return { number: x, kind: 'share', value: fmtSigned(x),
               hint: 'revenue only: ' + fmtSigned(rev) + '; cost ' + fmtMoney(cost, cur) };
    },
  };
  // tile id -> the filters it follows, when not all of them
  const KPI_FILTERS = { share_of_voice: ['period'], roi: ['period'], goals: ['period', 'department', 'network'] };
  const KPI_NEEDS = { won_revenue: 'deals', colleague_share: 'engagements', activation: 'adoption', share_of_voice: 'voice',
                      goals: 'goals', emv: 'value_months', roi: 'value_months' };
  function total(values) {   // Σ, unknown (null) as soon as one term is: a total is never short
    let s = 0;
    for (const v of values) { if (v == null) return null; s += v; }
    return s;
  }
  function fmtSigned(x) { return x == null ? '–' : (x < 0 ? '-' : '+') + Math.abs(100 * x).toFixed(0) + '%'; }
  function segmented() { return !!(filter.department || filter.network || filter.campaign); }

  // ---- program health and value under the filters ---------------------------------------------
  // The goals the filters reach: those whose period meets the chosen one, scoped to the chosen
  // department (the pool: a department not named) and network; in the mart's order.
  function goalsIn(p, anyScope) {
    const t = D.goals, at = columnsOf(t), named = D.department_options || [];
    const from = p ? p[0] + '-01' : '', to = p ? addMonths(p[1], 1) + '-01' : '';
    return t.rows.filter(function (r) {
      if (p && !(r[at.period_start] < to && r[at.period_end] > from)) return false;
      if (anyScope) return true;
      const dep = r[at.department];
      if (filter.department === D.other_departments) { if (dep == null || named.includes(dep)) return false; }
      else if (filter.department && dep !== filter.department) return false;
      return !filter.network || r[at.network] === filter.network;
    });
  }
  // Each employee's first month with a share, on any network, of any campaign (new sharers).
  let firstMonths = null;
  function firstShareMonths() {
    if (firstMonths) return firstMonths;
    const c = D.shares, out = {};
    for (let i = 0; i < c.day.length; i++) {
      if (authorType(c, i) !== 'employee') continue;
      const m = monthOf(c.day[i]);
      c.authors[i].forEach(function (k) { if (!out[k] || m < out[k]) out[k] = m; });
    }
    return (firstMonths = out);
  }
  function goalScopeNote(p) {   // the goals of the period a department or network leaves out
    const n = goalsIn(p, true).length - goalsIn(p).length;
    if (!n || !(filter.department || filter.network)) return '';
    return n + ' goal(s) of ' + (p ? 'this period' : 'the publication') + ' are set for the whole company or another scope, not for ' +
      [filter.department && 'department ' + filter.department, filter.network && 'network ' + filter.network].filter(Boolean).join(' and ') +
      ', and are not shown.';
  }
  // The adoption rows of the period for the department (mart_program_adoption). With a network
  // or campaign, who shared comes from the share cells (the roster is the department's whole,
  // and "new" means a first share ever); a suppressed group stays without figures.
  function adoptionRows(p, dep) {   // dep: a department, '' for the row of all of them
    const a = D.adoption, out = [];
    const fromCells = !!(filter.network || filter.campaign), firsts = fromCells ? firstShareMonths() : null;
    const sharers = {};   // month -> the employees who shared then, in one pass over the cells
    if (fromCells) {
      pick(D.shares, p, true, dep).forEach(function (j) {
        if (authorType(D.shares, j) !== 'employee') return;
        const set = sharers[monthOf(D.shares.day[j])] || (sharers[monthOf(D.shares.day[j])] = new Set());
        D.shares.authors[j].forEach(function (k) { set.add(k); });
      });
    }
    a.month.forEach(function (m, i) {
      if (a.department[i] !== dep || (p && (m < p[0] || m > p[1]))) return;
      const row = { month: m, enrolled: a.enrolled_employees[i], active: a.active_sharers[i], fresh: a.new_sharers[i],
                    returning: a.returning_sharers[i], rate: a.activation_rate[i], hours: a.median_hours_to_first_share[i] };
      if (fromCells && row.enrolled != null && dep && !D.dims.department.includes(dep)) {
        // Named on the roster but pooled in the cells (too few sharers): not countable here.
        Object.assign(row, { active: null, fresh: null, returning: null, rate: null });
      } else if (fromCells && row.enrolled != null) {
        const authors = sharers[m] || new Set();
        let fresh = 0;
        authors.forEach(function (k) { if (firsts[k] === m) fresh++; });
        Object.assign(row, { active: authors.size, fresh: fresh, returning: authors.size - fresh, rate: ratio(authors.size, row.enrolled) });
      }
      out.push(row);
    });
    return out;
  }
  function adoptionNote(rows) {
    const parts = [], dep = filter.department;
    if (dep === D.other_departments) {
      parts.push(dep + ' pools the departments too small to name: mart_program_adoption has no roster for them.');
    }
    const hidden = rows.filter(function (r) { return r.enrolled == null; }).length;
    if (hidden) parts.push(hidden + ' month(s) with fewer than ' + D.min_group + ' employees on the roster are suppressed (min_group_size).');
    if (filter.network || filter.campaign) {
      parts.push('The roster is the whole ' + (dep ? 'department' : 'company') + ' (no one is enrolled per network or campaign); ' +
                 'sharers are those who shared ' + [filter.network && 'on ' + filter.network, filter.campaign && 'in ' + filter.campaign]
                   .filter(Boolean).join(' ') + ', new ones shared for the first time ever that month.');
    }
    return parts.join(' ');
  }
  // The value section's months (mart_program_value) in the period.
  function valueMonths(p) {
    return D.value_months.rows.filter(function (r) { return !p || (r.month >= p[0] && r.month <= p[1]); });
  }
  // EMV, won revenue and cost by month for the filters. A period alone slices the mart's months;
  // a department, network or campaign takes EMV from the value cells, won revenue from the
  // segment cells (credited to those posts under the section's model, by the month of the post)
  // and keeps the program's cost, which nothing splits.
  function valueByMonth(p) {
    const rows = valueMonths(p);
    function col(k) { return rows.map(function (r) { return r[k]; }); }
    if (!segmented() || !D.value) {
      return { months: col('month'), emv: col('emv'), won: col('won_revenue'), cost: col('cost'), shares: col('shares'), rows: rows };
    }
    const by = {}, cost = {};
    function at(m) { return by[m] || (by[m] = { emv: 0, valued: 0, shares: 0, won: null }); }
    const v = D.value;
    pick(v, p, true).forEach(function (i) {
      const g = at(monthOf(v.day[i]));
      g.emv += v.emv[i]; g.valued += v.valued[i]; g.shares += v.shares[i];
    });
    let hidden = 0;
    if (D.revenue) {
      const r = D.revenue, c = r.cells, model = r.models.indexOf(D.value_months.model), page = D.dims.author_type.indexOf('page');
      pick(c, p, true).forEach(function (i) {
        if (c.model[i] !== model || c.author_type[i] === page) return;
        if (c.suppressed[i]) { hidden++; return; }
        if (c.won_revenue[i] == null) return;
        const g = at(monthOf(c.day[i]));
        g.won = (g.won || 0) + c.won_revenue[i];
      });
    }
    rows.forEach(function (r) { cost[r.month] = r.cost; });
    const months = Array.from(new Set(Object.keys(by).concat(Object.keys(cost)))).sort();
    return {
      months: months, hidden: hidden,
      emv: months.map(function (m) { const g = by[m]; return !g ? 0 : g.valued ? g.emv : g.shares ? null : 0; }),
      won: months.map(function (m) { return by[m] && by[m].won != null ? by[m].won : 0; }),
      cost: months.map(function (m) { return m in cost ? cost[m] : 0; }),
      shares: months.map(function (m) { return by[m] ? by[m].shares : 0; }),
      unvalued: months.reduce(function (n, m) { return n + (by[m] ? by[m].shares - by[m].valued : 0); }, 0),
      rows: rows,
    };
  }
  function valueNote(v) {
    if (!segmented() || !D.value) return null;
    const label = D.value_months.label, parts = [
      'EMV: the employee posts of ' + describe() + '. Won revenue: credited to those posts under ' + label +
      ', by the month of the post (mart_attribution_segments cuts revenue by the post, not by the win). ' +
      'Cost: the whole program\'s, which no department, network or campaign splits.'];
    if (v.unvalued) parts.push(v.unvalued.toLocaleString('en-US') + ' of these shares have no EMV: no media rate for their network at posting.');
    if (v.hidden) parts.push('Credit of departments under ' + D.min_group + ' credited employees is suppressed (min_group_size) and not shown.');
    return parts.join(' ');
  }
  function change(now, before, kind) {
    if (now == null || before == null) return null;
    if (kind === 'share') { const pp = 100 * (now - before); return (pp >= 0 ? '+' : '−') + Math.abs(pp).toFixed(1) + ' pts'; }
    if (!before) return now ? 'up from 0' : 'no change';
    const r = now / before - 1;
    return (r >= 0 ? '▲ ' : '▼ ') + Math.abs(100 * r).toFixed(0) + '%';
  }

  // ---- chart views: id -> function() -> {meta key -> trace fields} ---------------------------
  // What a chart leaves out, said on the chart: posts lacking the figure it draws.
  function leftOut(p, lacking, what) {
    const t = shareTotals(pick(D.shares, p)), all = get(t, '|employee').shares + get(t, '|page').shares;
    const n = lacking(get(t, '|employee')) + lacking(get(t, '|page'));
    return n ? n.toLocaleString('en-US') + ' of ' + all.toLocaleString('en-US') + ' posts ' + what : '';
  }
  function noRatio(g) { return g.shares - g.ratios.length; }
  const NO_RATIO = 'have no reach ratio (no network size or no members reached) and are not in the medians.';
  function monthly(p) {
    const t = shareTotals(pick(D.shares, p), monthOf);
    const ms = Array.from(new Set(Object.keys(t).map(function (k) { return k.split('|')[0]; }))).sort();
    return { t: t, ms: ms, x: ms.map(function (m) { return m + '-01'; }) };
  }
  const views = {
    'chart-reach-month': function (p) {
      const m = monthly(p);
      const e = m.ms.map(function (k) { return quantile(get(m.t, k + '|employee').ratios, 0.5); });
      const g = m.ms.map(function (k) { return quantile(get(m.t, k + '|page').ratios, 0.5); });
      return {
        employee: { x: m.x, y: e }, page: { x: m.x, y: g },
        multiplier: { x: m.x, y: e.map(function (v, i) { return v != null && g[i] ? v / g[i] : null; }) },
        note: leftOut(p, noRatio, NO_RATIO),
      };
    },
    'chart-reach-volume': function (p) {
      const m = monthly(p);
      function col(type, k) {   // null for a month without posts of that type, as in the mart
        return m.ms.map(function (x) { const g = m.t[x + '|' + type]; return g ? g[k] : null; });
      }
      return { employee: { x: m.x, y: col('employee', 'members_reached') },
               page: { x: m.x, y: col('page', 'members_reached') },
               potential: { x: m.x, y: col('employee', 'potential_reach') },
               note: leftOut(p, function (g) { return g.shares - g.reached_shares; },
                             'have no members reached (no unique impressions) and add nothing to the bars.') };
    },
    'chart-reach-spread': function (p) {
      const t = shareTotals(pick(D.shares, p)), out = { note: leftOut(p, noRatio, NO_RATIO) };
      ['employee', 'page'].forEach(function (type) {
        const r = get(t, '|' + type).ratios;
        out[type] = r.length ? {
          q1: [quantile(r, 0.25)], median: [quantile(r, 0.5)], q3: [quantile(r, 0.75)],
          lowerfence: [quantile(r, 0.05)], upperfence: [quantile(r, 0.95)], mean: [sum(r) / r.length],
          y: [type], hovertemplate: r.length.toLocaleString('en-US') + ' shares<extra></extra>',
        } : { q1: [], median: [], q3: [], lowerfence: [], upperfence: [], mean: [], y: [] };
      });
      return out;
    },
    'chart-engagement-week': function (p) {
      const t = shareTotals(pick(D.shares, p), weekOf);
      const out = { note: leftOut(p, function (g) { return g.shares - g.measured_shares; },
                                  'have no metrics snapshot (no impressions) and are not in the rates.') };
      const ws = Array.from(new Set(Object.keys(t).map(function (k) { return k.split('|')[0]; }))).sort();
      ['employee', 'page'].forEach(function (type) {
        const w = ws.filter(function (k) { return t[k + '|' + type]; }), g = w.map(function (k) { return t[k + '|' + type]; });
        const er = g.map(function (x) { return ratio(x.interactions, x.impressions); });
        const ctr = g.map(function (x) { return ratio(x.clicks, x.impressions); });
        out[type + ':engagement_rate'] = { x: w, y: er, customdata: g.map(function (x, i) { return [x.shares, ctr[i]]; }) };
        out[type + ':ctr'] = { x: w, y: ctr };
      });
      return out;
    },
    'chart-bubble-week': function (p) {
      const t = engagementTotals(pick(D.engagements, p), weekOf), ws = Object.keys(t).sort();
      const g = ws.map(function (w) { return t[w]; });
      const rolling = ws.map(function (w, i) {   // the 4 weeks ending with this one: ratio of sums
        let c = 0, k = 0;
        for (let j = i; j >= 0 && (Date.parse(w) - Date.parse(ws[j])) <= 21 * DAY; j--) { c += g[j].colleague; k += g[j].known; }
        return ratio(c, k);
      });
      return { outside: { x: ws, y: g.map(function (x) { return x.engagements - x.colleague; }) },
               colleague: { x: ws, y: g.map(function (x) { return x.colleague; }) },
               share: { x: ws, y: g.map(function (x) { return ratio(x.colleague, x.known); }) },
               share_4w: { x: ws, y: rolling } };
    },
    'chart-cadence': function (p) {
      const c = D.cadence, idx = pick(c, p), out = {}, min = D.min_group;
      let suppressed = 0;
      [['gap', 'gap_order'], ['day', 'day_posts']].forEach(function (dim) {
        const groups = {};
        idx.forEach(function (i) {
          const k = c[dim[1]][i], g = groups[k] || (groups[k] = { ratios: [], authors: new Set() });
          g.ratios.push(c.reach_ratios[i]);
          c.authors[i].forEach(function (a) { g.authors.add(a); });
        });
        const keys = Object.keys(groups).map(Number).sort(function (a, b) { return a - b; });
        const rows = keys.map(function (k) {
          const g = groups[k], r = sorted(g.ratios), hidden = g.authors.size < min;
          if (hidden) suppressed++;
          return { label: D.cadence_labels[dim[0]][k] || String(k), posts: r.length, hidden: hidden,
                   median: hidden ? null : quantile(r, 0.5), p25: hidden ? null : quantile(r, 0.25),
                   p75: hidden ? null : quantile(r, 0.75) };
        });
        out[dim[0]] = {
          x: rows.map(function (r) { return r.label; }),
          y: rows.map(function (r) { return r.median; }),
          text: rows.map(function (r) { return r.hidden ? 'suppressed' : r.posts.toLocaleString('en-US') + ' posts'; }),
          'marker.color': rows.map(function (r) { return r.hidden ? '#94a3b8' : '#0f766e'; }),
          'error_y.array': rows.map(function (r) { return r.hidden ? null : r.p75 - r.median; }),
          'error_y.arrayminus': rows.map(function (r) { return r.hidden ? null : r.median - r.p25; }),
        };
      });
      out.note = suppressed ? suppressed + ' bucket(s) with fewer than ' + min +
        ' employees are suppressed (min_group_size).' : '';
      return out;
    },
    'chart-overlap-content': function (p) {
      const t = D.overlap, at = columnsOf(t), want = filter.campaign;
      // A period, department or network picks the items their employees shared (the per-item
      // cells); the figures stay the item's own: a union of audiences does not split.
      const narrow = !!(p || filter.department || filter.network), c = D.content_cells;
      let items = null;
      if (narrow && c) {
        items = new Set();
        pick(c, p, true).forEach(function (i) { if (authorType(c, i) === 'employee') items.add(c.ids[c.item[i]]); });
      }
      const rows = t.rows.filter(function (r) { return (!want || r[at.campaign] === want) && (!items || items.has(r[at.content_id])); })
        .slice(0, D.top_overlap).reverse();   // ranked in SQL; largest at the top of the bars
      const y = rows.map(function (r) { return clip(r[at.content]); });
      const custom = rows.map(function (r) { return [r[at.sharers], r[at.overlap_ratio], r[at.audience_sum]]; });
      const who = [filter.department && 'by employees of ' + filter.department, filter.network && 'on ' + filter.network,
                   p && 'in ' + periodText(p)].filter(Boolean).join(' ');
      return {
        note: !narrow ? '' : !c ? 'Not narrowed to ' + who + ': this publication has no per-item cells (mart_reach_by_content).'
          : 'Items shared ' + who + ' (and by two or more employees in all). Each item\'s bars count all its sharers over the whole log, every ' +
            'department and network: mart_bubble_overlap holds one union of audiences per item, and unions do not split ' +
            'by month, department or network.',
        union: { y: y, x: rows.map(function (r) { return r[at.audience_union]; }), customdata: custom },
        duplicated: { y: y, x: rows.map(function (r) { return r[at.duplicated_reach]; }), customdata: custom,
                      text: rows.map(function (r) { return r[at.overlap_ratio] == null ? '' : fmtPct(r[at.overlap_ratio], 0); }) },
      };
    },
    'chart-revenue-content': function (p) {
      const r = D.revenue, c = r.cells, best = {}, value = {};
      let hidden = 0;
      pick(c, p, true).forEach(function (i) {
        if (c.suppressed[i]) { hidden++; return; }
        const v = c.won_revenue[i];
        if (v == null) return;
        const key = c.content[i] + '|' + r.models[c.model[i]];
        value[key] = (value[key] || 0) + v;
      });
      Object.keys(value).forEach(function (key) {
        const g = +key.split('|')[0];
        best[g] = Math.max(best[g] == null ? -Infinity : best[g], value[key]);
      });
      // As REVENUE_BY_CONTENT_SEGMENTS: items with credit, the most under any model first, then by id.
      const ids = r.contents;
      const groups = Object.keys(best).map(Number).filter(function (g) { return best[g] > 0; })
        .sort(function (a, b) { return best[b] - best[a] || (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0); })
        .slice(0, D.top_content).reverse();
      const out = {}, y = groups.map(function (g) { return clip(r.labels[g]); });
      D.models.forEach(function (m) {
        out[m] = { y: y, x: groups.map(function (g) { const v = value[g + '|' + m]; return v == null ? null : v; }) };
      });
      const note = active().length ? revenueNote(p, hidden) : '';
      if (note) out.note = note;   // else the note Python wrote (currencies, suppression) stays
      return out;
    },
    'chart-revenue-department': function (p) {
      const r = D.revenue, c = r.cells, value = {}, shown = [], suppressed = new Set();
      pick(c, p, true).forEach(function (i) {
        const dep = c.author_type[i] === D.dims.author_type.indexOf('page') ? D.page_label : D.dims.department[c.department[i]];
        if (c.suppressed[i]) { suppressed.add(dep); return; }
        const v = c.won_revenue[i];
        if (v == null) return;
        const key = dep + '|' + r.models[c.model[i]];
        value[key] = (value[key] || 0) + v;
        if (!shown.includes(dep)) shown.push(dep);
      });
      shown.sort();   // as the SQL: department order
      const groups = shown.slice().reverse(), out = {};
      D.models.forEach(function (m) {
        out[m] = { y: groups.map(function (g) { return clip(g); }),
                   x: groups.map(function (g) { const v = value[g + '|' + m]; return v == null ? null : v; }) };
      });
      const note = active().length ? revenueNote(p, suppressed.size, Array.from(suppressed).sort()) : '';
      if (note) out.note = note;
      return out;
    },
    'chart-deal-paths': function (p) {
      const d = D.deals, t = d.touches, top = dealsIn(p).list.slice(0, D.top_deals), rank = {};
      top.forEach(function (i, k) { rank[i] = k + 1; });
      function label(i) { return '#' + rank[i] + ' ' + d.deal_id[i] + ' · ' + d.status[i]; }
      const spans = { x: [], y: [] }, touches = { x: [], y: [], customdata: [], 'marker.size': [] };
      top.forEach(function (i) {
        const ends = [d.first_touch_at[i], d.created_at[i], d.closed_at[i], d.last_touch_at[i]].filter(Boolean).sort();
        spans.x.push(ends[0], ends[ends.length - 1], null); spans.y.push(label(i), label(i), null);
      });
      const mine = [];
      for (let j = 0; j < t.deal.length; j++) if (t.deal[j] in rank) mine.push(j);
      mine.sort(function (a, b) { return rank[t.deal[a]] - rank[t.deal[b]] || t.touch_number[a] - t.touch_number[b]; });
      mine.forEach(function (j) {
        const credit = t.credit[j][t.models.indexOf('linear')] || 0;
        touches.x.push(t.touch_at[j]); touches.y.push(label(t.deal[j]));
        touches.customdata.push([t.touch_number[j], clip(t.content[j], 60), t.author_id[j] || '', credit]);
        touches['marker.size'].push(8 + 22 * credit);
      });
      const created = top.filter(function (i) { return d.created_at[i]; });
      const closed = top.filter(function (i) { return d.closed_at[i]; });
      const colors = { won: '#15803d', open: '#2563eb', lost: '#9f1239' };
      return {
        spans: spans, touches: touches,
        created: { x: created.map(function (i) { return d.created_at[i]; }), y: created.map(label) },
        closed: { x: closed.map(function (i) { return d.closed_at[i]; }), y: closed.map(label),
                  customdata: closed.map(function (i) { return [d.status[i], d.deal_amount[i] || 0, d.deal_currency[i]]; }),
                  'marker.color': closed.map(function (i) { return colors[d.status[i]] || '#94a3b8'; }) },
      };
    },
    'chart-adoption-month': function (p) {
      const rows = adoptionRows(p, filter.department || ''), x = rows.map(function (r) { return r.month + '-01'; });
      function col(k) { return rows.map(function (r) { return r.enrolled == null ? null : r[k]; }); }
      return { returning: { x: x, y: col('returning') }, new: { x: x, y: col('fresh') }, rate: { x: x, y: col('rate') },
               note: adoptionNote(rows) };
    },
    'chart-network-month': function (p) {   // employee posts per month and network (mart_network_monthly)
      const c = D.shares, by = {}, out = {};
      pick(c, p).forEach(function (i) {   // every post: a month with page posts only has a 0, as in the mart
        const n = D.dims.network[c.network[i]], m = monthOf(c.day[i]), g = by[n] || (by[n] = {});
        g[m] = (g[m] || 0) + (authorType(c, i) === 'employee' ? c.shares[i] : 0);
      });
      D.dims.network.forEach(function (n) {
        const ms = Object.keys(by[n] || {}).sort();
        out[n] = { x: ms.map(function (m) { return m + '-01'; }), y: ms.map(function (m) { return by[n][m]; }) };
      });
      return out;
    },
    'chart-goals': function (p) {
      const t = D.goals, at = columnsOf(t), picked = goalsIn(p);
      const shown = picked.filter(function (r) { return !r[at.is_suppressed]; }).slice(0, 20);
      const y = shown.map(function (r) { return r[at.title]; }), hidden = picked.length - picked.filter(function (r) { return !r[at.is_suppressed]; }).length;
      return { actual: { y: y, x: shown.map(function (r) { return r[at.pct_of_target]; }) },
               forecast: { y: y, x: shown.map(function (r) { return r[at.forecast_pct_of_target]; }) },
               note: [hidden ? hidden + ' goal(s) scoped to a department under ' + D.min_group + ' employees show no figures (min_group_size).' : '',
                      goalScopeNote(p)].filter(Boolean).join(' ') };
    },
    'chart-share-of-voice': function (p) {
      const t = D.voice_companies, at = columnsOf(t), out = {};
      t.rows.forEach(function (r) {
        const m = r[at.month];
        if (p && (m < p[0] || m > p[1])) return;
        const g = out[r[at.company]] || (out[r[at.company]] = { x: [], y: [] });
        g.x.push(m + '-01'); g.y.push(r[at.share_of_voice_engagement]);
      });
      Array.from(new Set(t.rows.map(function (r) { return r[at.company]; }))).forEach(function (k) { out[k] = out[k] || { x: [], y: [] }; });
      return out;
    },
    'chart-value-monthly': function (p) {
      const v = valueByMonth(p), out = { emv: { x: v.months, y: v.emv }, won_revenue: { x: v.months, y: v.won },
                                         cost: { x: v.months, y: v.cost } };
      const note = valueNote(v);
      if (note != null) out.note = note;   // else the note Python wrote stays
      return out;
    },
    'chart-funnel': function (p) {
      const f = D.funnel, d = dealsIn(p);
      let clicks = 0, leads = 0;
      pick(f, p, true).forEach(function (i) { clicks += f.human_clicks[i]; leads += f.leads[i]; });
      const out = { funnel: { x: [clicks, leads, d.touched, d.won] } };
      if (active().length) {
        const cur = D.currency;
        out.note = 'Won revenue of the deals these posts touched: ' + fmtMoney((d.revenue[cur] || 0), cur) + '.';
      }
      return out;
    },
  };
  // What a filtered attribution chart leaves out, said on it: suppressed pools, and a department
  // whose credit is pooled because too few of its employees touched deals.
  function revenueNote(p, hidden, names) {   // '' when there is nothing to say
    const parts = [];
    if (hidden) {
      parts.push('Suppressed (fewer than ' + D.min_group + ' credited employees, min_group_size)' +
                 (names && names.length ? ': ' + names.join(', ') : '') + '; their credit is not shown.');
    }
    const dep = filter.department, named = D.revenue.cells.department;
    const pooled = (D.department_options || []).filter(function (x) {
      return x !== D.other_departments && !named.includes(D.dims.department.indexOf(x));
    });
    if (dep && pooled.includes(dep)) {
      parts.push(dep + ' touched deals through fewer than ' + D.min_group + ' employees: its credit is counted in ' +
                 D.other_departments + ' (pick that department to see it).');
    } else if (dep === D.other_departments && pooled.length) {
      parts.push('Its credit includes ' + pooled.join(', ') + ' (each touched deals through fewer than ' + D.min_group +
                 ' employees); the funnel and deals count their posts under their own names.');
    }
    return parts.join(' ');
  }
  const VIEW_NEEDS = { 'chart-adoption-month': ['adoption'], 'chart-network-month': [], 'chart-goals': ['goals'],
                       'chart-share-of-voice': ['voice_companies'], 'chart-value-monthly': ['value_months'],
                       'chart-funnel': ['funnel', 'deals'], 'chart-bubble-week': ['engagements'], 'chart-cadence': ['cadence'],
                       'chart-overlap-content': ['overlap'], 'chart-revenue-content': ['revenue', 'models'],
                       'chart-revenue-department': ['revenue', 'models'], 'chart-deal-paths': ['deals', 'top_deals'] };

  // ---- drawing --------------------------------------------------------------------------------
  function figure(id, p) {
    const spec = JSON.parse(JSON.stringify(base[id]));
    const series = views[id](p);
    let points = 0;
    const left = document.getElementById(id).closest('.card').querySelector('.left-out');
    if (left) {   // the view's note, or the one Python wrote when the view has none for these filters
      if (left.dataset.base === undefined) left.dataset.base = left.innerHTML;
      if ('note' in series) left.textContent = series.note; else left.innerHTML = left.dataset.base;
    }
    state.view.series[id] = series;
    spec.data.forEach(function (trace) {
      if (!trace.meta || !(trace.meta in series) || trace.meta === 'note') return;
      Object.entries(series[trace.meta]).forEach(function (kv) {   // 'a.b' sets trace.a.b
        const path = kv[0].split('.'); let at = trace;
        path.slice(0, -1).forEach(function (k) { at = at[k] = at[k] || {}; });
        at[path[path.length - 1]] = kv[1];
      });
      points += (trace.x || trace.y || []).length;
    });
    spec.layout.annotations = (spec.layout.annotations || []).filter(function (a) { return a.name !== 'empty'; });
    if (!points) {
      spec.layout.annotations.push({ name: 'empty', text: 'Nothing matches these filters', showarrow: false,
        xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: { size: 15, color: '#64748b' } });
    }
    return spec;
  }
  function summary(el) {   // what a chart shows, for the tests: values drawn and their sum
    let n = 0, total = 0;
    (el.data || []).forEach(function (t) {
      const vals = t.type === 'box' ? t.median : (t.type === 'funnel' || t.orientation === 'h' ? t.x : t.y);
      (vals || []).forEach(function (v) { if (typeof v === 'number' && isFinite(v)) { n++; total += v; } });
    });
    return { values: n, sum: total };
  }
  function viewable(id) {
    return D && views[id] && D.shares && (VIEW_NEEDS[id] || []).every(function (k) { return D[k]; });
  }

  function render() {
    state.done = false;
    const p = period(), prev = previous(p), on = active(), jobs = [];
    const view = state.view = { filters: Object.assign({}, filter), active: on, kpis: {}, charts: {}, notes: {}, series: {} };
    document.querySelectorAll('[data-kpi]').forEach(function (tile) {
      const id = tile.dataset.kpi, fn = kpis[id];
      const usable = D && D.shares && fn && !(KPI_NEEDS[id] && !D[KPI_NEEDS[id]]);
      const applies = usable ? (KPI_FILTERS[id] || FILTERS) : [];
      const ignored = on.filter(function (f) { return !applies.includes(f); });
      tile.querySelector('.x').textContent = ignored.length ? 'not filtered by ' + ignored.join(', ') : '';
      const x = tile.querySelector('.x').textContent;
      if (!usable) { view.kpis[id || tile.querySelector('.l').textContent] = { value: tile.querySelector('.v').textContent, note: x }; return; }
      const now = fn(p), before = prev && !now.alone ? fn(prev, now.same) : null;   // ``same``: compare that item
      const delta = before ? change(now.number, before.number, now.kind) : null;
      tile.querySelector('.v').textContent = now.value;
      tile.querySelector('.h').textContent = now.hint;
      const d = tile.querySelector('.d');
      d.textContent = delta ? delta + ' vs ' + periodText(prev) : !p ? '' : now.alone ? now.alone
        : prev ? 'no figure for ' + periodText(prev) : 'no earlier period of the same length to compare with';
      d.className = 'd' + (delta && delta[0] === '▼' ? ' down' : delta && delta[0] === '▲' ? ' up' : '');
      view.kpis[id] = { value: now.value, hint: now.hint, change: d.textContent, note: x };
    });
    charts.forEach(function (el) {
      if (!base[el.id]) return;
      const card = el.closest('.card'), note = card && card.querySelector('.filters-note');
      const applies = viewable(el.id) ? (el.dataset.filters || '').split(' ').filter(Boolean) : [];
      const ignored = on.filter(function (f) { return !applies.includes(f); });
      if (note) {
        note.textContent = ignored.length ? 'Not filtered by ' + ignored.join(', ') + ': ' +
          (el.dataset.unfiltered || 'this chart shows the whole publication') + '.' : '';
        view.notes[el.id] = note.textContent;
      }
      if (!applies.length && state.renders > 0) return;   // static: drawn once
      const spec = applies.length ? figure(el.id, p) : base[el.id];
      jobs.push(Plotly.react(el, spec.data, spec.layout, config).then(function () {
        if (state.renders === 0) state.drawn++;
        view.charts[el.id] = summary(el);
      }));
    });
    renderTables();
    renderSectionTables(p);
    renderSharePlan(p);
    renderDeals(p);
    const bar = document.getElementById('filter-status');
    if (bar) bar.textContent = on.length ? 'Filtered: ' + describe() + '.' : 'Showing everything in this publication.';
    return Promise.all(jobs).catch(function (e) { state.errors.push(String(e)); console.error(e); })
      .finally(function () {
        charts.forEach(function (el) { if (!view.charts[el.id]) view.charts[el.id] = summary(el); });
        state.renders++; state.done = true;
      });
  }
  function describe() {
    const parts = [];
    const p = period();
    if (p) parts.push(periodText(p));
    ['department', 'network', 'campaign'].forEach(function (k) { if (filter[k]) parts.push(k + ' ' + filter[k]); });
    return parts.join(' · ');
  }

  // ---- the top deals' table: the deals of the paths chart, each model's best touch ------------
  function renderDeals(p) {
    const table = document.querySelector('[data-deals-table]');
    if (!table || !D || !D.deals || !D.top_deals) return;
    const d = D.deals, t = d.touches, top = dealsIn(p).list.slice(0, D.top_deals);
    function esc(x) { const span = document.createElement('span'); span.textContent = x == null ? '' : String(x); return span.innerHTML; }
    const rows = top.map(function (i, k) {
      const mine = [];
      for (let j = 0; j < t.deal.length; j++) if (t.deal[j] === i) mine.push(j);
      mine.sort(function (a, b) { return t.touch_number[a] - t.touch_number[b]; });
      const path = mine.map(function (j) { return '<b>' + esc(clip(t.content[j], 40)) + '</b> (' + esc(t.author_id[j] || '') + ')'; }).join(' → ');
      const cells = D.models.map(function (m) {
        const k = t.models.indexOf(m);
        let best = null;
        mine.forEach(function (j) {
          const c = t.credit[j][k];
          if (c == null) return;
          if (best == null || c > t.credit[best][k]) best = j;   // ties: the earlier touch
        });
        return best == null ? '–' : '#' + t.touch_number[best] + ' · ' + Math.round(100 * t.credit[best][k]) + '%';
      });
      const status = esc(d.status[i]);
      return '<tr><td class="num">' + (k + 1) + '</td><td><code>' + esc(d.deal_id[i]) + '</code></td>' +
        '<td><span class="pill ' + status + '">' + status + '</span></td>' +
        '<td class="num">' + fmtMoney(d.deal_amount[i], d.deal_currency[i]) + '</td><td class="path">' + path + '</td>' +
        cells.map(function (c) { return '<td class="num">' + c + '</td>'; }).join('') + '</tr>';
    });
    table.querySelector('tbody').innerHTML = rows.join('');
    const lede = table.parentNode.querySelector('.deals-filter');
    if (lede) lede.textContent = active().length ? 'Deals touched by posts of ' + describe() + ': ' + top.length + ' shown.' : '';
    state.view.deals = top.map(function (i) { return d.deal_id[i]; });
  }

  // ---- sortable tables --------------------------------------------------------------------------
  const tables = {};
  function add(a, b) { return b == null ? a : a == null ? b : a + b; }   // null + null stays null, as SQL's sum
  // The rows of a per-item table for the current filters, in the mart's columns and definitions
  // (mart_reach_by_employee, mart_reach_by_content): the filtered posts only, so with a department
  // picked the content table counts that department's posts (page posts belong to none).
  function itemGroups(cells, p, fresh, fold) {
    const groups = {};
    pick(cells, p, true).forEach(function (i) {
      const k = cells.item[i];
      fold(groups[k] || (groups[k] = fresh()), i);
    });
    return groups;
  }
  function martRow(t, at, id, column) {   // the mart's row of an item, by its id column
    const index = t.index || (t.index = {});
    if (!index[column]) { index[column] = {}; t.rows.forEach(function (r) { index[column][r[at[column]]] = r; }); }
    return index[column][id] || [];
  }
  const ITEM_ROWS = {
    employees: function (t, at, c, p) {
      const groups = itemGroups(c, p, function () {
        return { shares: 0, contents: new Set(), potential_reach: null, members_reached: null, ratios: [],
                 interactions: null, rates: [], latest: '' };
      }, function (g, i) {
        g.shares += c.shares[i];
        c.contents[i].forEach(function (x) { g.contents.add(x); });
        g.potential_reach = add(g.potential_reach, c.potential_reach[i]);
        g.members_reached = add(g.members_reached, c.members_reached[i]);
        g.interactions = add(g.interactions, c.interactions[i]);
        g.ratios.push(c.reach_ratios[i]); g.rates.push(c.engagement_rates[i]);
        if (c.latest_share[i] > g.latest) g.latest = c.latest_share[i];
      });
      return Object.keys(groups).map(function (k) {
        const g = groups[k], id = c.ids[k], mart = martRow(t, at, id, 'employee_id');
        const row = { employee_id: id, department: mart[at.department] == null ? null : mart[at.department],
          shares: g.shares, contents_shared: g.contents.size, potential_reach: g.potential_reach,
          members_reached: g.members_reached, median_reach_ratio: quantile(sorted(g.ratios), 0.5),
          interactions: g.interactions, median_engagement_rate: quantile(sorted(g.rates), 0.5), latest_share: g.latest };
        return t.columns.map(function (col) { return row[col]; });
      });
    },
    contents: function (t, at, c, p) {
      const page = D.dims.author_type.indexOf('page');
      const groups = itemGroups(c, p, function () {
        return { employee_shares: 0, page_shares: 0, authors: new Set(), potential_reach: null, members_reached: null,
                 impressions: null, interactions: null };
      }, function (g, i) {
        if (c.author_type[i] === page) g.page_shares += c.shares[i]; else g.employee_shares += c.shares[i];
        (c.authors[i] || []).forEach(function (a) { g.authors.add(a); });
        ['potential_reach', 'members_reached', 'impressions', 'interactions'].forEach(function (k) { g[k] = add(g[k], c[k][i]); });
      });
      return Object.keys(groups).map(function (k) {
        const g = groups[k], id = c.ids[k], mart = martRow(t, at, id, 'content_id');
        const row = { content_id: id, title: mart[at.title], topic: mart[at.topic], campaign: mart[at.campaign],
          employee_shares: g.employee_shares, page_shares: g.page_shares, sharers: g.authors.size,
          potential_reach: g.potential_reach, members_reached: g.members_reached, impressions: g.impressions,
          interactions: g.interactions, engagement_rate: g.impressions ? g.interactions / g.impressions : null };
        return t.columns.map(function (col) { return row[col] === undefined ? null : row[col]; });
      });
    },
  };
  function renderTables() {
    document.querySelectorAll('[data-table]').forEach(function (box) {
      const key = box.dataset.table, t = D && D[key];
      if (!t) return;
      const spec = tables[key] || (tables[key] = { sort: box.dataset.sort, desc: true });
      const cols = JSON.parse(box.dataset.columns);   // [[column, label, kind], ...]
      const at = columnsOf(t), cells = D[box.dataset.cells], on = active();
      // Filtered, the rows are re-aggregated from the cells; else they are the mart's own rows
      // (or, from a publication without cells, its rows of the one filter the mart has a column for).
      const by = box.dataset.filterColumn, want = !cells && by ? filter[box.dataset.filter] : '';
      let rows = cells && on.length ? ITEM_ROWS[key](t, at, cells, period())
        : t.rows.filter(function (r) { return !want || r[at[by]] === want; });
      const s = at[spec.sort];
      rows = rows.slice().sort(function (a, b) {
        const x = a[s], y = b[s];
        if (x == null && y == null) return 0;
        if (x == null) return 1;
        if (y == null) return -1;
        const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
        return spec.desc ? -c : c;
      });
      const limit = +box.dataset.limit, shown = rows.slice(0, limit);
      function cell(v, kind) {
        if (v == null) return '<td class="num muted">–</td>';
        if (kind === 'pct') return '<td class="num">' + fmtPct(v) + '</td>';
        if (kind === 'num') return '<td class="num">' + fmtNum(v) + '</td>';
        const span = document.createElement('span'); span.textContent = v;
        return '<td' + (kind === 'id' ? ' class="id"' : '') + '>' + span.innerHTML + '</td>';
      }
      const head = cols.map(function (c) {
        const mark = c[0] === spec.sort ? (spec.desc ? ' ▼' : ' ▲') : '';
        return '<th class="' + (c[2] === 'num' || c[2] === 'pct' ? 'num ' : '') + 'sortable" data-col="' + c[0] + '">' + c[1] + mark + '</th>';
      }).join('');
      const body = shown.map(function (r) {
        return '<tr>' + cols.map(function (c) { return cell(r[at[c[0]]], c[2]); }).join('') + '</tr>';
      }).join('');
      box.querySelector('table').innerHTML = '<thead><tr>' + head + '</tr></thead><tbody>' + body + '</tbody>';
      box.querySelector('.count').textContent = (rows.length > shown.length
        ? 'Showing the first ' + shown.length + ' of ' + rows.length + ' rows (sorted by the column you click)'
        : rows.length + ' rows') + (want ? ' with ' + box.dataset.filter + ' ' + want : '') +
        (cells && on.length ? ' for ' + describe() : '') + '.';
      box.querySelectorAll('th.sortable').forEach(function (th) {
        th.onclick = function () {
          if (spec.sort === th.dataset.col) spec.desc = !spec.desc; else { spec.sort = th.dataset.col; spec.desc = true; }
          renderTables();
        };
      });
      state.view.tables = state.view.tables || {};
      state.view.tables[key] = { rows: rows.length, shown: shown.length, first: shown.length ? shown[0][at[spec.sort]] : null,
                                 top: shown.slice(0, 5).map(function (r) { return r; }), columns: t.columns };
    });
  }

  // ---- the sections' own tables: rows re-filled for the filters ------------------------------------
  const STATUS = { achieved: 'achieved', on_track: 'on track', behind: 'behind', missed: 'missed', not_started: 'not started' };
  function hours(x) { return x == null ? '–' : x.toFixed(0) + ' h'; }
  const tableViews = {   // id -> function(period) -> {rows: [[text]], note}
    'adoption-departments': function (p) {
      const a = D.adoption, want = filter.department, out = [];
      const deps = Array.from(new Set(a.department)).filter(function (d) { return d && (!want || d === want); }).sort();
      deps.forEach(function (dep) {
        const rows = adoptionRows(p, dep).filter(function (r) { return r.enrolled != null; });
        if (!rows.length) return;
        const hs = sorted([rows.filter(function (r) { return r.hours != null; }).map(function (r) { return r.hours; })]);
        out.push([dep, fmtNum(sum(rows.map(function (r) { return r.enrolled; }))), fmtNum(total(rows.map(function (r) { return r.active; }))),
                  hours(quantile(hs, 0.5))]);
      });
      const notes = [];
      if (want === D.other_departments) notes.push(want + ' pools the departments too small to name: mart_program_adoption has no roster for them.');
      if (filter.network || filter.campaign) {
        notes.push('Sharing counts who shared on the network / in the campaign each month; the roster and the hours to a first share ' +
                   'are the department\'s whole (mart_program_adoption measures them per department and month, not per network or campaign); ' +
                   '– for a department with too few sharers to be named in the filters\' data.');
      }
      return { rows: out, note: notes.join(' ') };
    },
    networks: function (p) {
      const c = D.shares, by = {};
      pick(c, p).forEach(function (i) {
        const n = D.dims.network[c.network[i]];
        const g = by[n] || (by[n] = { posts: 0, reached: 0, interactions: 0, impressions: 0, engagements: 0, colleague: 0 });
        if (authorType(c, i) === 'employee') { g.posts += c.shares[i]; g.reached += c.members_reached[i]; }
        g.interactions += c.interactions[i]; g.impressions += c.impressions[i];
      });
      if (D.engagements) {
        const e = D.engagements;
        pick(e, p).forEach(function (i) {
          const g = by[D.dims.network[e.network[i]]];
          if (g) { g.engagements += e.engagements[i]; g.colleague += e.colleague_engagements[i]; }
        });
      }
      const rows = Object.keys(by).sort(function (a, b) { return by[b].posts - by[a].posts || (a < b ? -1 : 1); }).map(function (n) {
        const g = by[n];
        return [n, fmtNum(g.posts), fmtNum(g.reached), fmtPct(ratio(g.interactions, g.impressions)),
                D.engagements ? fmtPct(ratio(g.colleague, g.engagements)) : '–'];
      });
      return { rows: rows, note: p ? 'Colleague share: engagements in ' + periodText(p) + ' with the posts of these filters.' : '' };
    },
    goals: function (p) {
      const t = D.goals, at = columnsOf(t);
      function fmt(metric, x) { return x == null ? '–' : metric === 'engagement_rate' ? fmtPct(x, 2) : fmtNum(x); }
      return { rows: goalsIn(p).map(function (r) {
        const metric = r[at.metric];
        return [r[at.title], metric, r[at.department] || r[at.network] || 'company', r[at.period_start] + ' – ' + r[at.period_end],
                fmt(metric, r[at.target]), fmt(metric, r[at.actual]), fmt(metric, r[at.forecast]),
                r[at.status] == null ? 'suppressed' : STATUS[r[at.status]] || ''];
      }), note: goalScopeNote(p) };
    },
    'value-months': function (p) {
      const v = valueByMonth(p), cur = D.value_months.currency, seg = segmented() && D.value, rows = {};
      v.rows.forEach(function (r) { rows[r.month] = r; });
      return { rows: v.months.map(function (m, i) {
        const r = rows[m] || {};
        return [m, fmtNum(v.shares[i]), fmtMoney(v.emv[i], cur), fmtMoney(v.won[i], cur), fmtMoney(v.cost[i], cur),
                seg ? '–' : fmtSigned(r.roi), seg ? '–' : fmtSigned(r.revenue_roi)];
      }), note: seg ? 'As the chart above: EMV and won revenue of these posts, the whole program\'s cost; ROI is left blank, ' +
                      'since no department, network or campaign splits the cost.' : '' };
    },
  };
  const TABLE_NEEDS = { 'adoption-departments': ['adoption'], networks: [], goals: ['goals'], 'value-months': ['value_months'] };
  function renderSectionTables(p) {
    const on = active();
    state.view.sectionTables = {};
    document.querySelectorAll('[data-table-view]').forEach(function (box) {
      const id = box.dataset.tableView, body = box.querySelector('tbody');
      const usable = D && D.shares && tableViews[id] && (TABLE_NEEDS[id] || []).every(function (k) { return D[k]; });
      const applies = usable ? (box.dataset.filters || '').split(' ').filter(Boolean) : [];
      const ignored = on.filter(function (f) { return !applies.includes(f); });
      const note = box.querySelector('.filters-note'), left = box.querySelector('.left-out');
      if (body.dataset.base === undefined) {
        body.dataset.base = body.innerHTML;
        body.dataset.classes = JSON.stringify(Array.from((body.rows[0] || { cells: [] }).cells).map(function (td) { return td.className; }));
      }
      note.textContent = ignored.length ? 'Not filtered by ' + ignored.join(', ') + ': ' +
        (box.dataset.unfiltered || 'this table shows the whole publication') + '.' : '';
      const record = state.view.sectionTables[id] = { note: note.textContent, left: '', rows: null };
      if (!on.some(function (f) { return applies.includes(f); })) { body.innerHTML = body.dataset.base; left.textContent = ''; return; }
      const out = tableViews[id](p), classes = JSON.parse(body.dataset.classes);
      function esc(x) { const span = document.createElement('span'); span.textContent = x == null ? '' : String(x); return span.innerHTML; }
      body.innerHTML = out.rows.map(function (r) {
        return '<tr>' + r.map(function (v, k) { return '<td' + (classes[k] ? ' class="' + classes[k] + '"' : '') + '>' + esc(v) + '</td>'; }).join('') + '</tr>';
      }).join('') || '<tr><td colspan="9" class="muted">Nothing matches these filters.</td></tr>';
      left.textContent = out.note || '';
      record.rows = out.rows; record.left = left.textContent;
    });
  }

  // ---- the share plan: the campaign and period pick its items, department and network the rows ----
  // The plan is one greedy sequence per item (each colleague's gain depends on everyone asked
  // before), so rows of other colleagues are hidden, never re-ranked: rank and cumulative stay.
  function escHtml(x) { const span = document.createElement('span'); span.textContent = x == null ? '' : String(x); return span.innerHTML; }
  function planItems(S, p, notes) {
    const it = S.items, out = [];
    for (let i = 0; i < it.content_id.length; i++) if (!filter.campaign || it.campaign[i] === filter.campaign) out.push(i);
    if (filter.campaign && !out.length) {
      notes.push('No item of the campaign ' + filter.campaign + ' is in the plan: none published in the ' + S.recent_days +
                 ' days up to its plan moment is short of sharers.');
    }
    if (p && out.length) {
      const inPeriod = out.filter(function (i) { const m = it.published_at[i].slice(0, 7); return m >= p[0] && m <= p[1]; });
      if (inPeriod.length) return inPeriod.slice(0, S.limit);
      const since = isoDay(Math.floor(Date.parse(S.plan_at.replace(' ', 'T') + ':00Z') / DAY) - S.recent_days);
      notes.push('No planned item' + (filter.campaign ? ' of this campaign' : '') + ' was published in ' + periodText(p) +
                 ': the plan covers items published since ' + since + ' (the ' + S.recent_days + ' days up to its plan moment, ' +
                 S.plan_at + ' UTC: the newest post unless the build set plan_at); these are its newest items.');
    }
    return out.slice(0, S.limit);   // the cells come newest first (published_at desc, content_id)
  }
  function renderSharePlan(p) {
    const box = document.getElementById('share-plan-tables'), S = D && D.share_plan;
    if (!box || !S) return;
    const body = box.querySelector('.plan-body'), note = box.querySelector('.filters-note');
    if (body.dataset.base === undefined) body.dataset.base = body.innerHTML;
    const it = S.items, r = S.rows, emp = S.employees, notes = [];
    const dep = filter.department, net = filter.network;
    const who = [dep ? 'in ' + dep : '', net ? 'who posted on ' + net + ' by the plan moment' : ''].filter(Boolean).join(' and ');
    const items = planItems(S, p, notes);
    if (who) {
      notes.push('Showing only the suggested colleagues ' + who + '; # and cumulative stay the whole plan\'s: each colleague\'s ' +
                 'gain depends on everyone asked before them, across departments and networks, so the greedy sequence cannot be re-cut.');
    }
    const record = state.view.sharePlan = { items: items.map(function (i) { return it.content_id[i]; }), rows: [], note: notes.join(' ') };
    note.textContent = state.view.notes[box.id] = record.note;
    const cards = items.map(function (i) {
      let trs = '';
      for (let k = 0; k < r.item.length; k++) {
        const e = r.employee[k];
        if (r.item[k] !== i || (dep && emp.department[e] !== dep) || (net && !emp.networks[e].includes(net))) continue;
        record.rows.push([it.content_id[i], r.sharer_rank[k], emp.ids[e], r.expected_new_members[k], r.cumulative_new_members[k]]);
        trs += '<tr><td class="num">' + r.sharer_rank[k] + '</td><td><code>' + escHtml(emp.ids[e]) + '</code></td><td>' +
          escHtml(r.suggested_at[k]) + '</td><td class="num">' + fmtNum(r.expected_new_members[k]) + '</td><td class="num">' +
          fmtNum(r.cumulative_new_members[k]) + '</td><td>' + escHtml(r.audience_basis[k]) + '</td></tr>';
      }
      return '<div class="card"><h3>' + escHtml(it.title[i]) + '</h3><p class="lede"><code>' + escHtml(it.content_id[i]) +
        '</code>, published ' + it.published_at[i].slice(0, 10) + '; ' + it.prior_sharers[i] + ' colleague(s) shared it already, reaching ' +
        fmtNum(it.already_reached[i]) + ' people the colleagues below could also reach.</p>' +
        '<table><thead><tr><th class="num">#</th><th>employee</th><th>suggested (UTC)</th><th class="num">new members</th>' +
        '<th class="num">cumulative</th><th>audience</th></tr></thead><tbody>' +
        (trs || '<tr><td colspan="6" class="muted">No suggested colleague ' + escHtml(who) + '.</td></tr>') + '</tbody></table></div>';
    });
    if (!active().length) { body.innerHTML = body.dataset.base; return; }   // as Python drew it
    body.innerHTML = cards.length ? '<div class="grid">' + cards.join('') + '</div>'
      : '<div class="card wide"><p class="lede">No planned item matches these filters.</p></div>';
  }

  // ---- the filter bar -------------------------------------------------------------------------
  function setupBar() {
    const form = document.getElementById('filters');
    if (!form || !D || !D.shares || !months.length) { if (form) form.hidden = true; return; }
    function fill(id, values, label, all) {
      const sel = document.getElementById(id);
      sel.innerHTML = '<option value="">' + all + '</option>' + values.map(function (v) {
        const o = document.createElement('option'); o.value = v; o.textContent = label(v); return o.outerHTML;
      }).join('');
    }
    fill('f-from', months, monthLabel, 'first month');
    fill('f-to', months, monthLabel, 'last month');
    fill('f-department', D.department_options || [], String, 'all departments');
    fill('f-network', D.dims.network, String, 'all networks');
    fill('f-campaign', D.dims.campaign, String, 'all campaigns');
    function show() { ['from', 'to', 'department', 'network', 'campaign'].forEach(function (k) {
      document.getElementById('f-' + k).value = filter[k]; }); }
    form.addEventListener('change', function (ev) {
      const k = ev.target.id.replace('f-', '');
      filter[k] = ev.target.value;
      if (filter.from && filter.to && filter.from > filter.to) { if (k === 'from') filter.to = filter.from; else filter.from = filter.to; }
      show(); writeHash(); render();
    });
    document.getElementById('f-reset').addEventListener('click', function () {
      Object.keys(filter).forEach(function (k) { filter[k] = ''; }); show(); writeHash(); render();
    });
    window.addEventListener('hashchange', function () { readHash(); show(); render(); });
    readHash(); show();
  }

  try { setupBar(); } catch (e) { state.errors.push('filters: ' + e); console.error(e); }
  render();
})();
"""  # noqa: E501 — one statement a line reads better in JavaScript
