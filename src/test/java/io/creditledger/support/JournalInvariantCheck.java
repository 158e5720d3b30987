package io.creditledger.support;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.store.JournalInvariant;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Registered for every test class (auto-detected): after the class, every database it created must satisfy
 * the journal invariant. A test that leaves a grant whose balance the journal does not explain fails here.
 */
public final class JournalInvariantCheck implements AfterAllCallback {

  @Override
  public void afterAll(ExtensionContext context) throws SQLException {
    List<String> problems = new ArrayList<>();
    for (DatabaseUrl db : TestDatabase.takeCreated()) {
      try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties())) {
        if (!hasJournal(c)) {
          continue;
        }
        try (ResultSet rs = c.createStatement().executeQuery(JournalInvariant.VIOLATIONS)) {
          while (rs.next()) {
            problems.add(db.database() + ": " + rs.getString("problem"));
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError("Journal invariant broken after " + context.getDisplayName() + ":\n"
          + String.join("\n", problems));
    }
  }

  private static boolean hasJournal(Connection c) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT to_regclass('public.journal') IS NOT NULL")) {
      return rs.next() && rs.getBoolean(1);
    }
  }
}
