"""Rendering profiles and comparisons: JSON, CSV, Markdown, charts (SVG/PNG) and one HTML file.

The HTML report is a single self-contained file: styles inline, charts as inline SVG drawn by
matplotlib with text as paths, no scripts, fonts or images fetched from anywhere, so it opens
offline and on a phone.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import __version__
from .profiles import Comparison, Profile

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

COLOURS = {
    "genuine_conversation": "#2a9d8f",
    "personal_sharing": "#8ab17d",
    "self_promotion": "#e76f51",
    "vanity_retweet": "#b5179e",
}
NAMES = {
    "genuine_conversation": "conversation",
    "personal_sharing": "personal",
    "self_promotion": "self-promotion",
    "vanity_retweet": "vanity re-shares",
}
ORDER = ["genuine_conversation", "personal_sharing", "self_promotion", "vanity_retweet"]
BEHAVIOUR = [
    ("reply_rate", "replies to others"),
    ("reshare_rate", "re-shares"),
    ("vanity_reshare_share", "vanity re-shares"),
    ("link_share", "posts with a link"),
    ("link_only_share", "bare links"),
    ("duplicate_share", "repeated texts"),
    ("question_share", "questions"),
]


@cache
def _pyplot() -> Any:
    """matplotlib, imported when a chart is first drawn (half a second that scoring to JSON or a
    table does not need), drawing off-screen, text as paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def to_json(profiles: Sequence[Profile]) -> str:
    """A JSON list with one object per account, one account per line (see the README for the fields).

    Not indented further: json's C encoder only runs without ``indent``, and the pure-Python one took
    seconds for a few hundred accounts.
    """
    return "[" + ",\n ".join(json.dumps(p.to_dict(), default=str) for p in profiles) + "]"


def to_csv(comparison: Comparison) -> str:
    return comparison.table.to_csv(index=False)


