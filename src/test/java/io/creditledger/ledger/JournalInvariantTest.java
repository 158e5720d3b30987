package io.creditledger.ledger;

import io.creditledger.store.JournalInvariant;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The invariant query run after every test class does notice a broken ledger; the journal refuses edits. */
class JournalInvariantTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0"), started -> app = started);

  private static List<String> violations() {
    return app.rows(JournalInvariant.VIOLATIONS).stream().map(r -> r.text("problem")).toList();
  }

  @Test
  void aBalanceTheJournalDoesNotExplainIsReported() {
    app.user("i-user");
    app.grant("i-user", "i-grant", "purchase", 100);
    app.consume("i-user", "i-consume", 30);
    assertThat(violations()).isEmpty();
    app.sql("UPDATE grants SET balance = balance + 5 WHERE operation_id = 'i-grant'");
    assertThat(violations()).singleElement().asString()
        .contains("grant i-grant", "balance 75", "principal 100", "journal sum 70");
    app.sql("UPDATE grants SET balance = balance - 5 WHERE operation_id = 'i-grant'");
    assertThat(violations()).isEmpty();
  }

  @Test
  void theJournalIsAppendOnly() {
    app.user("i-append");
    app.grant("i-append", "i-append-g", "purchase", 10);
    assertThatThrownBy(() -> app.sql("UPDATE journal SET delta = 0 WHERE user_id = 'i-append'"))
        .hasMessageContaining("append-only");
    assertThatThrownBy(() -> app.sql("DELETE FROM journal WHERE user_id = 'i-append'"))
        .hasMessageContaining("append-only");
  }
}
