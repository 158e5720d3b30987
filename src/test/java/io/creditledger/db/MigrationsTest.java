package io.creditledger.db;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestDatabase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MigrationsTest {

  @Test
  void migratesAnEmptyDatabaseAndASecondRunIsANoOp() {
    DatabaseUrl db = TestDatabase.fresh();
    List<String> pendingBefore = Migrations.pending(db);
    assertThat(pendingBefore).isNotEmpty().allMatch(c -> c.startsWith("db/changes/"));

    int changeSets = Migrations.apply(db);
    assertThat(changeSets).isEqualTo(pendingBefore.size());
    assertThat(Migrations.pending(db)).isEmpty();
    List<String> tables = tables(db);
    assertThat(tables).contains("users", "databasechangelog");
    List<String> appliedFirst = appliedChangeSets(db);

    assertThat(Migrations.apply(db)).isEqualTo(changeSets);
    assertThat(appliedChangeSets(db)).as("the second run applies nothing").isEqualTo(appliedFirst);
    assertThat(tables(db)).isEqualTo(tables);
  }

  private static List<String> tables(DatabaseUrl db) {
    return strings(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  }

  private static List<String> appliedChangeSets(DatabaseUrl db) {
    return strings(db, "SELECT id || '@' || dateexecuted FROM databasechangelog ORDER BY orderexecuted");
  }

  private static List<String> strings(DatabaseUrl db, String sql) {
    try (SqlSession s = TestDatabase.open(db)) {
      return s.texts(sql);
    }
  }
}
