"""The report's value and ROI section: earned media value (an estimate), attributed won revenue
and the program's cost, month by month, in the reporting currency (mart_program_value), with
the exchange-rate gaps that leave a figure unknown said out loud (mart_currency_conversions).

Under the page's filters (reports.script) the earned media value follows every filter (the
value cells: mart_share_value by day, department, network and campaign), won revenue too (the
segment cells of mart_attribution_segments, by the month of the credited post), and the cost
the period only: costs are the program's, no department, network or campaign splits them."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from reports import charts as ch
from reports.project import attribution_models
from reports.sections import ALL_FILTERS, Kpi, Marts

REQUIRED = ("mart_program_value", "mart_share_value")
# The model whose credited revenue the section shows: linear spreads each deal over its touches
# and is the easiest to explain; the table in the marts has every model side by side.
PREFERRED_MODEL = "linear"
MONEY_COLUMNS = ("emv", "won_revenue", "cost", "roi", "revenue_roi")

MONTHLY = """
select
    group_key as month,
    shares,
    emv,
    won_revenue_reporting as won_revenue,
    cost_reporting as cost,
    roi,
    revenue_roi,
    reporting_currency
from mart_program_value
where dimension = 'month' and model = $model
order by month
"""

SHARES_WITHOUT_VALUE = """
select count(*) filter (where emv is null) as unvalued, count(*) as shares
from mart_share_value
where author_type = 'employee'
"""

RATE_GAPS = """
select source, coalesce(currency, '(none)') as currency, count(*) as amounts,
       strftime(min(fx_at), '%Y-%m-%d') as first_at
