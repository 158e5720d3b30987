#!/usr/bin/env python3
"""Aggregates a JFR recording's execution samples: self time by method and by package, and the share of samples
whose stack passes through each of the service's per-request costs (HTTP, auth, access log, JSON, event bus, SQL).

  bench/jfr-top.py RECORDING.jfr [--from HH:MM:SS --seconds N] [--top 25] [--threads PREFIX]

--from/--seconds keep only the samples of the measured window (the times the bench prints, UTC like JFR's).
Needs the JDK's `jfr` tool on the PATH. Only Java threads running Java code are sampled (jdk.ExecutionSample):
GC, the JIT and time in the kernel (socket reads and writes, epoll) are not in these numbers.
"""
import argparse
import collections
import re
import signal
import subprocess
import sys

# Where a sample's time goes, by the first matching frame from the top of its stack; order matters.
CATEGORIES = [
    ("access log", [r"^io\.creditledger\.http\.AccessLog", r"^ch\.qos\.logback", r"^org\.slf4j"]),
    ("auth", [r"^io\.creditledger\.http\.BearerAuth", r"^io\.creditledger\.auth\.", r"^sun\.security\.provider\.SHA",
              r"^java\.security\.MessageDigest"]),
    ("JSON", [r"^com\.fasterxml\.jackson", r"^io\.vertx\.core\.json", r"^io\.creditledger\.wire\.Json"]),
    ("event bus", [r"^io\.vertx\.core\.eventbus", r"^io\.vertx\.core\.impl\.eventbus"]),
    ("SQL client", [r"^io\.vertx\.pgclient", r"^io\.vertx\.sqlclient", r"^io\.creditledger\.store\.",
                    r"^io\.creditledger\.db\."]),
    ("service code", [r"^io\.creditledger\."]),
    ("vert.x web router", [r"^io\.vertx\.ext\.web"]),
    ("HTTP server (vert.x core http)", [r"^io\.vertx\.core\.http", r"^io\.netty\.handler\.codec\.http"]),
    ("netty / event loop", [r"^io\.netty", r"^io\.vertx\.core"]),
]


def parse(recording, threads):
    out = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "96", recording],
                         check=True, capture_output=True, text=True).stdout
    samples = []
    time = thread = None
    frames = None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("startTime = "):
            time = s.split("= ", 1)[1]
        elif s.startswith("sampledThread = "):
            thread = s.split('"')[1]
        elif s == "stackTrace = [":
            frames = []
        elif frames is not None and s == "]":
            if threads is None or thread.startswith(threads):
                samples.append((time, thread, frames))
            frames = None
        elif frames is not None and s != "...":
            frames.append(re.sub(r"\s+line:.*$", "", s))
    return samples


def method_of(frame):
    return frame.split("(", 1)[0]


def package_of(frame):
    parts = method_of(frame).split(".")
    # drop method and class; keep up to four package levels
    pkg = [p for p in parts[:-2]]
    return ".".join(pkg[:4]) if pkg else "(default)"


def category_of(frames):
    for frame in frames:
        name = method_of(frame)
        for category, patterns in CATEGORIES:
            if any(re.search(p, name) for p in patterns):
                return category
    return "JDK / other"


def seconds(t):
    h, m, s = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def table(title, counter, total, top):
    print(f"\n### {title}\n")
    print("| % of samples | samples | |")
    print("|---:|---:|---|")
    for name, n in counter.most_common(top):
        print(f"| {100.0 * n / total:.1f} | {n} | `{name}` |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("--from", dest="start")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--threads", help="only threads whose name starts with this")
    a = ap.parse_args()
    samples = parse(a.recording, a.threads)
    if a.start:
        lo = seconds(a.start)
        hi = lo + (a.seconds or 1e9)
        samples = [x for x in samples if lo <= seconds(x[0]) < hi]
    total = len(samples)
    if total == 0:
        sys.exit("no execution samples")
    by_thread = collections.Counter(re.sub(r"-\d+$", "-N", t) for _, t, _ in samples)
    self_method = collections.Counter(method_of(f[0]) for _, _, f in samples if f)
    self_package = collections.Counter(package_of(f[0]) for _, _, f in samples if f)
    by_category = collections.Counter(category_of(f) for _, _, f in samples)
    inclusive = collections.Counter()
    for _, _, f in samples:
        for m in {method_of(x) for x in f if x.startswith("io.creditledger.")}:
            inclusive[m] += 1
    print(f"{total} execution samples" + (f" from {a.start} for {a.seconds} s" if a.start else ""))
    table("Samples by thread", by_thread, total, 10)
    table("Where the time goes (first matching frame from the top of the stack)", by_category, total, 20)
    table("Self time by method (top frame)", self_method, total, a.top)
    table("Self time by package (top frame)", self_package, total, a.top)
    table("Total time of the service's own methods (on the stack)", inclusive, total, a.top)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    main()
