#!/usr/bin/env python3
"""Aggregates a `perf record -g` profile of the service (kernel time included, which JFR does not sample): the
share of samples per category, by the first matching frame from the leaf. Java frames are named through the
/tmp/perf-<pid>.map the JVM writes with -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit.

  bench/perf-top.py perf.data
"""
import collections
import re
import signal
import subprocess
import sys

CATEGORIES = [
    ("kernel: socket write (incl. loopback delivery to the peer)", [r"sock_write_iter|tcp_sendmsg|__sys_sendto|sock_sendmsg"]),
    ("kernel: socket read", [r"sock_read_iter|tcp_recvmsg|__sys_recvfrom|sock_recvmsg"]),
    ("kernel: file write (logs)", [r"ext4_|vfs_write"]),
    ("kernel: epoll / scheduling (idle, wake-ups)", [r"do_epoll_wait|schedule|futex|eventfd"]),
    ("kernel: other", [r"^\[k\]"]),
    ("access log", [r"io\.creditledger\.http\.AccessLog", r"ch\.qos\.logback", r"org\.slf4j"]),
    ("auth", [r"io\.creditledger\.http\.BearerAuth", r"io\.creditledger\.auth\.", r"sun\.security\.provider\.SHA"]),
    ("JSON", [r"com\.fasterxml\.jackson", r"io\.vertx\.core\.json", r"io\.creditledger\.wire\.Json"]),
    ("event bus", [r"io\.vertx\.core\.eventbus"]),
    ("SQL client", [r"io\.vertx\.pgclient", r"io\.vertx\.sqlclient", r"io\.creditledger\.store\.", r"io\.creditledger\.db\."]),
    ("service code", [r"io\.creditledger\."]),
    ("vert.x web router", [r"io\.vertx\.ext\.web"]),
    ("HTTP server", [r"io\.vertx\.core\.http", r"io\.netty\.handler\.codec\.http"]),
    ("netty / vert.x core", [r"io\.netty", r"io\.vertx\.core"]),
    ("JVM (GC, JIT, interpreter, stubs)", [r"libjvm|Interpreter|StubRoutines|vtable|itable|G1|C2|Compile"]),
]


def main():
    out = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "comm,ip,sym,dso"], capture_output=True,
                         text=True).stdout
    counts = collections.Counter()
    threads = collections.Counter()
    total = 0
    for block in out.split("\n\n"):
        lines = [l.strip() for l in block.strip().splitlines()]
        if len(lines) < 2:
            continue
        total += 1
        threads[re.sub(r"-\d+$", "-N", lines[0].split()[0])] += 1
        frames = []
        for l in lines[1:]:
            parts = l.split(None, 1)
            sym = parts[1] if len(parts) > 1 else ""
            frames.append(("[k] " if "kernel.kallsyms" in sym else "") + sym)
        counts[categorize(frames)] += 1
    print(f"{total} samples\n")
    print("| % of samples | category |\n|---:|---|")
    for c, n in counts.most_common():
        print(f"| {100.0 * n / total:.1f} | {c} |")
    print("\n| % of samples | thread |\n|---:|---|")
    for t, n in threads.most_common(8):
        print(f"| {100.0 * n / total:.1f} | {t} |")


def categorize(frames):
    kernel = [f for f in frames if f.startswith("[k]")]
    if frames and frames[0].startswith("[k]"):
        for category, patterns in CATEGORIES[:5]:
            if any(re.search(p, f) for f in kernel for p in patterns):
                return category
    for f in frames:
        for category, patterns in CATEGORIES[5:]:
            if any(re.search(p, f) for p in patterns):
                return category
    return "other (libc, unresolved)"


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    main()
