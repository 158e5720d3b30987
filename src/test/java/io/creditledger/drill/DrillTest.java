package io.creditledger.drill;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The short fault drill: the service killed ten times under load, Stripe failing, PostgreSQL restarted once. */
@Tag("slow")
class DrillTest {

  @Test
  void nothingAnsweredIsLostOrAppliedTwice() throws Exception {
    Drill.Report report = Drill.run(new Drill.Options(45, 10, 12, 6, 7, null, Path.of("target", "drill-test")));
    System.out.println("Drill: " + report.summary());
    assertThat(report.kills()).isGreaterThanOrEqualTo(10);
    assertThat(report.databaseRestarted()).isTrue();
    assertThat(report.readyDuringOutage()).as("/ready answered 503 while the database was down").isPositive();
    assertThat(report.counts()).containsKeys("consume:applied", "grant:applied", "purchase:applied");
    assertThat(report.problems()).isEmpty();
  }
}
