package io.creditledger.db;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.support.TestDatabase;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MigrationsTest {

  @Test
  void migratesAnEmptyDatabaseAndASecondRunIsANoOp() throws SQLException {
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

  private static List<String> tables(DatabaseUrl db) throws SQLException {
    return strings(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  }

  private static List<String> appliedChangeSets(DatabaseUrl db) throws SQLException {
    return strings(db, "SELECT id || '@' || dateexecuted FROM databasechangelog ORDER BY orderexecuted");
  }

  private static List<String> strings(DatabaseUrl db, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties());
         ResultSet rs = c.createStatement().executeQuery(sql)) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }
}
