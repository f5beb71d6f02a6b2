"""Tables and a chart from a benchmark's JSON: `python -m bench.report [RESULTS.json]`.

Writes the PNG chart next to the JSON and regenerates the results section of
`bench/README.md` (between the `bench:results` markers). Without an argument it takes the
newest full (not `--quick`) `bench/results/bench-*.json`, else the newest quick one.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from bench._failure import reason

README = Path(__file__).parent / "README.md"
RESULTS = Path(__file__).parent / "results"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
NAMES = {
    "bare_read": "bare aiokafka, read only",
    "bare_decode": "bare aiokafka + decode (consumer ceiling)",
    "bare_writer": "bare asyncpg batch upserts (writer ceiling)",
    "ours": "**ours: stream worker → PostgreSQL**",
    "ours_two": "ours, two workers in the group (one per core)",
    "ours_before": "ours before the fix",
    "quixstreams": "quixstreams",
    "bytewax": "bytewax",
    "faust": "faust agent + windowed Table",
}
IMPLS = ("ours", "quixstreams", "bytewax", "faust")
SLICE_ROWS = ("bare_read", "bare_decode", "bare_writer", "ours", "ours_two", "ours_before")


def _n(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _cell(text: str, limit: int = 160) -> str:
    """Text for one table cell: one line, `|` escaped, cut to `limit` characters."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failed(row: dict[str, Any]) -> str:
    """Why a step failed, for its row: the error, not what the process printed last."""
    return _cell(f"failed: {reason(row['error'])}")


