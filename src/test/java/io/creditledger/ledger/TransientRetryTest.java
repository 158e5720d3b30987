package io.creditledger.ledger;

import io.creditledger.db.Transactions;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Serialization failures and deadlocks injected by a trigger in the test database: the grant is retried and
 * lands, or, when the failure persists, is recorded in sync_failure and answered with a clear 503.
 */
class TransientRetryTest {
  static TestApp app;

  @BeforeAll
  static void boot() throws SQLException {
    app = TestApp.start(Map.of("FREE_GRANT_CREDITS", "0"));
    app.sql("CREATE SEQUENCE fault_seq");
    app.sql("CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.operation_id LIKE 'flaky-%' AND nextval('fault_seq') <= 2 THEN "
        + "  RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001'; END IF; "
        + "IF NEW.operation_id LIKE 'doomed-%' THEN "
        + "  RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF; "
        + "RETURN NEW; END $$");
    app.sql("CREATE TRIGGER inject_fault BEFORE INSERT ON grants FOR EACH ROW EXECUTE FUNCTION inject_fault()");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection(app.database.jdbcUrl(), app.database.jdbcProperties());
  }

  @Test
  void transientFailuresAreRetriedUntilTheGrantLands() throws SQLException {
    app.user("t-flaky");
    Api.Response r = app.grant("t-flaky", "flaky-1", "purchase", 40);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    assertThat(app.number("SELECT last_value FROM fault_seq")).as("two failures, then success").isEqualTo(3);
    assertThat(app.balance("t-flaky").getLong("totalRemaining")).isEqualTo(40);
    assertThat(app.number("SELECT count(*) FROM sync_failure WHERE operation_id = 'flaky-1'")).isZero();
  }

  @Test
  void aFailureThatPersistsIsRecordedAndAnsweredWith503() throws SQLException {
    app.user("t-doomed");
    Api.Response r = app.grant("t-doomed", "doomed-1", "purchase", 40);
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.errorCode()).isEqualTo("ledger_busy");
    assertThat(app.grants("t-doomed")).isEmpty();
    try (Connection c = connect(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT provider, user_id, attempts, error, payload->>'amount' FROM sync_failure WHERE operation_id = 'doomed-1'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("internal");
      assertThat(rs.getString(2)).isEqualTo("t-doomed");
      assertThat(rs.getInt(3)).isEqualTo(Transactions.MAX_ATTEMPTS);
      assertThat(rs.getString(4)).contains("injected deadlock");
      assertThat(rs.getString(5)).isEqualTo("40");
      assertThat(rs.next()).isFalse();
    }
  }
}
