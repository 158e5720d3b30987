package io.creditledger.bench;

import java.util.List;
import java.util.Locale;

/**
 * One line of the results table. {@code kind} is {@code service} (the ledger measured over HTTP or its own
 * work), {@code pgbench} (the anchor: the same SQL straight from pgbench) or {@code ratio} (service ÷ anchor,
 * for throughput and each latency percentile). Missing values are NaN and print as n/a.
 */
record Row(String scenario, String kind, String what, long count, double seconds, double throughput,
           double p50, double p99, double p999, long errors, long refused402, double serviceCpu,
           double peakRssMb, double dbCpu, double clientCpu, double otherCpu, double hostBusy, String note) {

  static final List<String> HEADER = List.of("scenario", "run", "count", "seconds", "throughput/s", "p50 ms",
      "p99 ms", "p99.9 ms", "errors", "402s", "service CPU s (% of a core)", "service peak RSS MB", "db CPU s",
      "client CPU s", "other CPU s", "host busy %");

  boolean isRatio() {
    return kind.equals("ratio");
  }

  static Row ratio(Row service, Row anchor) {
    return new Row(service.scenario(), "ratio", "service ÷ pgbench", 0, Double.NaN,
        service.throughput() / anchor.throughput(), service.p50() / anchor.p50(), service.p99() / anchor.p99(),
        service.p999() / anchor.p999(), 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
        "latency columns: service latency ÷ pgbench latency");
  }

  List<String> cells() {
    if (isRatio()) {
      return List.of(scenario, "ratio (service ÷ pgbench)", "", "", times(throughput), times(p50), times(p99),
          times(p999), "", "", "", "", "", "", "", "");
    }
    String cpu = Double.isNaN(serviceCpu) ? "n/a"
        : num(serviceCpu, 1) + " (" + num(100 * serviceCpu / seconds, 0) + "%)";
    return List.of(scenario, kind.equals("pgbench") ? "pgbench anchor" : "service", count + " " + what,
        num(seconds, 1), num(throughput, 0), num(p50, 2), num(p99, 2), num(p999, 2), Long.toString(errors),
        Long.toString(refused402), cpu, num(peakRssMb, 0), num(dbCpu, 1), num(clientCpu, 1), num(otherCpu, 1), num(hostBusy, 0));
  }

  static String num(double v, int decimals) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return "n/a";
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  static String times(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return "n/a";
    }
    return String.format(Locale.ROOT, v >= 10 ? "%.0f×" : "%.2f×", v);
  }

  static String table(List<Row> rows) {
    StringBuilder out = new StringBuilder();
    out.append("| ").append(String.join(" | ", HEADER)).append(" |\n");
    out.append("|").append("---|".repeat(HEADER.size())).append("\n");
    for (Row r : rows) {
      out.append("| ").append(String.join(" | ", r.cells())).append(" |\n");
    }
    return out.toString();
  }
}
