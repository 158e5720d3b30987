package io.creditledger.ledger;

import io.creditledger.store.JournalInvariant;
import io.creditledger.support.TestApp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The invariant query run after every test class does notice a broken ledger; the journal refuses edits. */
class JournalInvariantTest {
  static TestApp app;

  @BeforeAll
  static void boot() {
    app = TestApp.start(Map.of("FREE_GRANT_CREDITS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection(app.database.jdbcUrl(), app.database.jdbcProperties());
  }

  private static List<String> violations() throws SQLException {
    try (Connection c = connect(); ResultSet rs = c.createStatement().executeQuery(JournalInvariant.VIOLATIONS)) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString("problem"));
      }
      return out;
    }
  }

  @Test
  void aBalanceTheJournalDoesNotExplainIsReported() throws SQLException {
    app.user("i-user");
    app.grant("i-user", "i-grant", "purchase", 100);
    app.consume("i-user", "i-consume", 30);
    assertThat(violations()).isEmpty();
    try (Connection c = connect()) {
      c.createStatement().execute("UPDATE grants SET balance = balance + 5 WHERE operation_id = 'i-grant'");
      assertThat(violations()).singleElement().asString()
          .contains("grant i-grant", "balance 75", "principal 100", "journal sum 70");
      c.createStatement().execute("UPDATE grants SET balance = balance - 5 WHERE operation_id = 'i-grant'");
    }
    assertThat(violations()).isEmpty();
  }

  @Test
  void theJournalIsAppendOnly() throws SQLException {
    app.user("i-append");
    app.grant("i-append", "i-append-g", "purchase", 10);
    try (Connection c = connect()) {
      assertThatThrownBy(() -> c.createStatement().execute("UPDATE journal SET delta = 0 WHERE user_id = 'i-append'"))
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> c.createStatement().execute("DELETE FROM journal WHERE user_id = 'i-append'"))
          .hasMessageContaining("append-only");
    }
  }
}
