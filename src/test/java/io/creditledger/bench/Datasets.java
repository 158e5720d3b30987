package io.creditledger.bench;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.store.JournalInvariant;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark data written straight with SQL (the service's own tables, after its migrations), so loading 100k
 * users takes seconds and not what the API would need. Users are {@code u1 .. uN}. A grant is written with its
 * opening journal entry (delta = principal), so the journal invariant holds as if the API had granted it; the
 * insert trigger gives every user its reset claim row.
 */
final class Datasets {
  private Datasets() {
  }

  /**
   * Inserts users {@code u1..uN}. {@code due}: their cycle ended an hour ago (created a month and an hour ago);
   * otherwise created a day ago with the cycle ending in a month. {@code stripe}: each has a Stripe customer
   * {@code cus_bench_<i>}, so its grants are mirrored. {@code purchaseCredits > 0}: each gets one purchase
   * grant of that many credits ({@code seed/u<i>}).
   */
  static void users(DatabaseUrl db, int n, boolean due, boolean stripe, long purchaseCredits, int purchasePriority)
      throws SQLException {
    users(db, 1, n, due, stripe, purchaseCredits, purchasePriority);
  }

  /** As {@link #users(DatabaseUrl, int, boolean, boolean, long, int)}, for users {@code u<first> ..} only. */
  static void users(DatabaseUrl db, int first, int n, boolean due, boolean stripe, long purchaseCredits,
                    int purchasePriority) throws SQLException {
    String created = due ? "now() - interval '1 month' - interval '1 hour'" : "now() - interval '1 day'";
    try (Connection c = DbServer.connect(db)) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO users (user_id, email, stripe_customer_id, "
          + "cents_per_credit, billing_anchor_day, next_quota_reset, usage_this_cycle, created_at, updated_at) "
          + "SELECT 'u' || i, 'u' || i || '@bench.invalid', CASE WHEN ? THEN 'cus_bench_' || i END, 1, "
          + "extract(day FROM t.created AT TIME ZONE 'UTC')::smallint, t.created + interval '1 month', 0, "
          + "t.created, t.created FROM generate_series(?, ?) i, (SELECT " + created + " AS created) t")) {
        ps.setBoolean(1, stripe);
        ps.setInt(2, first);
        ps.setInt(3, first + n - 1);
        ps.executeUpdate();
      }
      if (purchaseCredits > 0) {
        // each new grant with its opening entry, in one statement
        try (PreparedStatement ps = c.prepareStatement("WITH g AS (INSERT INTO grants (user_id, operation_id, type, "
            + "priority, principal, balance, cents, cents_per_credit, expires_at, description, created_at, "
            + "stripe_customer_id) SELECT user_id, 'seed/' || user_id, 'purchase', ?, ?, ?, ?, 1, NULL, "
            + "'Purchased credits: ' || ?, created_at, stripe_customer_id FROM users "
            + "WHERE user_id IN (SELECT 'u' || i FROM generate_series(?, ?) i) "
            + "RETURNING user_id, grant_id, operation_id, principal, description, created_at) "
            + "INSERT INTO journal (user_id, grant_id, operation_id, kind, delta, balance_after, description, "
            + "created_at) SELECT user_id, grant_id, operation_id, 'grant', principal, principal, description, "
            + "created_at FROM g ORDER BY grant_id")) {
          ps.setInt(1, purchasePriority);
          ps.setLong(2, purchaseCredits);
          ps.setLong(3, purchaseCredits);
          ps.setLong(4, purchaseCredits);
          ps.setLong(5, purchaseCredits);
          ps.setInt(6, first);
          ps.setInt(7, first + n - 1);
          ps.executeUpdate();
        }
      }
      c.commit();
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        // only the tables loaded: statistics saying that an empty table (holds) is empty made the service's cached
        // plans scan it whole as it filled during the run, until autovacuum analyzed it again (a seq scan of the
        // holds per write batch); a deployment's empty tables are not analyzed before they have rows
        s.execute("VACUUM ANALYZE users, grants, journal");
      }
    }
  }

  /**
   * VACUUM (ANALYZE) of every table with rows, then a CHECKPOINT (see {@code Bench.settle}). Empty tables are left
   * alone, as {@link #users} leaves them.
   */
  static void settle(DatabaseUrl db) {
    try (Connection c = DbServer.connect(db); Statement s = c.createStatement()) {
      List<String> filled = new ArrayList<>();
      try (ResultSet rs = s.executeQuery("SELECT relname FROM pg_class WHERE relkind = 'r' "
          + "AND relnamespace = 'public'::regnamespace AND pg_relation_size(oid) > 0")) {
        while (rs.next()) {
          filled.add(rs.getString(1));
        }
      }
      if (!filled.isEmpty()) {
        s.execute("VACUUM (ANALYZE) " + String.join(", ", filled));
      }
      s.execute("CHECKPOINT");
    } catch (SQLException e) {
      throw new IllegalStateException("settling " + db.database() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The autovacuums and autoanalyzes that finished between {@code from} and {@code to} (PostgreSQL keeps the last of
   * each per table), in time order: "autoanalyze of operations at 12:00:01.2".
   */
  static List<String> autovacuumsBetween(DatabaseUrl db, Instant from, Instant to) {
    List<String> out = new ArrayList<>();
    try (Connection c = DbServer.connect(db);
         PreparedStatement ps = c.prepareStatement("SELECT what, relname, to_char(at AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') "
             + "FROM (SELECT 'autovacuum' AS what, relname, last_autovacuum AS at FROM pg_stat_user_tables "
             + "UNION ALL SELECT 'autoanalyze', relname, last_autoanalyze FROM pg_stat_user_tables) t "
             + "WHERE at BETWEEN ? AND ? ORDER BY at")) {
      ps.setObject(1, OffsetDateTime.ofInstant(from, ZoneOffset.UTC));
      ps.setObject(2, OffsetDateTime.ofInstant(to, ZoneOffset.UTC));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1) + " of " + rs.getString(2) + " at " + rs.getString(3));
        }
      }
    } catch (SQLException e) {
      out.add("could not read pg_stat_user_tables: " + e.getMessage());
    }
    return out;
  }

  static long count(DatabaseUrl db, String sql) {
    try (Connection c = DbServer.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  static long[] longs(DatabaseUrl db, String sql) {
    try (Connection c = DbServer.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      int n = rs.getMetaData().getColumnCount();
      long[] out = new long[n];
      for (int i = 0; i < n; i++) {
        out[i] = rs.getLong(i + 1);
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  static double seconds(DatabaseUrl db, String sql) {
    try (Connection c = DbServer.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getDouble(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** Every breach of the journal invariant (the project's own query), at most 10. */
  static List<String> journalViolations(DatabaseUrl db) {
    List<String> out = new ArrayList<>();
    try (Connection c = DbServer.connect(db); Statement s = c.createStatement();
         // the query is planned whole (a CTE kept apart): a LIMIT on it invites a nested-loop plan that expects
         // violations early and, there being none, compares every grant with every journal entry
         ResultSet rs = s.executeQuery("WITH v AS MATERIALIZED (" + JournalInvariant.VIOLATIONS
             + ") SELECT * FROM v LIMIT 10")) {
      while (rs.next()) {
        out.add(rs.getString(1) + ": " + rs.getString(2));
      }
    } catch (SQLException e) {
      out.add("could not check: " + e.getMessage());
    }
    return out;
  }
}
