package io.creditledger.store;

/**
 * The journal's promise, as one query that lists every way it is broken, as rows of (user_id, problem); no
 * rows: all is well. Every grant has exactly one opening entry (grant or rollover_in) whose delta is its
 * principal, its balance is the sum of its entries (so principal + the later deltas = balance), and each
 * entry's balance_after is the running sum up to it.
 */
public final class JournalInvariant {
  public static final String VIOLATIONS = """
    SELECT g.user_id, 'grant ' || g.operation_id || ': balance ' || g.balance || ' but principal ' || g.principal
        || ' and journal sum ' || coalesce(sum(j.delta), 0) || ' with '
        || count(j.entry_id) FILTER (WHERE j.kind IN ('grant', 'rollover_in')) || ' opening entries' AS problem
    FROM grants g
    LEFT JOIN journal j ON j.grant_id = g.grant_id
    GROUP BY g.grant_id, g.user_id, g.operation_id, g.balance, g.principal
    HAVING g.balance <> coalesce(sum(j.delta), 0)
        OR count(j.entry_id) FILTER (WHERE j.kind IN ('grant', 'rollover_in')) <> 1
        OR coalesce(sum(j.delta) FILTER (WHERE j.kind IN ('grant', 'rollover_in')), 0) <> g.principal
    UNION ALL
    SELECT user_id, 'journal entry ' || entry_id || ': balance_after ' || balance_after || ' but running sum '
        || running
    FROM (
      SELECT entry_id, user_id, balance_after, sum(delta) OVER (PARTITION BY grant_id ORDER BY entry_id) AS running
      FROM journal) entries
    WHERE balance_after <> running
    UNION ALL
    SELECT j.user_id, 'journal entry ' || j.entry_id || ': user ' || j.user_id || ' but its grant belongs to '
        || g.user_id
    FROM journal j
    JOIN grants g ON g.grant_id = j.grant_id
    WHERE j.user_id <> g.user_id""";

  private JournalInvariant() {
  }
}
