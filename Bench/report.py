#!/usr/bin/env python3
"""Turns Bench/run.sh's results.jsonl into the results table of Bench/README.md (between the
`<!-- results:begin -->` and `<!-- results:end -->` markers). Medians over the runs of each
scenario; every run's figure is listed too, so the noise is visible."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("results")
p.add_argument("readme")
p.add_argument("--elapsed", type=int, default=0)
p.add_argument("--repeat", type=int, default=0)
p.add_argument("--duration", type=float, default=0)
p.add_argument("--load", default="")
a = p.parse_args()

rows = [json.loads(l) for l in open(a.results) if l.strip()]


def runs(scenario):
    return [r for r in rows if r.get("scenario") == scenario]


def values(scenario, key):
    return [r[key] for r in runs(scenario) if isinstance(r.get(key), (int, float)) and not r.get("failed")]


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, spec="{:,.0f}"):
    return "—" if x is None else spec.format(x)


def listing(xs, spec="{:,.0f}"):
    return " / ".join(spec.format(x) for x in xs) if xs else "—"


def failures(*scenarios):
    bad = [r for s in scenarios for r in runs(s) if r.get("failed") or r.get("exit", 0) != 0]
    return f" **{len(bad)} run(s) FAILED**" if bad else ""


def command(scenario):
    rs = runs(scenario)
    return f"`{rs[0]['command']}`" if rs else "—"


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


table = ["| | target | result (median) | every run | verdict | reproduce |", "|---|---|---|---|---|---|"]

# S1
b1, s1 = values("S1-broker", "msgs_per_s"), values("S1-baseline", "msgs_per_s")
pairs = [(s["msgs_per_s"], b["msgs_per_s"]) for s, b in zip(runs("S1-broker"), runs("S1-baseline"))
         if s.get("msgs_per_s") and b.get("msgs_per_s")]
ratios = [x / y for x, y in pairs]
lost = sum(r.get("lost", 0) + r.get("duplicates", 0) for r in runs("S1-broker") + runs("S1-baseline"))
ratio = med(ratios)
cpu_b = med(values("S1-broker", "cpu_us_per_event"))
cpu_r = med(values("S1-broker", "redis_cpu_us_per_msg"))
cpu_l = med(values("S1-baseline", "cpu_us_per_event"))
cpu_lr = med(values("S1-baseline", "redis_cpu_us_per_msg"))
cpu_note = (f"; CPU per message: broker {fmt(cpu_b, '{:.0f}')} µs + its Redis {fmt(cpu_r, '{:.0f}')} µs, "
            f"Baseline {fmt(cpu_l, '{:.0f}')} µs + its Redis {fmt(cpu_lr, '{:.0f}')} µs")
ok1 = None if not b1 or ratio is None else (med(b1) >= 25000 and ratio >= 0.6 and lost == 0)
table.append(f"| **S1** throughput (100 agents, 1,000 assigned conversations, max rate) | ≥ 25,000 msgs/s and ≥ 0.6× Baseline, zero loss "
             f"| broker **{fmt(med(b1))} msgs/s**; Baseline {fmt(med(s1))} msgs/s; ratio **{fmt(ratio, '{:.2f}')}×**; lost+dup {lost}{cpu_note}{failures('S1-broker', 'S1-baseline')} "
             f"| broker {listing(b1)}; Baseline {listing(s1)}; ratios {listing(ratios, '{:.2f}')} | {verdict(ok1)} "
             f"| {command('S1-broker')}; Baseline: {command('S1-baseline')} |")

# S2
p50, p99, p999 = values("S2-broker", "latency_p50_ms"), values("S2-broker", "latency_p99_ms"), values("S2-broker", "latency_p999_ms")
rate2 = values("S2-broker", "msgs_per_s")
bp99 = values("S2-baseline", "latency_p99_ms")
ok2 = None if not p99 else med(p99) <= 5
table.append(f"| **S2** latency (S1 at 5,000 msgs/s, webhook sent → `message` at the agent) | p99 ≤ 5 ms "
             f"| p50 **{fmt(med(p50), '{:.2f}')} ms**, p99 **{fmt(med(p99), '{:.2f}')} ms**, p99.9 {fmt(med(p999), '{:.2f}')} ms at {fmt(med(rate2))} msgs/s; Baseline p99 {fmt(med(bp99), '{:.2f}')} ms{failures('S2-broker', 'S2-baseline')} "
             f"| p99 {listing(p99, '{:.2f}')} ms | {verdict(ok2)} | {command('S2-broker')} |")

# S3
c3 = values("S3", "conversations_per_s")
oa50, oa99 = values("S3", "offer_to_accept_p50_ms"), values("S3", "offer_to_accept_p99_ms")
wo50, wo99 = values("S3", "webhook_to_offer_p50_ms"), values("S3", "webhook_to_offer_p99_ms")
ok3 = None if not c3 else med(c3) >= 5000
table.append(f"| **S3** routing (new conversations: ingest → enqueue → offer → accept → close; 1,000 agents, 20 skills, capacities 1–5) | ≥ 5,000 conversations/s "
             f"| **{fmt(med(c3))} conversations/s**; offer → accept ack p50 {fmt(med(oa50), '{:.1f}')} ms, p99 {fmt(med(oa99), '{:.1f}')} ms; webhook → offer p50 {fmt(med(wo50), '{:.1f}')} ms, p99 {fmt(med(wo99), '{:.1f}')} ms{failures('S3')} "
             f"| {listing(c3)} | {verdict(ok3)} | {command('S3')} |")

# S4
s4 = runs("S4")
if s4:
    r = s4[0]
    per = r.get("rss_per_conn_bytes")
    n = r.get("open", 0)
    note = r.get("limit_note", "")
    ok4 = n >= 100000 and per is not None and per <= 15 * 1024
    table.append(f"| **S4** idle connections (web visitors after `hello`, plus 100 agents) | ≥ 100,000 at ≤ 15 KB RSS each "
                 f"| **{n:,} open**, **{fmt(per / 1024 if per else None, '{:.1f}')} KB** broker RSS per connection"
                 f"{' — ' + note if note else ''}{failures('S4')} | one run | {verdict(ok4)}{' (RSS/conn met; count capped by the fd limit)' if not ok4 and per and per <= 15 * 1024 and note else ''} | {command('S4')} |")

# S5
u5, ub5 = values("S5-broker", "cpu_us_per_event"), values("S5-baseline", "cpu_us_per_event")
ok5 = None if not u5 else med(u5) <= 1.5
table.append(f"| **S5** fan-out cost (10 agents × 100 consoles, 300 msgs/s → 30,000 events/s) | ≤ 1.5 µs broker CPU per delivered event "
             f"| **{fmt(med(u5), '{:.2f}')} µs/event** (all broker CPU, inbound work included); Baseline {fmt(med(ub5), '{:.2f}')} µs/event{failures('S5-broker', 'S5-baseline')} "
             f"| {listing(u5, '{:.2f}')} | {verdict(ok5)} | {command('S5-broker')} |")

# S6
sc, cm = values("S1-broker", "redis_scripts_per_msg"), values("S1-broker", "redis_commands_per_msg")
top = next((r.get("redis_top") for r in runs("S1-broker") if r.get("redis_top")), "")
ok6 = None if not sc else abs(med(sc) - 1.0) < 0.01
table.append(f"| **S6** Redis round trips per inbound message (S1 broker runs, `INFO commandstats` deltas) | 1 script call "
             f"| **{fmt(med(sc), '{:.2f}')} script calls/msg**; {fmt(med(cm), '{:.1f}')} commands/msg counting those inside the script ({top}) "
             f"| {listing(sc, '{:.2f}')} | {verdict(ok6)} | (from S1) |")

# S7: the S1 harness with WeChat safe-mode callbacks; ratio to S1's broker in the same run.
w7 = values("S7-broker", "msgs_per_s")
pairs7 = [(w["msgs_per_s"], s["msgs_per_s"]) for w, s in zip(runs("S7-broker"), runs("S1-broker"))
          if w.get("msgs_per_s") and s.get("msgs_per_s")]
ratios7 = [x / y for x, y in pairs7]
lost7 = sum(r.get("lost", 0) + r.get("duplicates", 0) for r in runs("S7-broker"))
cpu7 = med(values("S7-broker", "cpu_us_per_event"))
ok7 = None if not ratios7 else (med(ratios7) >= 0.8 and lost7 == 0)
table.append(f"| **S7** WeChat safe mode (S1 with AES-encrypted, signed Official Account callbacks) | ≥ 0.8× S1, zero loss "
             f"| **{fmt(med(w7))} msgs/s**; ratio to S1 **{fmt(med(ratios7), '{:.2f}')}×**; broker CPU per message {fmt(cpu7, '{:.0f}')} µs (S1 {fmt(cpu_b, '{:.0f}')} µs); lost+dup {lost7}{failures('S7-broker')} "
             f"| {listing(w7)}; ratios {listing(ratios7, '{:.2f}')} | {verdict(ok7)} | {command('S7-broker')} |")

# S8: call storms (issue 10). Met when every run sustained the offered 500 calls/s (within 5 %),
# lost and duplicated nothing, and webhook → offer p99 stayed under a second (a caller on hold).
c8 = values("S8", "conversations_per_s")
wo8_50, wo8_99 = values("S8", "webhook_to_offer_p50_ms"), values("S8", "webhook_to_offer_p99_ms")
lost8 = sum(r.get("lost", 0) + r.get("duplicates", 0) + r.get("errors", 0) for r in runs("S8"))
ok8 = None if not c8 else (min(c8) >= 475 and lost8 == 0 and max(wo8_99) < 1000 and not failures("S8"))
table.append(f"| **S8** call storm (Twilio incoming calls: queued, offered, accepted with the bridge queued, closed; 200 agents × 1 call, 10 skills) | 500 calls/s, zero lost, offer p99 < 1 s "
             f"| **{fmt(med(c8))} calls/s**; webhook → offer p50 {fmt(med(wo8_50), '{:.1f}')} ms, p99 **{fmt(med(wo8_99), '{:.1f}')} ms**; lost+dup+errors {lost8}{failures('S8')} "
             f"| {listing(c8)}; p99 {listing(wo8_99, '{:.1f}')} ms | {verdict(ok8)} | {command('S8')} |")


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


commit = sh("git", "rev-parse", "--short", "HEAD")
dirty = sh("git", "status", "--porcelain", "--untracked-files=no")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
header = [
    f"Measured {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} at commit `{commit}`"
    f"{' (with uncommitted changes in the tree)' if dirty else ''} by `make bench` ({a.elapsed} s in all).",
    f"Machine: {os.cpu_count()} cores ({model}), {int(mem) / 1048576:.1f} GiB memory, Linux {platform.release()}; "
    f"load average at the start {a.load or '?'}. Broker, Redis, Baseline and LoadGen share the cores.",
    f"Each figure is the median of {a.repeat} runs of {a.duration:g} s unless the row says otherwise.",
    "",
]
block = "\n".join(header + table)

text = open(a.readme).read()
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    text = head + begin + "\n" + block + "\n" + end + tail
else:
    text += f"\n{begin}\n{block}\n{end}\n"
open(a.readme, "w").write(text)
print(block)
