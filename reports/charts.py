"""Turn the report's query results into Plotly figures (small, declarative, no data work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.project import attribution_models

EMPLOYEE = "#0f766e"  # teal: employee posts
PAGE = "#b45309"  # amber: company page posts
ACCENT = "#6d28d9"  # violet: derived figures (multiplier, colleague share)
MUTED = "#94a3b8"
# Attribution models take these colours by their position in the dbt var attribution_models
# (reports.project), so a model keeps its colour from chart to chart and publication to
# publication; past the end the palette starts over.
MODEL_PALETTE = (
    "#1d4ed8",  # blue
    "#0891b2",  # cyan
    "#0f766e",  # teal
    "#65a30d",  # lime
    "#d97706",  # orange
    "#be123c",  # rose
    "#7c3aed",  # violet
    "#db2777",  # pink
    "#854d0e",  # brown
)
FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@dataclass
class Chart:
    id: str
    title: str
    lede: str  # what it shows and how to read it, one or two sentences
    figure: go.Figure
    note: str = ""  # caveats: suppressed groups, excluded currencies …
    height: int = 380
    wide: bool = False  # spans the whole row
    # The page filters that redraw this chart (reports.script has a view for it that fills the
    # traces named by their ``meta``); with none, the chart always shows the whole publication
    # and says so when a filter is set, giving ``unfiltered`` as the reason.
    filters: tuple[str, ...] = ()
    unfiltered: str = ""


@dataclass
class Section:
    id: str
    title: str
    intro: str
    charts: list[Chart] = field(default_factory=list)
    html: str = ""  # extra content (tables) under the charts
    missing: list[str] = field(default_factory=list)  # marts not published: section not drawn


def model_label(model: str) -> str:
    """The model's name as a reader says it: first_touch -> First touch, time_decay -> Time decay;
    a compound adjective keeps its hyphen (position_based -> Position-based, w_shaped -> W-shaped)."""
    words = model.split("_")
    text = words[0] + "".join(("-" if w.endswith("ed") else " ") + w for w in words[1:])
    return text.capitalize()


def model_colors() -> dict[str, str]:
    """Each model the dbt project names, with its palette colour (a model it does not name is MUTED)."""
    return {m: MODEL_PALETTE[i % len(MODEL_PALETTE)] for i, m in enumerate(attribution_models())}


def _layout(fig: go.Figure, *, height: int = 380, legend: bool = True, **kw: Any) -> go.Figure:
    settings: dict[str, Any] = {
        "template": "plotly_white",
        "height": height,
        "font": {"family": FONT, "size": 13, "color": "#1e293b"},
        "margin": {"l": 60, "r": 30, "t": 70 if legend else 40, "b": 50},
        "hovermode": "x unified",
        "showlegend": legend,
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "bgcolor": "rgba(0,0,0,0)"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    fig.update_layout(**{**settings, **kw})
    fig.update_xaxes(showgrid=False, linecolor="#cbd5e1", ticks="outside", tickcolor="#cbd5e1")
    fig.update_yaxes(gridcolor="#eef2f7", zeroline=False)
    return fig


def _empty(fig: go.Figure, text: str = "No data in this publication yet") -> go.Figure:
    fig.add_annotation(
        text=text,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 15, "color": MUTED},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def reach_spread(rows: list[dict]) -> go.Figure:
    """Box per author type from precomputed quantiles, page reference band 4–6%."""
    fig = go.Figure()
    for r in rows:
        is_page = r["author_type"] == "page"
        fig.add_trace(
            go.Box(
                name="Page posts" if is_page else "Employee posts",
                y=[r["author_type"]],
                orientation="h",
                q1=[r["p25"]],
                median=[r["p50"]],
                q3=[r["p75"]],
                lowerfence=[r["p05"]],
                upperfence=[r["p95"]],
                mean=[r["mean"]],
                marker_color=PAGE if is_page else EMPLOYEE,
                boxpoints=False,
                meta=r["author_type"],
                hovertemplate=f"{r['shares']:,} shares<extra></extra>",
            )
        )
    if not rows:
        return _layout(_empty(fig), height=260)
    fig.add_vrect(
        x0=0.04,
        x1=0.06,
        fillcolor=PAGE,
        opacity=0.12,
        line_width=0,
        annotation_text="typical page reach 4–6%",
        annotation_position="top left",
        annotation_font={"size": 11, "color": PAGE},
    )
    fig.update_xaxes(
        title="members reached ÷ network size (box: 25–75%, whiskers: 5–95%)",
        tickformat=".0%",
        rangemode="tozero",
    )
    fig.update_yaxes(ticktext=["Employee posts", "Page posts"], tickvals=["employee", "page"])
    return _layout(fig, height=260, legend=False, hovermode="closest")


def reach_by_month(rows: list[dict]) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if not rows:
        return _layout(_empty(fig))
    months = [r["period_start"] for r in rows]
    fig.add_trace(
        go.Bar(
            x=months,
            y=[r["median_employee_reach_ratio"] for r in rows],
            name="Employee posts (median)",
            marker_color=EMPLOYEE,
            hovertemplate="%{y:.1%}",
            meta="employee",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Bar(
            x=months,
            y=[r["median_page_reach_ratio"] for r in rows],
            name="Page posts (median)",
            marker_color=PAGE,
            hovertemplate="%{y:.1%}",
            meta="page",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=[r["amplification_multiplier"] for r in rows],
            name="Amplification ×",
            mode="lines+markers",
            connectgaps=True,
            line={"color": ACCENT, "width": 3},
            hovertemplate="×%{y:.1f}",
            meta="multiplier",
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="median reach ratio", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(
        title_text="multiplier (employee ÷ page)",
        ticksuffix="×",
        # Its own round ticks: ticks synced to the left axis fell between whole numbers, and
        # ".0f" then printed some twice and skipped others.
        tickmode="auto",
        nticks=6,
        tickformat="~g",
        showgrid=False,
        rangemode="tozero",
        secondary_y=True,
    )
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")
    return _layout(fig, barmode="group")


def reach_volume_by_month(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    if not rows:
        return _layout(_empty(fig))
    months = [r["period_start"] for r in rows]
    fig.add_trace(
        go.Bar(
            x=months,
            y=[r["employee_members_reached"] for r in rows],
            name="Reached by employee posts",
            marker_color=EMPLOYEE,
            meta="employee",
        )
    )
    fig.add_trace(
        go.Bar(
            x=months,
            y=[r["page_members_reached"] for r in rows],
            name="Reached by page posts",
            marker_color=PAGE,
            meta="page",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=[r["potential_reach"] for r in rows],
            name="Potential reach (Σ sharers' networks, an upper bound)",
            mode="lines+markers",
            line={"color": MUTED, "dash": "dot", "width": 2},
            meta="potential",
        )
    )
    fig.update_yaxes(title_text="members", separatethousands=True)
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")
    return _layout(fig, barmode="stack")


def engagement_by_week(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    if not rows:
        return _layout(_empty(fig))
    for author_type, name, color in (("employee", "Employee posts", EMPLOYEE), ("page", "Page posts", PAGE)):
        sub = [r for r in rows if r["author_type"] == author_type]
        if not sub:
            continue
        fig.add_trace(
            go.Scatter(
                x=[r["week_start"] for r in sub],
                y=[r["engagement_rate"] for r in sub],
                name=f"{name}: engagement rate",
                mode="lines+markers",
                connectgaps=True,
                line={"color": color, "width": 2.5},
                marker={"size": 5},
                customdata=[[r["shares"], r["ctr"]] for r in sub],
                hovertemplate="%{y:.1%} (CTR %{customdata[1]:.1%}, %{customdata[0]} posts)",
                meta=f"{author_type}:engagement_rate",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[r["week_start"] for r in sub],
                y=[r["ctr"] for r in sub],
                name=f"{name}: click-through",
                mode="lines",
                connectgaps=True,
                line={"color": color, "width": 1.5, "dash": "dot"},
                hoverinfo="skip",
                meta=f"{author_type}:ctr",
            )
        )
    fig.update_yaxes(
        title_text="per impression (weekly, by posting week)", tickformat=".0%", rangemode="tozero"
    )
    return _layout(fig)


def bubble_by_week(rows: list[dict]) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if not rows:
        return _layout(_empty(fig))
    weeks = [r["week_start"] for r in rows]
    fig.add_trace(
        go.Bar(
            x=weeks,
            y=[r["engagements"] - r["colleague_engagements"] for r in rows],
            name="Engagements from outside",
            marker_color="#cbd5e1",
            meta="outside",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Bar(
            x=weeks,
            y=[r["colleague_engagements"] for r in rows],
            name="Engagements from colleagues",
            marker_color="#94a3b8",
            meta="colleague",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=[r["colleague_share"] for r in rows],
            name="Colleague share (week)",
            mode="markers",
            marker={"size": 5, "color": ACCENT, "opacity": 0.35},
            hovertemplate="%{y:.0%}",
            meta="share",
        ),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=[r["colleague_share_4w"] for r in rows],
            name="Colleague share (4-week rolling)",
            mode="lines",
            connectgaps=True,
            line={"color": ACCENT, "width": 3},
            hovertemplate="%{y:.0%}",
            meta="share_4w",
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="engagements per week", secondary_y=False)
    fig.update_yaxes(
        title_text="colleague share",
        tickformat=".0%",
        range=[0, 1],
        tickmode="linear",  # 0%, 20% … 100%, not ticks synced to the left axis and rounded
        tick0=0,
        dtick=0.2,
        showgrid=False,
        secondary_y=True,
    )
    return _layout(fig, barmode="stack")


def overlap_by_content(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    if not rows:
        return _layout(_empty(fig, "No content item was shared by two or more employees yet"))
    rows = list(reversed(rows))  # largest at the top of a horizontal bar chart
    labels = [_clip(r["content"]) for r in rows]
    custom = [[r["sharers"], r["overlap_ratio"], r["audience_sum"]] for r in rows]
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[r["audience_union"] for r in rows],
            orientation="h",
            name="Distinct members (union of audiences)",
            marker_color=EMPLOYEE,
            meta="union",
            customdata=custom,
            hovertemplate="%{x:,} distinct of %{customdata[2]:,} · %{customdata[0]} sharers<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[r["duplicated_reach"] for r in rows],
            orientation="h",
            name="Counted twice (overlap)",
            marker_color="#f59e0b",
            meta="duplicated",
            customdata=custom,
            text=[f"{r['overlap_ratio']:.0%}" if r["overlap_ratio"] is not None else "" for r in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="overlap %{customdata[1]:.1%} · %{customdata[0]} sharers<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="Σ sharers' audiences (members)", separatethousands=True)
    return _layout(
        fig,
        barmode="stack",
        height=max(320, 28 * len(rows) + 130),
        hovermode="closest",
        margin={"l": 250, "r": 50, "t": 60, "b": 50},
    )


GAP_LABELS = {0: "first post", 1: "< 1 day", 2: "1–3 days", 3: "3–7 days", 4: "1–2 weeks", 5: "2+ weeks"}
DAY_LABELS = {1: "1 post", 2: "2 posts", 3: "3+ posts"}


def cadence(rows: list[dict]) -> go.Figure:
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=("time since the author's previous post", "the author's posts that day"),
    )
    if not rows:
        return _layout(_empty(fig))
    for col, dim, labels in ((1, "gap", GAP_LABELS), (2, "day", DAY_LABELS)):
        sub = [r for r in rows if r["dimension"] == dim]
        fig.add_trace(
            go.Bar(
                x=[labels.get(r["bucket_order"], str(r["bucket_order"])) for r in sub],
                y=[r["median_reach_ratio"] for r in sub],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "color": MUTED,
                    "array": [
                        (r["p75"] - r["median_reach_ratio"]) if r["p75"] is not None else None for r in sub
                    ],
                    "arrayminus": [
                        (r["median_reach_ratio"] - r["p25"]) if r["p25"] is not None else None for r in sub
                    ],
                },
                marker_color=[MUTED if r["is_suppressed"] else EMPLOYEE for r in sub],
                text=[("suppressed" if r["is_suppressed"] else f"{r['posts']:,} posts") for r in sub],
                textposition="outside",
                cliponaxis=False,
                showlegend=False,
                meta=dim,
                hovertemplate="median %{y:.1%}<br>%{text}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(
        title_text="median reach ratio (bar: 25–75%)", tickformat=".0%", rangemode="tozero", col=1
    )
    fig.update_layout(margin={"t": 50})
    return _layout(fig, legend=False, hovermode="closest", margin={"l": 60, "r": 30, "t": 60, "b": 50})


def funnel(stages: list[tuple[str, int]]) -> go.Figure:
    """Stages that narrow: each is a subset of the one before (a funnel that starts at shares
    widened past 100%: a post gets several clicks)."""
    fig = go.Figure(
        go.Funnel(
            y=[s[0] for s in stages],
            x=[s[1] for s in stages],
            textinfo="value+percent previous",
            textposition="outside",
            cliponaxis=False,
            marker={"color": ["#0d9488", "#14b8a6", ACCENT, "#be123c"][: len(stages)]},
            connector={"line": {"color": "#e2e8f0"}},
            meta="funnel",
        )
    )
    return _layout(fig, legend=False, hovermode="closest", margin={"l": 130, "r": 110, "t": 20, "b": 30})


def revenue_by_group(
    rows: list[dict], group_key: str, models: list[str], currency: str, *, height: int | None = None
) -> go.Figure:
    """Grouped horizontal bars: one bar per model, side by side, for each group."""
    fig = go.Figure()
    groups: list[str] = []
    for r in rows:
        if r[group_key] not in groups and r.get("won_revenue") is not None:
            groups.append(r[group_key])
    if not groups:
        text = (
            f"All {len({r[group_key] for r in rows})} groups are suppressed (too few employees)"
            if rows
            else "No won deal was touched by a post yet"
        )
        return _layout(_empty(fig, text), height=height or 360)
    by = {(r[group_key], r["model"]): r["won_revenue"] for r in rows}
    colors = model_colors()
    labels = [_clip(g) for g in reversed(groups)]
    for model in models:
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[by.get((g, model)) for g in reversed(groups)],
                orientation="h",
                name=model_label(model),
                marker_color=colors.get(model, MUTED),
                meta=model,
                hovertemplate=f"{model_label(model)}: %{{x:,.0f}} {currency}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text=f"won revenue credited ({currency})", separatethousands=True)
    return _layout(
        fig,
        barmode="group",
        hovermode="y unified",
        height=height or max(360, 22 * len(models) * len(groups) // 2 + 120),
        margin={"l": 250, "r": 30, "t": 90, "b": 50},
    )


STATUS_COLORS = {"won": "#15803d", "open": "#2563eb", "lost": "#9f1239"}


def deal_label(rank: int, deal_id: str, status: str | None) -> str:
    """A deal's row on the paths chart (reports.script writes the same for a filtered view)."""
    return f"#{rank} {deal_id} · {status}"


