package io.creditledger.domain;

import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A user's balance, computed from the grants: what remains on active grants (by type), what is owed (negative
 * balances, on any grant: expiry does not forgive debt), and the principals of the active grants; {@code held} is
 * what active holds reserve, and {@code available} what the user may spend without going into debt
 * ({@code netBalance - held}, negative when holds reserve more than the user has).
 */
public record Balance(long totalRemaining, long totalDebt, long netBalance, long held, long available,
                      Map<GrantType, Long> breakdown, Map<GrantType, Long> principals, long usageThisCycle,
                      Instant nextQuotaReset) {

  public static Balance of(List<Grant> grants, long held, Instant now, long usageThisCycle, Instant nextQuotaReset) {
    Map<GrantType, Long> remaining = zeroes();
    Map<GrantType, Long> principals = zeroes();
    long totalRemaining = 0;
    long totalDebt = 0;
    for (Grant g : grants) {
      if (g.balance() < 0) {
        totalDebt -= g.balance();
      }
      if (g.activeAt(now)) {
        principals.merge(g.type(), g.principal(), Long::sum);
        if (g.balance() > 0) {
          remaining.merge(g.type(), g.balance(), Long::sum);
          totalRemaining += g.balance();
        }
      }
    }
    long net = totalRemaining - totalDebt;
    return new Balance(totalRemaining, totalDebt, net, held, net - held, Collections.unmodifiableMap(remaining),
        Collections.unmodifiableMap(principals), usageThisCycle, nextQuotaReset);
  }

  /**
   * Every grant type a user can hold, at zero: a balance always lists them; {@code organization} is listed once an
   * org holds such a grant (so a user's balance reads as it did before orgs existed).
   */
  public static Map<GrantType, Long> zeroes() {
    Map<GrantType, Long> m = new EnumMap<>(GrantType.class);
    for (GrantType t : GrantType.values()) {
      if (t != GrantType.ORGANIZATION) {
        m.put(t, 0L);
      }
    }
    return m;
  }
}
