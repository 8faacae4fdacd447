#!/usr/bin/env python3
"""Renders the scrapes drive.py wrote into one PNG of the key Gatehouse metrics (rates between consecutive scrapes).

    render.py SCRAPES.json OUT.png
"""
import json, re, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

scrapes = json.load(open(sys.argv[1]))
LINE = re.compile(r'^(\w+)\{([^}]*)\} (\S+)$')

def parse(text):
    series = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            series.append((m.group(1), labels, float(m.group(3))))
    return series

parsed = [(s["t"], s["phase"], parse(s["text"])) for s in scrapes]
t0 = parsed[0][0]

def total(series, name, **want):
    return sum(v for n, l, v in series if n == name and all(l.get(k) == x for k, x in want.items()))

def rate(name, **want):
    xs, ys = [], []
    for (ta, _, a), (tb, _, b) in zip(parsed, parsed[1:]):
        xs.append(tb - t0)
        ys.append((total(b, name, **want) - total(a, name, **want)) / (tb - ta))
    return xs, ys

def quantile(q, name, **want):
    xs, ys = [], []
    for (ta, _, a), (tb, _, b) in zip(parsed, parsed[1:]):
        buckets = {}
        for n, l, v in b:
            if n == name + "_bucket" and all(l.get(k) == x for k, x in want.items()):
                buckets[l["le"]] = buckets.get(l["le"], 0) + v
        for n, l, v in a:
            if n == name + "_bucket" and all(l.get(k) == x for k, x in want.items()):
                buckets[l["le"]] = buckets.get(l["le"], 0) - v
        bounds = sorted(((float("inf") if k == "+Inf" else float(k)), c) for k, c in buckets.items())
        count = bounds[-1][1] if bounds else 0
        xs.append(tb - t0)
        ys.append(next((le for le, c in bounds if c >= q * count), float("nan")) * 1000 if count else float("nan"))
    return xs, ys

fig, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
fig.suptitle("Gatehouse, one silo: healthy traffic, then an upstream refusing connections (fallbacks), then an app over its quota")
ax = axes[0][0]
for outcome in ["ok", "rate_limited"]:
    ax.plot(*rate("gatehouse_requests_total", outcome=outcome), label=outcome)
ax.set_title("gatehouse_requests_total by outcome (req/s)"); ax.legend()
ax = axes[0][1]
ax.plot(*quantile(0.5, "gatehouse_request_duration_seconds"), label="p50 (bucket bound)")
ax.plot(*quantile(0.99, "gatehouse_request_duration_seconds"), label="p99 (bucket bound)")
ax.set_title("gatehouse_request_duration_seconds (ms)"); ax.set_yscale("log"); ax.legend()
ax = axes[1][0]
for result in ["hit", "miss", "bypass"]:
    ax.plot(*rate("gatehouse_cache_requests_total", result=result), label=result)
ax.set_title("gatehouse_cache_requests_total by result (req/s)"); ax.legend()
ax = axes[1][1]
ax.plot(*rate("gatehouse_fallbacks_total"), label="fallbacks")
ax.plot(*rate("gatehouse_upstream_requests_total", outcome="upstream_failed"), label="upstream calls failed")
ax.plot(*rate("gatehouse_rate_limited_total", scope="app"), label="refused by app quota")
ax.set_title("fallbacks, failed upstream calls, refusals (per s)"); ax.legend()
for row in axes:
    for a in row:
        a.grid(alpha=0.3)
        start = None
        for (t, phase, _), nxt in zip(parsed, parsed[1:] + [None]):
            if start is None or phase != start[1]:
                a.axvline(t - t0, color="grey", lw=0.8, ls=":")
                a.text(t - t0, a.get_ylim()[1], " " + phase, va="top", fontsize=8, color="grey")
                start = (t, phase)
for a in axes[1]:
    a.set_xlabel("seconds")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
print("written", sys.argv[2])
