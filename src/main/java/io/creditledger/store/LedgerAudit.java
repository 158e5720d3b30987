package io.creditledger.store;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Templates;
import io.creditledger.domain.AuditReport;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

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
 *   <li>usage counts consumptions and captures;</li>
 *   <li>debt: no user owes more than MAX_DEBT (plus what captures consumed: a capture may pass it);</li>
 *   <li>holds: no user's active holds exceed their credits plus MAX_DEBT;</li>
 *   <li>captures: every captured hold has its capture, whose journal entries consume what it captured, and every
 *       capture closed one hold;</li>
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
      WHERE o.kind IN ('consume', 'capture') AND (r.seq IS NULL OR o.seq > r.seq)
      GROUP BY o.user_id)
    SELECT 'user ' || u.user_id || ': usage this cycle ' || u.usage_this_cycle
        || ' but consumptions since the last reset ' || coalesce(c.amount, 0)
    FROM users u
    LEFT JOIN consumed c ON c.user_id = u.user_id
    WHERE u.usage_this_cycle <> coalesce(c.amount, 0)
      AND (#{userId}::text IS NULL OR u.user_id = #{userId})""";

  /** A capture may go past MAX_DEBT (up to what its hold held), so the bound grows by what captures consumed. */
  private static final String DEBT = """
    SELECT 'user ' || g.user_id || ': owes ' || -sum(g.balance) || ' credits, over MAX_DEBT ' || #{maxDebt}::bigint
        || ' plus the ' || coalesce(c.captured, 0) || ' credits captured'
    FROM grants g
    LEFT JOIN (
      SELECT user_id, sum(captured) AS captured
      FROM holds
      WHERE state = 'captured'
      GROUP BY user_id) c ON c.user_id = g.user_id
    WHERE g.balance < 0 AND (#{userId}::text IS NULL OR g.user_id = #{userId})
    GROUP BY g.user_id, c.captured
    HAVING -sum(g.balance) > #{maxDebt}::bigint + coalesce(c.captured, 0)""";

  /**
   * No user's active holds exceed their credits plus MAX_DEBT. Holds are placed within what is available and
   * consumptions keep them covered, but a grant that expires or is revoked under a hold can uncover it (its
   * capture will then make debt): the problem says so, it does not mean the ledger lost anything.
   */
  private static final String HOLDS = """
    WITH held AS (
      SELECT user_id, sum(amount) AS held
      FROM holds
      WHERE state = 'held' AND expires_at > #{now} AND (#{userId}::text IS NULL OR user_id = #{userId})
      GROUP BY user_id),
    net AS (
      SELECT g.user_id, sum(CASE WHEN g.balance < 0 THEN g.balance
                                 WHEN g.closed_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > #{now})
                                 THEN g.balance ELSE 0 END) AS net
      FROM grants g
      JOIN held h ON h.user_id = g.user_id
      GROUP BY g.user_id)
    SELECT 'user ' || h.user_id || ': active holds of ' || h.held || ' exceed the credits ' || coalesce(n.net, 0)
        || ' plus MAX_DEBT ' || #{maxDebt}::bigint
    FROM held h
    LEFT JOIN net n ON n.user_id = h.user_id
    WHERE h.held > coalesce(n.net, 0) + #{maxDebt}::bigint""";

  /**
   * Every captured hold has its capture recorded, whose consumption entries add up to what it captured, and every
   * capture recorded closed exactly one hold.
   */
  private static final String CAPTURES = """
    SELECT 'hold ' || h.hold_id || ': captured ' || h.captured || ' by ' || h.capture_operation_id || ', but '
        || CASE WHEN o.operation_id IS NULL THEN 'no such capture is recorded'
                ELSE 'its journal entries consume ' || coalesce(j.consumed, 0) END
    FROM holds h
    LEFT JOIN operations o ON o.operation_id = h.capture_operation_id AND o.kind = 'capture'
    LEFT JOIN LATERAL (
      SELECT -sum(e.delta) AS consumed
      FROM journal e
      WHERE e.user_id = h.user_id AND e.operation_id = h.capture_operation_id AND e.kind = 'consume') j ON true
    WHERE h.state = 'captured' AND (#{userId}::text IS NULL OR h.user_id = #{userId})
      AND (o.operation_id IS NULL OR coalesce(j.consumed, 0) <> h.captured)
    UNION ALL
    SELECT 'capture ' || o.operation_id || ': no hold was captured by it'
    FROM operations o
    WHERE o.kind = 'capture' AND (#{userId}::text IS NULL OR o.user_id = #{userId})
      AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.capture_operation_id = o.operation_id)""";

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
    p.put("now", Now.sql(now));
    List<String> names = List.of("journal", "usage", "debt", "holds", "captures", "mirror", "outbox");
    List<String> queries = List.of(JOURNAL, USAGE, DEBT, HOLDS, CAPTURES, MIRROR, OUTBOX);
    List<Future<List<String>>> checks = new ArrayList<>();
    for (String q : queries) {
      checks.add(Templates.forQuery(client, q).execute(p).map(rows -> {
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
