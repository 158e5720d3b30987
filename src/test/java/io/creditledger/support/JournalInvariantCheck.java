package io.creditledger.support;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.store.JournalInvariant;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Registered for every test class (auto-detected): after the class, every database it created must satisfy
 * the journal invariant. A test that leaves a grant whose balance the journal does not explain fails here.
 */
public final class JournalInvariantCheck implements AfterAllCallback {

  @Override
  public void afterAll(ExtensionContext context) {
    List<String> problems = new ArrayList<>();
    for (DatabaseUrl db : TestDatabase.takeCreated()) {
      try (SqlSession s = TestDatabase.open(db)) {
        if (s.hasTable("journal")) {
          s.rows(JournalInvariant.VIOLATIONS).forEach(r -> problems.add(db.database() + ": " + r.text("problem")));
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError("Journal invariant broken after " + context.getDisplayName() + ":\n"
          + String.join("\n", problems));
    }
  }
}
