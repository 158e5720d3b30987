package io.creditledger.db;

import io.creditledger.support.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static io.creditledger.support.TestApp.await;
import static org.assertj.core.api.Assertions.assertThat;

/** A template parsed once serves every connection, with the library's placeholders and parameter mapping. */
class TemplatesTest {
  private static final String SUM = "SELECT #{a}::int + #{b}::int + #{a}::int AS sum, #{missing}::text IS NULL AS absent";

  private Vertx vertx;
  private DatabasePool pool;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    pool = DatabasePool.create(vertx, TestDatabase.fresh().connectOptions(), 2, 100, Duration.ofSeconds(5));
  }

  @AfterEach
  void stop() {
    await(pool.close());
    await(vertx.close());
  }

  @Test
  void oneParsedTemplateRunsOnEveryConnectionWithItsOwnValues() {
    SqlConnection first = await(pool.getConnection());
    SqlConnection second = await(pool.getConnection());
    try {
      assertThat(Templates.forQuery(first, SUM).sql()).as("a name used twice is one placeholder")
          .isEqualTo("SELECT $1::int + $2::int + $1::int AS sum, $3::text IS NULL AS absent");
      Row one = await(Templates.forQuery(first, SUM).execute(Map.of("a", 1, "b", 2))).iterator().next();
      Row other = await(Templates.forQuery(second, SUM).execute(Map.of("a", 10, "b", 5))).iterator().next();

      assertThat(one.getInteger("sum")).isEqualTo(4);
      assertThat(one.getBoolean("absent")).as("a name without a value is NULL").isTrue();
      assertThat(other.getInteger("sum")).isEqualTo(25);
      assertThat(await(Templates.forUpdate(second, "SELECT 1 WHERE #{a}::int = #{b}::int")
          .execute(Map.of("a", 3, "b", 3))).rowCount()).as("an update's count, its rows dropped").isEqualTo(1);
    } finally {
      await(first.close());
      await(second.close());
    }
  }
}
