package io.creditledger.support;

/** Reads samples out of {@code GET /metrics}'s Prometheus text format. */
public final class Prometheus {
  private Prometheus() {
  }

  /** The value of the sample {@code series} (name and labels as Prometheus writes them), or null. */
  public static Double value(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    return null;
  }
}