from mart_currency_conversions
where fx_rate is null
group by all
order by amounts desc, source, currency
"""


def _model(m: Marts) -> str | None:
    found = [r["model"] for r in m.fetch("select distinct model from mart_program_value order by model")]
    named = [x for x in attribution_models() if x in found] + [
        x for x in found if x not in attribution_models()
    ]
    return PREFERRED_MODEL if PREFERRED_MODEL in named else (named[0] if named else None)


def _money(x: float | None, currency: str) -> str:
    return "–" if x is None else f"{float(x):,.0f} {currency}"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:+.0%}"


def _total(rows: list[dict], key: str) -> float | None:
    """Σ over the months, unknown (None) as soon as one month is: a total is never short."""
    values = [r[key] for r in rows]
    return None if any(v is None for v in values) else sum(float(v) for v in values)


def value(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "value",
        "What the program is worth",
        "Per month, in one reporting currency: the <b>earned media value</b> of employees' shares — an "
        "<b>estimate</b> of what the same impressions, clicks and engagements would have cost as paid media "
        "on their networks (<code>mart_share_value</code>) —, the won revenue attributed to their posts, and "
        "the program's cost (<code>mart_program_value</code>). ROI = (won revenue + EMV − cost) ÷ cost; "
        "revenue ROI leaves the estimate out.",
        missing=[t for t in REQUIRED if t not in m.tables],
    )
    if section.missing:
        return [], section
    model = _model(m)
    rows = m.fetch(MONTHLY, {"model": model}) if model else []
    if not rows:
        section.html = "<p class='note'>No shares, deals or costs in this publication yet.</p>"
        return [], section
    currency = rows[0]["reporting_currency"]
    emv, won, cost = (_total(rows, k) for k in ("emv", "won_revenue", "cost"))
    roi = None if None in (emv, won, cost) or not cost else (won + emv - cost) / cost
    revenue_roi = None if None in (won, cost) or not cost else (won - cost) / cost
    label = ch.model_label(model)
    kpis: list[Kpi] = [
        (
            "Earned media value (estimate)",
            _money(emv, currency),
            "what the reach would have cost as paid media",
            "emv",
        ),
        (
            f"Program ROI ({label})",
            _ratio(roi),
            f"revenue only: {_ratio(revenue_roi)}; cost {_money(cost, currency)}",
            "roi",
        ),
    ]
    section.charts = [
        ch.Chart(
            "chart-value-monthly",
            f"Value and cost by month ({currency})",
            f"Bars: earned media value (an estimate, by month of posting) and won revenue credited to "
            f"employees' posts under {label} (by month of the win); line: the program's cost, each cost "
            "spread evenly over its days.",
            _monthly_figure(rows, currency, label),
            note=_notes(m, rows, currency),
            wide=True,
            filters=ALL_FILTERS,
        )
    ]
    section.html = _table(rows, currency)
    # The months as the mart has them: the page slices them for a period, and takes the cost
    # from them under any filter.
    m.page_data["value_months"] = {
        "model": model,
        "label": label,
        "currency": currency,
        "rows": [
            {k: None if r[k] is None else float(r[k]) for k in MONEY_COLUMNS}
            | {"month": r["month"][:7], "shares": r["shares"]}
            for r in rows
        ],
    }
    return kpis, section


def _monthly_figure(rows: list[dict], currency: str, label: str) -> go.Figure:
    months = [r["month"][:7] for r in rows]
    fig = go.Figure()
    for key, name, color in (
        ("emv", "EMV (estimate)", "#9ecae1"),
        ("won_revenue", f"won revenue, {label}", "#3182bd"),
    ):
        fig.add_trace(
            go.Bar(
                x=months,
                y=[r[key] for r in rows],
                name=name,
                meta=key,
                marker_color=color,
                hovertemplate=f"{name}: %{{y:,.0f}} {currency}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=[r["cost"] for r in rows],
            name="cost",
            meta="cost",
            mode="lines+markers",
            line={"color": "#de2d26"},
            hovertemplate=f"cost: %{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    fig.update_yaxes(title_text=currency, separatethousands=True)
    return ch._layout(fig, barmode="group", hovermode="x unified", height=380)


def _notes(m: Marts, rows: list[dict], currency: str) -> str:
    notes = []
    unknown = [r["month"][:7] for r in rows if r["won_revenue"] is None or r["cost"] is None]
    if unknown:
        notes.append(
            f"Left blank, not zero: {', '.join(unknown)} (a deal or cost there has no exchange rate"
            f" to {currency})."
        )
    gaps = m.fetch(RATE_GAPS) if "mart_currency_conversions" in m.tables else []
    if gaps:
        listed = "; ".join(
            f"{g['amounts']} {g['source'].replace('_', ' ')} amount(s) in {html.escape(g['currency'])}"
            f" from {g['first_at']}"
            for g in gaps
        )
        notes.append(f"Without an exchange rate (load fx_rate events to convert them): {listed}.")
    shares = m.fetch(SHARES_WITHOUT_VALUE)[0]
    if shares["unvalued"]:
        notes.append(
            f"{shares['unvalued']:,} of {shares['shares']:,} employee shares have no EMV: no media rate"
            " for their "
            "network at posting."
        )
    if any(r["cost"] == 0 for r in rows):
        notes.append("ROI is left blank (never infinite) in months without cost.")
    return " ".join(notes)


def _table(rows: list[dict], currency: str) -> str:
    body = "".join(
        "<tr>"
        f"<td>{r['month'][:7]}</td>"
        f"<td class='num'>{r['shares']:,}</td>"
        f"<td class='num'>{_money(r['emv'], currency)}</td>"
        f"<td class='num'>{_money(r['won_revenue'], currency)}</td>"
        f"<td class='num'>{_money(r['cost'], currency)}</td><td class='num'>{_ratio(r['roi'])}</td>"
        f"<td class='num'>{_ratio(r['revenue_roi'])}</td>"
        "</tr>"
        for r in rows
    )
    # The page's script re-fills the rows for the filters (reports.script ``tableViews``).
    return (
        f'<div data-table-view="value-months" data-filters="{html.escape(" ".join(ALL_FILTERS))}">'
        '<p class="note left-out"></p><p class="filters-note"></p>'
        "<table class='deals'><thead><tr><th>month</th><th>shares</th><th>EMV (estimate)</th>"
        "<th>won revenue</th><th>cost</th><th>ROI</th><th>revenue ROI</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )
