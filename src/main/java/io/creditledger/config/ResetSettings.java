package io.creditledger.config;

import java.time.Duration;

/**
 * How resets are scheduled. A scanner wakes every {@code scanInterval}, claims up to {@code batchSize} due
 * users at a time (each claim lasts {@code claimLease}), resets up to {@code concurrency} of them at once, and
 * rests {@code batchPause} between batches so a large backlog drains at a bounded pace beside live traffic.
 *
 * @param referralCreditsPerReferral the referral grant of a new cycle, per referral the user has made
 * @param orgFreeGrantCredits an org's free grant each cycle (and at creation); 0, the default, for none
 */
public record ResetSettings(
    Duration scanInterval,
    int batchSize,
    int concurrency,
    Duration batchPause,
    Duration claimLease,
    long referralCreditsPerReferral,
    long orgFreeGrantCredits) {
}
