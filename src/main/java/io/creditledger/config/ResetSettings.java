package io.creditledger.config;

import java.time.Duration;

/**
 * How resets are scheduled. A scanner wakes every {@code scanInterval}, claims up to {@code batchSize} due
 * users at a time (each claim lasts {@code claimLease}) and resets up to {@code concurrency} of them at once; two
 * claims are at least {@code batchPause} apart, so a large backlog drains at no more than {@code batchSize} users
 * per {@code batchPause} beside live traffic.
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
