package io.creditledger.config;

import java.time.Duration;
import java.util.List;

/**
 * {@code GET /metrics}.
 *
 * @param tokens bearer tokens that may read the metrics and nothing else (the admin token may too); empty: admin only
 * @param pollInterval how often the gauges read from the database (outbox rows, due resets) are refreshed
 */
public record MetricsSettings(List<String> tokens, Duration pollInterval) {
  @Override
  public String toString() {
    return "MetricsSettings[tokens=" + (tokens.isEmpty() ? "none" : "configured") + ", pollInterval=" + pollInterval
        + "]";
  }
}