def tables(r: dict[str, Any]) -> str:
    """The markdown results section."""
    meta, inputs, sl, bf = r["meta"], r["inputs"], r["slice"], r["backfill"]
    out = []
    load = ", ".join(f"{v:.2f}" for v in meta["load_average_at_start"])
    out.append(
        f"Run of {meta['date'][:10]} on {meta['machine']} (load average at start {load}); "
        f"Python {meta['python']}, {meta['kafka']}, PostgreSQL {meta.get('postgresql', '?')}; "
        f"aiokafka {meta['aiokafka']}, asyncpg {meta['asyncpg']}, pydantic {meta['pydantic']}, "
        f"quixstreams {meta['quixstreams']}, bytewax {meta['bytewax']} (confluent-kafka "
        f"{meta['confluent-kafka']}), faust-streaming {meta['faust-streaming']}."
        + (" **Quick run** (smoke test, not for comparison)." if r["parameters"]["quick"] else "")
    )
    s = inputs["slice"]
    ours = sl["ours"]
    out.append(
        f"\n**Same input, every implementation** — the first {s['days']:g} days of the history, "
        f"{s['events']:,} events ({r['expected']['rows']:,} window rows of 60 s; totals "
        "checked row by row against the input):\n"
    )
    out.append(
        "| implementation | events/s | ours ÷ this | CPU µs/event | CPU % | RSS MB "
        "| rows identical |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---|")
    for key in (*SLICE_ROWS, *IMPLS[1:]):
        row = sl.get(key)
        if row is None:
            continue
        name = NAMES[key] + (f" (`{Path(row['ref']).name[:12]}`)" if key == "ours_before" else "")
        if "error" in row:
            out.append(f"| {name} | {_failed(row)} | | | | | |")
            continue
        check = row.get("check", {})
        same = check.get("identical")
        out.append(
            f"| {name} | {_n(row['events_per_second'])} | "
            f"{'' if key == 'ours' else _x(ours['events_per_second'] / row['events_per_second'])}"
            f" | {_n(row.get('cpu_us_per_event'), 1)} | {_n(row.get('cpu_percent'))} | "
            f"{_n(row.get('rss_mb_peak')) if 'rss_mb_peak' in row else '(bench)'} | "
            f"{'–' if same is None else ('yes' if same else 'NO')} |"
        )
    fs = r.get("faust_slice")
    if fs:
        f = inputs["faust_slice"]
        out.append(
            f"\n**faust, on a smaller slice** (the first {f['days']:g} days, {f['events']:,} "
            "events; its per-update changelog makes the whole slice take too long):\n"
        )
        out.append(
            "| implementation | events/s | ours ÷ this | CPU µs/event | RSS MB | rows identical |"
        )
        out.append("|---|---:|---:|---:|---:|---|")
        for key in ("ours", "faust"):
            row = fs.get(key, {})
            if "error" in row or not row:
                out.append(f"| {NAMES[key]} | {_failed({'error': '', **row})} | | | | |")
                continue
            same = row.get("check", {}).get("identical")
            ratio = (
                ""
                if key == "ours"
                else _x(fs["ours"]["events_per_second"] / row["events_per_second"])
            )
            out.append(
                f"| {NAMES[key]} | {_n(row['events_per_second'])} | {ratio} | "
                f"{_n(row.get('cpu_us_per_event'), 1)} | {_n(row.get('rss_mb_peak'))} | "
                f"{'–' if same is None else ('yes' if same else 'NO')} |"
            )
    h = inputs["backfill"]
    minutes = bf["ours"].get("seconds_from_start", math.inf) / 60
    out.append(
        f"\n**Backfill** — {h['days']:g} days of history at rate {h['rate']:g}, "
        f"{h['events']:,} events:\n"
    )
    out.append("| step | events/s | time | ratio |")
    out.append("|---|---:|---:|---|")
    out.append(
        f"| produce ({h.get('how', 'ioc connectors backfill')}) | "
        f"{_n(h['events_per_second'])} | {h['seconds'] / 60:.1f} min | |"
    )
    out.append(
        f"| bare aiokafka + decode | {_n(bf['bare_decode']['events_per_second'])} | "
        f"{bf['bare_decode']['seconds'] / 60:.1f} min | |"
    )
    if "error" in bf["ours"]:
        out.append(f"| **ours** | {_failed(bf['ours'])} | | |")
    else:
        check = bf["ours"]["check"]
        out.append(
            f"| **ours** (all counted: {'yes' if check['all_counted'] else 'NO'}, "
            f"{check['late']:,} late, {check['duplicates']:,} repeats) | "
            f"{_n(bf['ours']['events_per_second'])} | {minutes:.1f} min incl. start | "
            f"{_x(r['ratios']['backfill']['ours_to_bare_decode'])} of bare decode |"
        )
    out.append(
        f"\n**Sustained** — the four feeds live, {r['parameters']['seconds']:g} s per row, "
        "10 s windows; latency = `updated_at` of a window's row − the window's end (0 if "
        "final before its end), on the whole windows from 10 s after the feeds start to 5 s "
        "before they stop; lag = events sent − events read, sampled every 0.5 s. A window's "
        "latency is split in two: until its last event was in Kafka (the feeds' share: the "
        "simulators send each event at its time, within 0.1 s, through `ConnectorRunner` in "
        "the bench process), then from there to its last row (the implementation's share):\n"
    )
    out.append(
        "| load | implementation | events/s | lag max | row p50 | row p99 | windows | "
        "p99 until in Kafka | p99 Kafka → row | "
        "CPU % | CPU µs/event | RSS MB | feeds CPU % | PG CPU % |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in r.get("sustained", []):
        name = NAMES[row["impl"]] if row["impl"] == "ours" else row["impl"]
        if "error" in row:
            out.append(f"| {row['rate']:g}× | {name} | {_failed(row)} | | | | | | | | | | | |")
            continue
        split = " | ".join(
            _s(row.get(key, {}).get("p99"))
            for key in ("window_in_kafka_seconds", "window_kafka_to_row_seconds")
        )
        lat = row["row_latency_seconds"]
        # A row with no window timed says why where its latency would be.
        latency = (
            f"{_s(lat['p50'])} | {_s(lat['p99'])}"
            if row["windows"]
            else f"– | {_cell(row.get('no_window', 'no window timed'))}"
        )
        out.append(
            f"| {row['rate']:g}× | {name}"
            f" | {_n(row['events_per_second'])} | {_n(row['lag_events_max'])} | "
            f"{latency} | {row['windows']} | {split} | "
            f"{_n(row['cpu_percent'], 1)} | {_n(row['cpu_us_per_event'])} | "
            f"{_n(row['rss_mb_peak'])} | {_n(row['feeds_cpu_percent'], 1)} | "
            f"{_n(row.get('postgres_cpu_percent'), 1)} |"
        )
    out.extend(targets(r))
    profile = r.get("profile")
    if profile and "error" not in profile:
        out.append(
            f"\n**Where our worker's time goes** (py-spy on the slice, {profile['samples']:,} "
            f"samples, event loop idle {profile['idle_percent']:.0f}% of the time):\n"
        )
        out.append("| self time | % of busy | inclusive (project code) | % of busy |")
        out.append("|---|---:|---|---:|")
        for own, incl in list(zip(profile["self"], profile["inclusive_project"], strict=False))[
            :10
        ]:
            out.append(
                f"| `{own['function']}` | {own['percent_of_busy']:.1f} | "
                f"`{incl['function']}` | {incl['percent_of_busy']:.1f} |"
            )
    return "\n".join(out) + "\n"


# One province's full volume (rate 1) over 30 days: 2.9 M events a day (bench/README.md).
PROVINCE_MONTH_EVENTS = 87_000_000
MONTH_HISTORY_EVENTS = 10_459_131  # the suite's 30 days at rate 0.12


def targets(r: dict[str, Any]) -> list[str]:
    """Issue 22's goals, each met or at its measured distance, within this run."""
    ratios = r["ratios"]["slice"]
    bf, h = r["backfill"]["ours"], r["inputs"]["backfill"]
    seconds = bf.get("seconds_from_start")
    minutes = None if seconds is None else seconds / 60
    rate = bf.get("events_per_second")
    hundred = next(
        (x for x in r.get("sustained", []) if x.get("impl") == "ours" and x.get("rate") == 100.0),
        None,
    )
    live = hundred if hundred and "error" not in hundred else {}
    p99 = live.get("row_latency_seconds", {}).get("p99")
    out = [
        "\n**Targets** (ratios within this run):\n",
        "| target | measured | met |",
        "|---|---|---|",
    ]

    def row(text: str, shown: str, met: bool | None) -> None:
        out.append(f"| {text} | {shown} | {'–' if met is None else ('yes' if met else 'no')} |")

    def at_least(text: str, value: float | None, goal: float, percent: bool = False) -> None:
        if value is None:
            row(text, "–", None)
            return
        shown = f"{100 * value:.0f}%" if percent else _x(value)
        if value < goal:
            short = f"{100 * goal:.0f}%" if percent else _x(goal)
            shown += f" ({short} needs {goal / value:.2f}× more)"
        row(text, shown, value >= goal)

    at_least("ours ≥ 3× bytewax (slice)", ratios.get("ours_to_bytewax"), 3.0)
    at_least(
        "ours ≥ 30% of the bare aiokafka read (slice)", ratios.get("ours_to_bare_read"), 0.30, True
    )
    goal = "30-day history (≈ 10.5 M events) counted and stored in ≤ 3 min"
    if minutes is None or not rate:
        row(goal, "–", None)
    else:
        if h["days"] != 30:  # a shorter run (--quick, --days): what its rate makes of a month
            minutes = MONTH_HISTORY_EVENTS / rate / 60
        shown = f"{minutes:.1f} min at {_n(rate)} events/s"
        if h["days"] != 30:
            shown += f", projected from {h['days']:g} days"
        if minutes > 3:
            shown += f" ({minutes / 3:.1f}× the target)"
        row(goal, shown, minutes <= 3)
    if rate:
        hours = PROVINCE_MONTH_EVENTS / rate / 3600
        row(
            f"projection: one province's full month ({PROVINCE_MONTH_EVENTS / 1e6:.0f} M events)"
            " at the backfill's rate",
            f"{hours:.1f} h",
            None,
        )
    shown = _s(p99) if p99 is not None else "– (no window timed at 100×)"
    if p99 is not None and p99 > 1:
        shown += f" ({p99:.1f}× the target)"
    if live.get("window_kafka_to_row_seconds"):
        shown += (
            f"; per window, p99 {_s(live['window_in_kafka_seconds']['p99'])} until its last "
            f"event was in Kafka, {_s(live['window_kafka_to_row_seconds']['p99'])} from there "
            "to its row"
        )
    row("p99 window close → row ≤ 1 s at 100× live", shown, None if p99 is None else p99 <= 1)
    peaks = [
        x.get("rss_mb_peak")
        for x in (
            r["slice"].get("ours", {}),
            bf,
            *(x for x in r.get("sustained", []) if x.get("impl") == "ours"),
        )
        if x.get("rss_mb_peak")
    ]
    row(
        "peak memory of a worker (largest of the slice, backfill and live runs)",
        f"{max(peaks):,.0f} MB" if peaks else "–",
        None,
    )
    at_least(
        "(ours ≥ 3× quixstreams, the earlier round's goal)", ratios.get("ours_to_quixstreams"), 3.0
    )
    row("(ours ÷ bare asyncpg writer)", _x(ratios.get("ours_to_bare_writer")), None)
    return out


def chart(r: dict[str, Any], png: Path) -> None:
    """Three panels: events/s on the slice; p99 latency and CPU by sustained load."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    sl = r["slice"]
    keys = [k for k in (*SLICE_ROWS, *IMPLS[1:]) if k in sl and "error" not in sl[k]]
    rates = [sl[k]["events_per_second"] for k in keys]
    colours = (
        ["#999999"] * 3 + ["#1f77b4", "#1f77b4", "#aec7e8"] + ["#ff7f0e", "#2ca02c", "#d62728"]
    )
    palette = dict(zip((*SLICE_ROWS, *IMPLS[1:]), colours, strict=True))
    ax = axes[0]
    labels = [
        NAMES[k].replace("**", "").split(" (")[0].replace(": stream worker", "") for k in keys
    ]
    ax.barh(labels, rates, color=[palette[k] for k in keys])
    ax.set_xscale("log")
    ax.set_xlim(right=max(rates) * 2.5)  # room for the largest bar's label
    ax.invert_yaxis()
    ax.set_xlabel("events/s (log scale)")
    ax.set_title(f"Same {r['inputs']['slice']['events']:,} events, Kafka → PostgreSQL")
    for y, value in enumerate(rates):
        ax.text(value, y, f" {value:,.0f}", va="center", fontsize=8)
    live = [x for x in r.get("sustained", []) if "error" not in x]
    loads = sorted({x["rate"] for x in live})
    for ax, metric, title in (
        (axes[1], lambda x: x["row_latency_seconds"]["p99"], "p99 window close → row (s)"),
        (axes[2], lambda x: x["cpu_percent"], "CPU of the process (% of one core)"),
    ):
        width = 0.8 / len(IMPLS)
        for n, impl in enumerate(IMPLS):
            values = []
            for load in loads:
                found = next((x for x in live if x["impl"] == impl and x["rate"] == load), None)
                value = metric(found) if found else None
                values.append(value if value is not None else 0)
            ax.bar(
                [i + n * width for i in range(len(loads))],
                values,
                width,
                label=impl,
                color=palette[impl],
            )
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(loads))])
        ax.set_xticklabels([f"{load:g}× province" for load in loads])
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"ioc-monitor stream pipeline vs ceilings and peers — {r['meta']['date'][:10]}, "
        f"{r['meta']['machine']}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def publish(path: Path) -> None:
    """Chart next to the JSON, README section regenerated (full runs only), table printed."""
    results = json.loads(path.read_text(encoding="utf-8"))
    png = path.with_suffix(".png")
    chart(results, png)
    section = tables(results)
    link = (
        f"\nJSON: [`{path.name}`](results/{path.name}) · chart: "
        f"[`{png.name}`](results/{png.name})\n\n![chart](results/{png.name})\n"
    )
    text = README.read_text(encoding="utf-8")
    if results["parameters"]["quick"]:  # a smoke test must not replace the published numbers
        print(f"(quick run: {README.name} keeps the last full run's section)")
    elif BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{BEGIN}\n{section}{link}{END}{tail}", encoding="utf-8")
    print(section)
    for what, error in failures(results):
        print(f"--- {what} failed:\n{error}\n")


def failures(r: dict[str, Any]) -> list[tuple[str, str]]:
    """Every failed step and its whole error text (the tables show one line of it)."""
    found = [
        (f"{part} / {NAMES[key].replace('**', '')}", row["error"])
        for part in ("slice", "faust_slice", "backfill")
        for key, row in r.get(part, {}).items()
        if isinstance(row, dict) and "error" in row
    ]
    found += [
        (f"sustained / {row['rate']:g}× {row['impl']}", row["error"])
        for row in r.get("sustained", [])
        if "error" in row
    ]
    if "error" in (r.get("profile") or {}):
        found.append(("profile", r["profile"]["error"]))
    return found


def _newest() -> Path:
    found = sorted(RESULTS.glob("bench-*.json"), key=lambda p: p.stat().st_mtime)
    full = [p for p in found if "-quick" not in p.name]
    if not (full or found):
        raise SystemExit("no bench/results/bench-*.json yet: run `make bench` first")
    return (full or found)[-1]


if __name__ == "__main__":
    publish(Path(sys.argv[1]) if len(sys.argv) > 1 else _newest())
