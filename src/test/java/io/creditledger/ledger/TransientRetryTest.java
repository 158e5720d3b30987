package io.creditledger.ledger;

import io.creditledger.db.Transactions;
import io.creditledger.support.Api;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Serialization failures and deadlocks injected by a trigger in the test database: the grant is retried and
 * lands, or, when the failure persists, is recorded in sync_failure and answered with a clear 503.
 */
class TransientRetryTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0"), started -> app = started);

  @BeforeAll
  static void injectFaults() {
    app.sql("CREATE SEQUENCE fault_seq");
    app.sql("CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.operation_id LIKE 'flaky-%' AND nextval('fault_seq') <= 2 THEN "
        + "  RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001'; END IF; "
        + "IF NEW.operation_id LIKE 'doomed-%' THEN "
        + "  RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF; "
        + "RETURN NEW; END $$");
    app.sql("CREATE TRIGGER inject_fault BEFORE INSERT ON grants FOR EACH ROW EXECUTE FUNCTION inject_fault()");
  }

  @Test
  void transientFailuresAreRetriedUntilTheGrantLands() {
    app.user("t-flaky");
    Api.Response r = app.grant("t-flaky", "flaky-1", "purchase", 40);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    assertThat(app.number("SELECT last_value FROM fault_seq")).as("two failures, then success").isEqualTo(3);
    assertThat(app.balance("t-flaky").getLong("totalRemaining")).isEqualTo(40);
    assertThat(app.number("SELECT count(*) FROM sync_failure WHERE operation_id = 'flaky-1'")).isZero();
  }

  @Test
  void aFailureThatPersistsIsRecordedAndAnsweredWith503() {
    app.user("t-doomed");
    Api.Response r = app.grant("t-doomed", "doomed-1", "purchase", 40);
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.errorCode()).isEqualTo("ledger_busy");
    assertThat(app.grants("t-doomed")).isEmpty();
    List<SqlSession.Row> failures = app.rows(
        "SELECT provider, user_id, attempts, error, payload->>'amount' FROM sync_failure WHERE operation_id = 'doomed-1'");
    assertThat(failures).hasSize(1);
    SqlSession.Row failure = failures.get(0);
    assertThat(failure.text(1)).isEqualTo("internal");
    assertThat(failure.text(2)).isEqualTo("t-doomed");
    assertThat(failure.number(3)).isEqualTo(Transactions.MAX_ATTEMPTS);
    assertThat(failure.text(4)).contains("injected deadlock");
    assertThat(failure.text(5)).isEqualTo("40");
  }
}
