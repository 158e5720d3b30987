package io.creditledger.store;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.AuditReport;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks that nothing was lost or applied twice, for one user or all, and lists every problem found:
 * <ul>
 *   <li>journal: for every grant, principal + the deltas after its opening entry = balance, and each entry's
 *       balance_after is the running sum;</li>
 *   <li>usage: each user's usage this cycle = the consumptions recorded since the user's last reset;</li>
 *   <li>debt: no user owes more than MAX_DEBT;</li>
 *   <li>mirror: every grant of a mirrored user has its Stripe id, or an undelivered create row waiting;</li>
 *   <li>outbox: no row pending past its attempt budget, no delivered row without its Stripe object, no void
 *       delivered before a create queued ahead of it, no lease far in the future.</li>
 * </ul>
 * Read-only; the SQL of every check is here.
 */
public final class LedgerAudit {
  /** Operations are recorded under the user's lock, so their seq orders a user's consumptions and resets. */
  private static final String USAGE = """
    WITH last_reset AS (
      SELECT user_id, max(seq) AS seq
      FROM operations
      WHERE kind = 'reset'
      GROUP BY user_id),
    consumed AS (
      SELECT o.user_id, sum((o.request::jsonb->>'amount')::bigint) AS amount
      FROM operations o
      LEFT JOIN last_reset r ON r.user_id = o.user_id
      WHERE o.kind = 'consume' AND (r.seq IS NULL OR o.seq > r.seq)
      GROUP BY o.user_id)
    SELECT 'user ' || u.user_id || ': usage this cycle ' || u.usage_this_cycle
        || ' but consumptions since the last reset ' || coalesce(c.amount, 0)
    FROM users u
    LEFT JOIN consumed c ON c.user_id = u.user_id
    WHERE u.usage_this_cycle <> coalesce(c.amount, 0)
      AND (#{userId}::text IS NULL OR u.user_id = #{userId})""";

  private static final String DEBT = """
    SELECT 'user ' || user_id || ': owes ' || -sum(balance) || ' credits, over MAX_DEBT ' || #{maxDebt}::bigint
    FROM grants
    WHERE balance < 0 AND (#{userId}::text IS NULL OR user_id = #{userId})
    GROUP BY user_id
    HAVING -sum(balance) > #{maxDebt}::bigint""";

  private static final String MIRROR = """
    SELECT 'grant ' || g.operation_id || ' of mirrored user ' || g.user_id
        || ': no Stripe id and no create row waiting'
    FROM grants g
    WHERE g.stripe_customer_id IS NOT NULL
      AND g.stripe_grant_id IS NULL
      AND (#{userId}::text IS NULL OR g.user_id = #{userId})
      AND NOT EXISTS (
        SELECT 1
        FROM stripe_outbox o
        WHERE o.grant_id = g.grant_id AND o.action = 'create_credit_grant' AND o.status <> 'delivered')""";

  private static final String OUTBOX = """
    SELECT 'outbox row ' || o.outbox_id || ': ' || problem
    FROM (
      SELECT outbox_id, user_id,
          'pending after ' || attempts || ' attempts (budget ' || #{maxAttempts}::int || ')' AS problem
      FROM stripe_outbox
      WHERE status = 'pending'
      AND attempts >= #{maxAttempts}::int
      UNION ALL
      SELECT outbox_id, user_id, 'delivered without a Stripe object id'
      FROM stripe_outbox
      WHERE status = 'delivered'
      AND stripe_object_id IS NULL
      UNION ALL
      SELECT outbox_id, user_id, 'leased until ' || lease_until || ', beyond any lease'
      FROM stripe_outbox
      WHERE lease_until > #{leaseLimit}::timestamptz
      UNION ALL
      SELECT v.outbox_id, v.user_id, 'void delivered while its create is not'
      FROM stripe_outbox v
      WHERE v.action = 'void_credit_grant'
      AND v.status = 'delivered'
      AND EXISTS (
        SELECT 1
        FROM stripe_outbox c
        WHERE c.grant_id = v.grant_id
        AND c.outbox_id < v.outbox_id
        AND c.action = 'create_credit_grant'
        AND c.status <> 'delivered')
      UNION ALL
      SELECT outbox_id, user_id, 'dead: ' || coalesce(last_error, '')
      FROM stripe_outbox
      WHERE status = 'dead') o
    WHERE #{userId}::text IS NULL OR o.user_id = #{userId}""";

  private static final String JOURNAL = """
    SELECT problem
    FROM (%s) v
    WHERE #{userId}::text IS NULL OR v.user_id = #{userId}""".formatted(JournalInvariant.VIOLATIONS);

  private final LedgerConfig config;

  public LedgerAudit(LedgerConfig config) {
    this.config = config;
  }

  /** Every problem the checks find; {@code userId} null audits everyone. */
  public Future<AuditReport> run(SqlClient client, String userId) {
    Instant now = Now.of(config.clock());
    Map<String, Object> p = new HashMap<>();
    p.put("userId", userId);
    p.put("maxDebt", config.maxDebt());
    p.put("maxAttempts", config.stripe().maxAttempts());
    p.put("leaseLimit", Now.sql(now.plus(config.stripe().lease().multipliedBy(2))));
    List<String> names = List.of("journal", "usage", "debt", "mirror", "outbox");
    List<String> queries = List.of(JOURNAL, USAGE, DEBT, MIRROR, OUTBOX);
    List<Future<List<String>>> checks = new ArrayList<>();
    for (String q : queries) {
      checks.add(SqlTemplate.forQuery(client, q).execute(p).map(rows -> {
        List<String> out = new ArrayList<>();
        for (Row r : rows) {
          out.add(r.getString(0));
        }
        return out;
      }));
    }
    return Future.all(checks).map(done -> {
      List<AuditReport.Problem> problems = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        for (String problem : checks.get(i).result()) {
          problems.add(new AuditReport.Problem(names.get(i), problem));
        }
      }
      return new AuditReport(problems.isEmpty(), now, userId, List.copyOf(problems));
    });
  }
}
