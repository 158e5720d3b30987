package io.creditledger.domain;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/**
 * A user's balance as the API shows it, computed from the grants: what remains on active grants (by type),
 * what is owed (negative balances, on any grant: expiry does not forgive debt), and the principals of the
 * active grants.
 */
public final class BalanceView {
  private BalanceView() {
  }

  public static JsonObject of(List<Grant> grants, Instant now, long usageThisCycle, Instant nextQuotaReset) {
    long[] remaining = new long[GrantType.values().length];
    long[] principals = new long[GrantType.values().length];
    long totalRemaining = 0;
    long totalDebt = 0;
    for (Grant g : grants) {
      if (g.balance() < 0) {
        totalDebt -= g.balance();
      }
      if (g.activeAt(now)) {
        principals[g.type().ordinal()] += g.principal();
        if (g.balance() > 0) {
          remaining[g.type().ordinal()] += g.balance();
          totalRemaining += g.balance();
        }
      }
    }
    JsonObject breakdown = new JsonObject();
    JsonObject principal = new JsonObject();
    for (GrantType t : GrantType.values()) {
      breakdown.put(t.wire(), remaining[t.ordinal()]);
      principal.put(t.wire(), principals[t.ordinal()]);
    }
    return new JsonObject()
        .put("totalRemaining", totalRemaining)
        .put("totalDebt", totalDebt)
        .put("netBalance", totalRemaining - totalDebt)
        .put("breakdown", breakdown)
        .put("principals", principal)
        .put("usageThisCycle", usageThisCycle)
        .put("nextQuotaReset", nextQuotaReset.toString());
  }
}
