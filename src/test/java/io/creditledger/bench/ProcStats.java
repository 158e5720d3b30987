package io.creditledger.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads what Linux tells about processes and the host in {@code /proc}: CPU time of a process (from
 * {@code /proc/<pid>/stat}), its resident memory (from {@code /proc/<pid>/status}) and the host's busy time
 * (from {@code /proc/stat}). Every reader answers -1 when the file is not there (another OS, a process that
 * ended), so the harness prints n/a instead of failing.
 */
final class ProcStats {
  private static final long CLK_TCK = clockTicks();

  private ProcStats() {
  }

  static boolean available() {
    return Files.isReadable(Path.of("/proc/self/stat"));
  }

  /** Clock ticks per second of the stat files' CPU times ({@code getconf CLK_TCK}; 100 on Linux). */
  static long ticksPerSecond() {
    return CLK_TCK;
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return Long.parseLong(out);
    } catch (Exception e) {
      return 100;
    }
  }

  /** The fields of /proc/pid/stat after the command name; index 0 is field 3 (state). Null when gone. */
  private static String[] statFields(long pid) {
    return statFields(Long.toString(pid));
  }

  /** The same for /proc/{@code path}/stat, e.g. {@code "123/task/456"} for a thread. */
  private static String[] statFields(String path) {
    try {
      String s = Files.readString(Path.of("/proc/" + path + "/stat"));
      return s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** User + system CPU ticks of the process itself; with {@code children}, also of its reaped children. */
  static long cpuTicks(long pid, boolean children) {
    String[] f = statFields(pid);
    if (f == null) {
      return -1;
    }
    long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    if (children) {
      t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }
    return t;
  }

  static long parentOf(long pid) {
    String[] f = statFields(pid);
    return f == null ? -1 : Long.parseLong(f[1]);
  }

  /**
   * CPU ticks of a process tree that forks short-lived workers, like a PostgreSQL postmaster: the parent with
   * its reaped children, plus its live children. A child that ends moves its time into the parent's reaped
   * count, so the sum never goes backwards.
   */
  static long treeCpuTicks(long pid) {
    long own = cpuTicks(pid, true);
    if (own < 0) {
      return -1;
    }
    long sum = own;
    for (long child : childrenOf(pid)) {
      long c = cpuTicks(child, false);
      if (c > 0) {
        sum += c;
      }
    }
    return sum;
  }

  static List<Long> childrenOf(long pid) {
    List<Long> out = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs.forEach(p -> {
        String name = p.getFileName().toString();
        if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
          long child = Long.parseLong(name);
          if (parentOf(child) == pid) {
            out.add(child);
          }
        }
      });
    } catch (IOException | RuntimeException e) {
      // the process list moved under us: what was read is enough
    }
    return out;
  }

  /**
   * CPU ticks of the JIT compiler threads of a JVM ({@code C1 CompilerThre...}, {@code C2 CompilerThre...}, by
   * their names in /proc/pid/task/tid/comm), or -1 when they cannot be read.
   */
  static long jitCpuTicks(long pid) {
    long sum = 0;
    boolean found = false;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String comm;
        try {
          comm = Files.readString(task.resolve("comm")).trim();
        } catch (IOException e) {
          continue; // the thread ended
        }
        if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
          String[] f = statFields(pid + "/task/" + task.getFileName());
          if (f != null) {
            sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            found = true;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return found ? sum : -1;
  }

  /** Resident set size in kB (VmRSS), or -1. */
  static long rssKb(long pid) {
    return statusField(pid, "VmRSS:");
  }

  /** Peak resident set size since the process started, in kB (VmHWM), or -1. */
  static long peakRssKb(long pid) {
    return statusField(pid, "VmHWM:");
  }

  private static long statusField(long pid, String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(name)) {
          return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  static String command(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** {busy, total} jiffies of all CPUs since boot (busy = total - idle - iowait), or null. */
  static long[] hostTicks() {
    try {
      String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * TCP connections on this host with {@code port} at one end that the kernel still lists (open, or closed less
   * than a minute ago: TIME_WAIT), counted once per connection by the other end's port; -1 when unreadable.
   * Over a short run it tells how many connections a client opened to a local server.
   */
  static int tcpConnectionsTo(int port) {
    java.util.Set<Integer> peers = new java.util.HashSet<>();
    boolean read = false;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        List<String> lines = Files.readAllLines(Path.of(table));
        read = true;
        for (String line : lines.subList(1, lines.size())) {
          String[] f = line.trim().split("\\s+");
          int local = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
          int remote = Integer.parseInt(f[2].substring(f[2].lastIndexOf(':') + 1), 16);
          if (f[3].equals("0A")) {
            continue; // LISTEN
          }
          if (local == port) {
            peers.add(remote);
          } else if (remote == port) {
            peers.add(local);
          }
        }
      } catch (IOException | RuntimeException e) {
        // no such table
      }
    }
    return read ? peers.size() : -1;
  }
}