def deal_paths(deals: list[dict], touches: list[dict]) -> go.Figure:
    """One line per deal: its touches in time (sized by credit), its creation and close. Four
    traces (meta spans, touches, created, closed) that the page refills for its filters."""
    fig = go.Figure()
    if not deals:
        return _layout(_empty(fig, "No deal was touched by a post yet"))
    label = {d["deal_id"]: deal_label(d["deal_rank"], d["deal_id"], d["deal_status"]) for d in deals}
    span_x: list = []
    span_y: list = []
    for d in deals:
        ends = [t for t in (d["first_touch_at"], d["created_at"], d["closed_at"], d["last_touch_at"]) if t]
        span_x += [min(ends), max(ends), None]
        span_y += [label[d["deal_id"]]] * 2 + [None]
    fig.add_trace(
        go.Scatter(
            x=span_x, y=span_y, mode="lines", line={"color": "#e2e8f0", "width": 6},
            showlegend=False, hoverinfo="skip", meta="spans",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[t["touch_at"] for t in touches],
            y=[label[t["deal_id"]] for t in touches],
            mode="markers",
            name="Touch (click on a post; size: linear credit)",
            marker={
                "color": EMPLOYEE,
                "size": [8 + 22 * (t["credit"] or 0) for t in touches],
                "line": {"color": "white", "width": 1},
                "opacity": 0.9,
            },
            customdata=[
                [t["touch_number"], _clip(t["content"], 60), t["author_id"] or "", t["credit"] or 0]
                for t in touches
            ],
            hovertemplate="touch %{customdata[0]}: %{customdata[1]}<br>by %{customdata[2]} · linear credit "
            "%{customdata[3]:.0%}<extra></extra>",
            meta="touches",
        )
    )
    created = [d for d in deals if d["created_at"]]
    fig.add_trace(
        go.Scatter(
            x=[d["created_at"] for d in created],
            y=[label[d["deal_id"]] for d in created],
            mode="markers",
            name="Deal created",
            marker={"symbol": "diamond", "size": 12, "color": ACCENT},
            hovertemplate="created %{x|%Y-%m-%d}<extra></extra>",
            meta="created",
        )
    )
    closed = [d for d in deals if d["closed_at"]]
    fig.add_trace(
        go.Scatter(
            x=[d["closed_at"] for d in closed],
            y=[label[d["deal_id"]] for d in closed],
            mode="markers",
            name="Closed",
            marker={
                "symbol": "star",
                "size": 15,
                "color": [STATUS_COLORS.get(d["deal_status"], MUTED) for d in closed],
            },
            customdata=[[d["deal_status"], float(d["amount"] or 0), d["currency"]] for d in closed],
            hovertemplate="closed %{customdata[0]} · %{customdata[1]:,.0f} %{customdata[2]}<extra></extra>",
            meta="closed",
        )
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return _layout(
        fig,
        hovermode="closest",
        height=max(320, 34 * len(deals) + 140),
        margin={"l": 240, "r": 30, "t": 70, "b": 50},
    )


def _clip(text: Any, n: int = 38) -> str:
    s = str(text)
    return s if len(s) <= n else s[: n - 1] + "…"
