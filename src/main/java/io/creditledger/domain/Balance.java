package io.creditledger.domain;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** A user's balance: credits left on active grants, debt on any grant, and their breakdown by grant type. */
public record Balance(long totalRemaining, long totalDebt, long netBalance, Map<String, Long> breakdown,
                      Map<String, Long> principals, long usageThisCycle, Instant nextQuotaReset) {

  public static Balance fromJson(JsonObject j) {
    return new Balance(j.getLong("totalRemaining"), j.getLong("totalDebt"), j.getLong("netBalance"),
        longs(j.getJsonObject("breakdown")), longs(j.getJsonObject("principals")), j.getLong("usageThisCycle"),
        Instant.parse(j.getString("nextQuotaReset")));
  }

  private static Map<String, Long> longs(JsonObject j) {
    Map<String, Long> m = new HashMap<>();
    j.forEach(e -> m.put(e.getKey(), ((Number) e.getValue()).longValue()));
    return Map.copyOf(m);
  }
}
