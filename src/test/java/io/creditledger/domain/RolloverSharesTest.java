package io.creditledger.domain;

import io.creditledger.domain.RolloverShares.Level;
import io.creditledger.domain.RolloverShares.Share;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RolloverSharesTest {

  @Test
  void anUntouchedRolloverHoldsAllOfEachSource() {
    List<Share> sources = List.of(new Share(300, 0), new Share(500, 0));
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 0)), 800)).isEqualTo(300);
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 1)), 800)).isEqualTo(500);
  }

  @Test
  void spendingComesOutOfTheOldestSourceFirst() {
    List<Share> sources = List.of(new Share(300, 0), new Share(500, 0));
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 0)), 600)).isEqualTo(100);
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 1)), 600)).isEqualTo(500);
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 0)), 400)).isZero();
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 1)), 400)).isEqualTo(400);
  }

  @Test
  void aRolloverInDebtHoldsNothing() {
    List<Share> sources = List.of(new Share(300, 0));
    assertThat(RolloverShares.remaining(List.of(new Level(sources, 0)), -20)).isZero();
  }

  @Test
  void takingBackOneSourceLeavesTheOthersShares() {
    // 300 + 500 rolled over, 200 spent (from the first source): 100 and 500 left
    long balance = 600;
    Share first = new Share(300, 0);
    Share second = new Share(500, 0);
    // refund 400 of the second source: its revoked grows by 400 and the rollover's balance drops by 400
    Share secondAfter = new Share(500, 400);
    long balanceAfter = balance - 400;
    assertThat(RolloverShares.remaining(List.of(new Level(List.of(first, secondAfter), 1)), balanceAfter)).isEqualTo(100);
    assertThat(RolloverShares.remaining(List.of(new Level(List.of(first, secondAfter), 0)), balanceAfter)).isEqualTo(100);
    // refund the first source's 100 too
    Share firstAfter = new Share(300, 100);
    assertThat(RolloverShares.remaining(List.of(new Level(List.of(firstAfter, secondAfter), 0)), balanceAfter - 100)).isZero();
    assertThat(RolloverShares.remaining(List.of(new Level(List.of(firstAfter, secondAfter), 1)), balanceAfter - 100))
        .isEqualTo(100);
  }

  @Test
  void followsCreditsThroughSeveralRollovers() {
    // purchase 800 rolled into R1 (alone); 100 spent; R1's 700 rolled into R2 after an older 50-credit rollover
    Level inR1 = new Level(List.of(new Share(800, 0)), 0);
    Level inR2 = new Level(List.of(new Share(50, 0), new Share(700, 0)), 1);
    assertThat(RolloverShares.remaining(List.of(inR1, inR2), 750)).isEqualTo(700);
    // R2 spends 80: 50 from the older source, 30 from R1's, so the purchase has 670 left
    assertThat(RolloverShares.remaining(List.of(inR1, inR2), 670)).isEqualTo(670);
  }
}
