package io.creditledger.bench;

import java.time.Instant;

/**
 * What the machine did during one measured stretch: CPU seconds of the service, of the database server and of
 * this JVM (the load generator, and the fake Stripe where there is one), the service's peak resident memory
 * (sampled every 100 ms), and how busy all the host's cores were. Values that cannot be read are NaN.
 */
final class Window implements AutoCloseable {
  private final long servicePid;
  private final DbServer db;
  private volatile long extraPid;
  private final long self = ProcessHandle.current().pid();
  private final long startNanos = System.nanoTime();
  private final Instant startedAt = Instant.now();
  private final long serviceStart;
  private final long dbStart;
  private final long selfStart;
  private final long[] hostStart;
  private final Thread sampler;
  private volatile boolean running = true;
  private volatile long peakRssKb = -1;
  private volatile long extraLast = -1;
  private volatile long extraStart = -1;

  private long serviceEnd;
  private long dbEnd;
  private long selfEnd;
  private long[] hostEnd;
  private long endNanos;

  /** When the window opened (wall clock, for what PostgreSQL timestamps). */
  Instant startedAt() {
    return startedAt;
  }

  /**
   * @param servicePid the service process, or -1 when none runs (a pgbench anchor)
   * @param extraPid another process to follow (pgbench), or -1; its CPU is sampled until it ends
   */
  Window(long servicePid, DbServer db, long extraPid) {
    this.servicePid = servicePid;
    this.db = db;
    this.extraPid = extraPid;
    serviceStart = servicePid < 0 ? -1 : ProcStats.cpuTicks(servicePid, false);
    dbStart = db.cpuTicks();
    selfStart = ProcStats.cpuTicks(self, false);
    hostStart = ProcStats.hostTicks();
    if (extraPid >= 0) {
      extraStart = ProcStats.cpuTicks(extraPid, false);
    }
    sampler = new Thread(this::sample, "bench-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  /** Follows {@code pid} (started after the window opened) for its CPU time. */
  void follow(long pid) {
    extraStart = ProcStats.cpuTicks(pid, false);
    extraLast = extraStart;
    extraPid = pid;
  }

  private void sample() {
    while (running) {
      if (servicePid >= 0) {
        long rss = ProcStats.rssKb(servicePid);
        if (rss > peakRssKb) {
          peakRssKb = rss;
        }
      }
      long followed = extraPid;
      if (followed >= 0) {
        long t = ProcStats.cpuTicks(followed, false);
        if (t >= 0) {
          extraLast = t;
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  Window stop() {
    if (!running) {
      return this;
    }
    endNanos = System.nanoTime();
    serviceEnd = servicePid < 0 ? -1 : ProcStats.cpuTicks(servicePid, false);
    if (servicePid >= 0) {
      long rss = ProcStats.rssKb(servicePid);
      if (rss > peakRssKb) {
        peakRssKb = rss;
      }
    }
    dbEnd = db.cpuTicks();
    selfEnd = ProcStats.cpuTicks(self, false);
    hostEnd = ProcStats.hostTicks();
    running = false;
    sampler.interrupt();
    return this;
  }

  @Override
  public void close() {
    stop();
  }

  double seconds() {
    return (endNanos - startNanos) / 1e9;
  }

  private static double delta(long a, long b) {
    return a < 0 || b < 0 ? Double.NaN : (double) (b - a) / ProcStats.ticksPerSecond();
  }

  double serviceCpuSeconds() {
    return delta(serviceStart, serviceEnd);
  }

  double dbCpuSeconds() {
    return delta(dbStart, dbEnd);
  }

  double selfCpuSeconds() {
    return delta(selfStart, selfEnd);
  }

  /** CPU seconds of the followed extra process (sampled, so the last 100 ms before it ended may be missing). */
  double extraCpuSeconds() {
    return delta(extraStart, extraLast);
  }

  double peakRssMb() {
    return peakRssKb < 0 ? Double.NaN : peakRssKb / 1024.0;
  }

  /**
   * CPU seconds that the host's cores spent on anything but the processes followed here (the service, the
   * database server, this JVM and the followed extra process): other users of the machine, the kernel's own
   * work. NaN when one of them could not be read.
   */
  double otherCpuSeconds() {
    if (hostStart == null || hostEnd == null) {
      return Double.NaN;
    }
    double busy = (double) (hostEnd[0] - hostStart[0]) / ProcStats.ticksPerSecond();
    double ours = dbCpuSeconds() + selfCpuSeconds();
    if (servicePid >= 0 && servicePid != self) {
      ours += serviceCpuSeconds();
    }
    if (extraPid >= 0) {
      ours += extraCpuSeconds();
    }
    return Math.max(0, busy - ours);
  }

  /** Busy share of all cores, 0-100 (so 50 on a 2-core machine is one core's worth). */
  double hostBusyPercent() {
    if (hostStart == null || hostEnd == null || hostEnd[1] == hostStart[1]) {
      return Double.NaN;
    }
    return 100.0 * (hostEnd[0] - hostStart[0]) / (hostEnd[1] - hostStart[1]);
  }
}
