package io.creditledger.config;

import io.creditledger.domain.Accounts;
import io.creditledger.domain.GrantType;
import io.creditledger.time.ResetCycle;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The validated configuration of one service instance. Built by {@link ConfigLoader} from
 * {@code conf/config.json} and the environment; a host application may build its own through the loader
 * with an explicit settings map. Secrets are kept out of {@link #toString()}.
 *
 * @param databaseUrl null means: start the embedded PostgreSQL under {@code dataDir}
 * @param apiTokens the service tokens (the first is current, others still accepted); empty means: use (or
 *                  generate) the token kept under {@code dataDir}
 * @param adminTokens the admin tokens, like {@code apiTokens}
 * @param verticleInstances how many HTTP and ledger verticle instances to deploy
 * @param eventLoops the Vert.x event loops of the standalone service
 * @param writes how balance-changing operations are batched
 * @param maxDebt the most a user may owe after a consumption, in credits
 * @param grantPriorities consumption priority per grant type (lower is spent first)
 * @param freeGrantCredits the free grant each cycle (and at sign-up); 0 for none
 * @param referralLimit how many referrals one referrer may be credited for
 * @param maxCreditsPerOperation the largest amount a single grant, consumption or referral may move
 * @param apiKeySecret the vault's 32-byte secret; null: generated under {@code dataDir} for the embedded
 *     database, vault disabled otherwise
 * @param apiKeyTypes the kinds of API key the vault stores
 */
public record LedgerConfig(
    String httpHost,
    int httpPort,
    int httpBodyLimitBytes,
    int verticleInstances,
    int eventLoops,
    DatabaseUrl databaseUrl,
    PoolSettings databasePool,
    BatchSettings writes,
    Path dataDir,
    List<String> apiTokens,
    List<String> adminTokens,
    ResetCycle resetCycle,
    BigDecimal defaultCentsPerCredit,
    long maxDebt,
    Map<GrantType, Integer> grantPriorities,
    long freeGrantCredits,
    int referralLimit,
    long maxCreditsPerOperation,
    StripeSettings stripe,
    ResetSettings resets,
    HoldSettings holds,
    EventSettings events,
    long autoTopUpMinCredits,
    MetricsSettings metrics,
    Secret apiKeySecret,
    List<String> apiKeyTypes,
    Clock clock) {

  public boolean embeddedDatabase() {
    return databaseUrl == null;
  }

  /** The same configuration reading time from {@code otherClock}: tests use it to move time. */
  public LedgerConfig withClock(Clock otherClock) {
    return new LedgerConfig(httpHost, httpPort, httpBodyLimitBytes, verticleInstances, eventLoops, databaseUrl,
        databasePool, writes, dataDir, apiTokens, adminTokens, resetCycle, defaultCentsPerCredit, maxDebt,
        grantPriorities, freeGrantCredits, referralLimit, maxCreditsPerOperation, stripe, resets, holds, events, autoTopUpMinCredits, metrics, apiKeySecret,
        apiKeyTypes, otherClock);
  }

  /**
   * The free grant of each cycle of {@code account}: FREE_GRANT_CREDITS for a user, ORG_FREE_GRANT_CREDITS for an
   * org.
   */
  public long freeGrantCreditsOf(String account) {
    return Accounts.isOrg(account) ? resets.orgFreeGrantCredits() : freeGrantCredits;
  }

  public int priorityOf(GrantType type) {
    return grantPriorities.get(type);
  }

  @Override
  public String toString() {
    return "LedgerConfig[httpHost=" + httpHost + ", httpPort=" + httpPort
        + ", database=" + (databaseUrl == null ? "embedded under " + dataDir : databaseUrl.redacted())
        + ", databasePool=" + databasePool + ", writes=" + writes + ", verticleInstances=" + verticleInstances
        + ", eventLoops=" + eventLoops
        + ", resetCycle=" + resetCycle + ", maxDebt=" + maxDebt + ", " + stripe + ", apiKeyTypes=" + apiKeyTypes
        + ", apiKeySecret=" + (apiKeySecret == null ? "unset" : "set") + ", tokens=" + (apiTokens.isEmpty() ? "generated" : "configured") + "]";
  }
}
