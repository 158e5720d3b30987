package io.creditledger.orgs;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.db.Migrations;
import io.creditledger.support.MutableClock;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Migration 013-orgs on a database filled by the schema before it: the users stay users, with the same answers,
 * and the ledger goes on working for them.
 */
class OrgsMigrationTest {

  @Test
  void usersOfTheSchemaBeforeOrgsKeepTheirAnswers() {
    DatabaseUrl db = TestDatabase.fresh();
    List<String> pending = Migrations.pending(db);
    int orgs = pending.indexOf(pending.stream().filter(c -> c.contains("013-orgs")).findFirst().orElseThrow());
    Migrations.applyFirst(db, orgs);
    assertThat(Migrations.pending(db).get(0)).contains("013-orgs");

    try (SqlSession s = TestDatabase.open(db)) {
      assertThat(s.text("SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'users' "
          + "AND column_name = 'account_type'")).as("the schema before orgs").isEqualTo("0");
      s.execute("""
          INSERT INTO users (user_id, email, stripe_customer_id, cents_per_credit, billing_anchor_day, next_quota_reset,
                             usage_this_cycle, created_at, updated_at)
          VALUES ('alice', 'alice@example.com', NULL, 1, 15, '2026-02-15T10:00:00Z', 250,
                  '2026-01-15T10:00:00Z', '2026-01-15T10:00:00Z')""");
      s.execute("""
          INSERT INTO grants (grant_id, user_id, operation_id, type, priority, principal, balance, cents,
                              cents_per_credit, expires_at, description, created_at)
          VALUES (1, 'alice', 'order-1', 'purchase', 80, 1000, 750, 1000, 1, NULL, 'Purchased credits: 1000',
                  '2026-01-15T10:00:00Z')""");
      s.execute("SELECT setval('grants_grant_id_seq', 1)");
      s.execute("""
          INSERT INTO operations (operation_id, user_id, kind, request, status, response, created_at)
          VALUES ('req-1', 'alice', 'consume', '{"userId":"alice","amount":250}', 200,
                  '{"operationId":"req-1","consumed":250}', '2026-01-15T10:00:01Z')""");
      s.execute("""
          INSERT INTO journal (user_id, grant_id, operation_id, kind, delta, balance_after, description, created_at)
          VALUES ('alice', 1, 'order-1', 'grant', 1000, 1000, 'Purchased credits: 1000', '2026-01-15T10:00:00Z'),
                 ('alice', 1, 'req-1', 'consume', -250, 750, 'Consumed 250 credits', '2026-01-15T10:00:01Z')""");
    }

    Migrations.apply(db);
    assertThat(Migrations.pending(db)).isEmpty();

    try (TestApp app = TestApp.start(Map.of("FREE_GRANT_CREDITS", "0"), db,
        new MutableClock(Instant.parse("2026-01-20T10:00:00Z")))) {
      JsonObject user = app.api.get("/v1/users/alice").json();
      assertThat(user.fieldNames()).containsExactlyInAnyOrder("userId", "email", "stripeCustomerId", "centsPerCredit",
          "billingAnchorDay", "nextQuotaReset", "usageThisCycle", "referralLimit", "createdAt", "updatedAt");
      assertThat(user.getString("email")).isEqualTo("alice@example.com");
      assertThat(user.getLong("usageThisCycle")).isEqualTo(250);

      JsonObject balance = app.api.get("/v1/users/alice/balance").json();
      assertThat(balance.getLong("totalRemaining")).isEqualTo(750);
      assertThat(balance.getJsonObject("breakdown").fieldNames())
          .containsExactlyInAnyOrder("free", "referral", "rollover", "purchase", "admin");
      JsonObject grant = app.api.get("/v1/users/alice/grants").json().getJsonArray("grants").getJsonObject(0);
      assertThat(grant.getString("userId")).isEqualTo("alice");
      assertThat(grant.containsKey("orgId")).isFalse();
      JsonArray entries = app.api.get("/v1/users/alice/ledger").json().getJsonArray("entries");
      assertThat(entries).hasSize(2);

      assertThat(app.consume("alice", "req-2", 50).status()).isEqualTo(200);
      assertThat(app.balance("alice").getLong("totalRemaining")).isEqualTo(700);
      assertThat(app.text("SELECT account_type FROM users WHERE user_id = 'alice'")).isEqualTo("user");
      JsonObject audit = app.admin.get("/v1/admin/audit").json();
      assertThat(audit.getBoolean("ok")).as(audit.encode()).isTrue();
    }
  }
}