def to_markdown(comparison: Comparison) -> str:
    """The side-by-side table and each account's advice, as Markdown."""
    lines = ["| rank | account | posts | score (95% interval) | archetype | conversation | personal | self-promotion | vanity | reply rate |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in comparison.profiles:
        s = p.shares
        lines.append(
            f"| {comparison.profiles.index(p) + 1} | {p.account} | {p.n_posts} | {p.score.estimate:.0f} ({p.score.low:.0f}-{p.score.high:.0f}) "
            f"| {p.archetype} | {s['genuine_conversation'].estimate:.0%} | {s['personal_sharing'].estimate:.0%} "
            f"| {s['self_promotion'].estimate:.0%} | {s['vanity_retweet'].estimate:.0%} | {p.behaviour['reply_rate']:.0%} |"
        )
    for p in comparison.profiles:
        if p.advice:
            lines += ["", f"**{p.account}**: " + " ".join(f"*{a['title']}.* {a['text']}" for a in p.advice)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- charts


def mix_chart(profiles: Sequence[Profile]) -> plt.Figure:
    """Stacked bars: each account's content mix, best score on top."""
    fig, ax = _pyplot().subplots(figsize=(7, 0.5 * len(profiles) + 1.2))
    names = [f"{p.account}  ({p.score.estimate:.0f})" for p in profiles][::-1]
    left = np.zeros(len(profiles))
    for label in ORDER:
        values = np.array([p.shares[label].estimate for p in profiles][::-1])
        ax.barh(names, values, left=left, color=COLOURS[label], label=NAMES[label])
        left += values
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_title("Content mix (score in brackets)")
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    fig.tight_layout()
    return fig


def score_chart(profiles: Sequence[Profile]) -> plt.Figure:
    """Scores with their 95% intervals."""
    fig, ax = _pyplot().subplots(figsize=(7, 0.45 * len(profiles) + 1.0))
    names = [p.account for p in profiles][::-1]
    est = np.array([p.score.estimate for p in profiles][::-1])
    low = np.array([p.score.low for p in profiles][::-1])
    high = np.array([p.score.high for p in profiles][::-1])
    ax.errorbar(est, names, xerr=[est - low, high - est], fmt="o", color="#264653", capsize=3)
    ax.set_xlim(0, 100)
    ax.set_title("Sociability score (0-100) with 95% interval")
    fig.tight_layout()
    return fig


def behaviour_chart(profiles: Sequence[Profile]) -> plt.Figure:
    """Behaviour metrics side by side: one group of bars per metric."""
    fig, ax = _pyplot().subplots(figsize=(7, 3.6))
    width = 0.8 / max(len(profiles), 1)
    x = np.arange(len(BEHAVIOUR))
    cmap = _pyplot().get_cmap("tab10")
    for i, p in enumerate(profiles):
        ax.bar(x + i * width, [p.behaviour[k] for k, _ in BEHAVIOUR], width, label=p.account, color=cmap(i % 10))
    ax.set_xticks(x + 0.4 - width / 2, [name for _, name in BEHAVIOUR], rotation=25, ha="right")
    ax.yaxis.set_major_formatter(_percent())
    ax.set_title("Behaviour (share of posts)")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def timeline_chart(profiles: Sequence[Profile]) -> plt.Figure:
    """Mix over time for each account (stacked areas, one panel per account)."""
    rows = len(profiles)
    fig, axes = _pyplot().subplots(rows, 1, figsize=(7, 1.5 * rows + 0.6), squeeze=False)
    for ax, p in zip(axes[:, 0], profiles):
        periods = list(p.mix_over_time)
        if periods:
            values = [[p.mix_over_time[t].get(label, 0.0) for t in periods] for label in ORDER]
            ax.stackplot(range(len(periods)), values, colors=[COLOURS[l] for l in ORDER])
            step = max(1, len(periods) // 8)
            ax.set_xticks(range(0, len(periods), step), [periods[i][:10] for i in range(0, len(periods), step)], fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_ylabel(p.account, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_yticks([])
    axes[0, 0].set_title("Content mix over time")
    fig.tight_layout()
    return fig


CHARTS = {"mix": mix_chart, "score": score_chart, "behaviour": behaviour_chart, "timeline": timeline_chart}


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    return svg.replace("<svg ", '<svg role="img" style="width:100%;height:auto" ', 1)


def save_pngs(profiles: Sequence[Profile], folder: str | Path) -> list[Path]:
    """Every chart as a PNG file in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in CHARTS.items():
        fig = draw(profiles)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        _pyplot().close(fig)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- HTML

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d262b;background:#fafaf7}
main{max-width:920px;margin:auto;padding:16px}
h1{font-size:1.6em;margin:.4em 0}h2{margin-top:1.6em;border-bottom:2px solid #e9e5dc;padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:.92em;display:block;overflow-x:auto}
th,td{padding:6px 8px;border-bottom:1px solid #e9e5dc;text-align:left;white-space:nowrap}
td.num{text-align:right}.chart{background:#fff;border:1px solid #e9e5dc;border-radius:8px;padding:8px;margin:12px 0}
.card{background:#fff;border:1px solid #e9e5dc;border-radius:8px;padding:12px 16px;margin:16px 0}
.arch{display:inline-block;background:#264653;color:#fff;border-radius:12px;padding:2px 10px;font-size:.85em}
.advice{background:#fff4e5;border-left:4px solid #e76f51;padding:6px 10px;margin:6px 0}
.example{color:#444;font-size:.9em;margin:2px 0 2px 12px;white-space:normal}
.muted{color:#667;font-size:.85em}
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def to_html(comparison: Comparison, title: str = "Sociability report") -> str:
    """One self-contained HTML page: summary table, charts, and a card per account."""
    profiles = comparison.profiles
    rows = "".join(
        f"<tr><td>{i}</td><td>{_esc(p.account)}</td><td class=num>{p.n_posts}</td>"
        f"<td class=num><b>{p.score.estimate:.0f}</b> <span class=muted>({p.score.low:.0f}-{p.score.high:.0f})</span></td>"
        f"<td><span class=arch>{_esc(p.archetype)}</span></td>"
        + "".join(f"<td class=num>{p.shares[l].estimate:.0%}</td>" for l in ORDER)
        + f"<td class=num>{p.behaviour['reply_rate']:.0%}</td></tr>"
        for i, p in enumerate(profiles, start=1)
    )
    head = "".join(f"<th>{NAMES[l]}</th>" for l in ORDER)
    summary = (f"<table><tr><th>#</th><th>account</th><th>posts</th><th>score</th><th>archetype</th>{head}"
               f"<th>reply rate</th></tr>{rows}</table>")
    diffs = ""
    if len(comparison.differences):
        diff_rows = "".join(
            f"<tr><td>{_esc(d['higher'])}</td><td>{_esc(d['lower'])}</td><td class=num>{d['difference']:+.1f}</td>"
            f"<td class=num>{d['low']:+.1f} to {d['high']:+.1f}</td><td>{'yes' if d['beyond_noise'] else 'no, within noise'}</td></tr>"
            for d in comparison.differences.to_dict(orient="records")
        )
        diffs = ("<h2>Do the scores really differ?</h2><table><tr><th>higher</th><th>lower</th><th>difference</th>"
                 f"<th>95% interval</th><th>beyond the noise?</th></tr>{diff_rows}</table>")
    charts = "".join(f'<div class="chart">{_svg(draw(profiles))}</div>' for draw in CHARTS.values())
    cards = "".join(_card(p) for p in profiles)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{_esc(title)}</h1><p class=muted>{len(profiles)} account(s), generated {generated} by sociability {__version__}. "
        "Shares are estimated with 95% intervals; the score weighs content mix and behaviour (configs/profile.toml).</p>"
        f"<h2>Side by side</h2>{summary}{diffs}<h2>Charts</h2>{charts}<h2>Accounts</h2>{cards}</main></body></html>"
    )


def _card(p: Profile) -> str:
    shares = "".join(
        f"<tr><td>{NAMES[l]}</td><td class=num>{p.shares[l].estimate:.0%}</td>"
        f"<td class=num>{p.shares[l].low:.0%}-{p.shares[l].high:.0%}</td></tr>" for l in ORDER
    )
    behaviour = "".join(f"<tr><td>{name}</td><td class=num>{p.behaviour[key]:.0%}</td></tr>" for key, name in BEHAVIOUR)
    behaviour += f"<tr><td>accounts engaged per 100 posts</td><td class=num>{p.behaviour['accounts_engaged_per_100']:.0f}</td></tr>"
    behaviour += f"<tr><td>hashtags per post</td><td class=num>{p.behaviour['hashtags_per_post']:.2f}</td></tr>"
    advice = "".join(f"<div class=advice><b>{_esc(a['title'])}.</b> {_esc(a['text'])}</div>" for a in p.advice) or "<p>No advice: keep it up.</p>"
    examples = "".join(
        f"<p><b>{NAMES[l]}</b></p>" + "".join(f"<p class=example>“{_esc(text[:280])}”</p>" for text in p.examples.get(l, []))
        for l in ORDER if p.examples.get(l)
    )
    return (
        f'<div class=card id="{_esc(p.account)}"><h3>{_esc(p.account)} <span class=arch>{_esc(p.archetype)}</span></h3>'
        f"<p>{_esc(p.archetype_description)}</p>"
        f"<p>Score <b>{p.score.estimate:.0f}</b> (95% interval {p.score.low:.0f}-{p.score.high:.0f}) · {p.n_posts} posts "
        f"from {p.first_post} to {p.last_post} · {p.posts_per_day:.2f} per day · "
        + ", ".join(f"{k} {v:.0%}" for k, v in p.platforms.items())
        + f"</p><table><tr><th>kind of post</th><th>share</th><th>95% interval</th></tr>{shares}</table>"
        f"<h4>Behaviour</h4><table>{behaviour}</table><h4>Advice</h4>{advice}<h4>Typical posts</h4>{examples}</div>"
    )


def write_html(comparison: Comparison, path: str | Path, title: str = "Sociability report") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(comparison, title), encoding="utf-8")
    return path
