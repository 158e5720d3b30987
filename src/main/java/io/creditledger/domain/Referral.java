package io.creditledger.domain;

/** A referral made: both users' new referral grants. */
public record Referral(String operationId, String referrerId, String referredId, long credits,
                       GrantView.Created referrerGrant, GrantView.Created referredGrant) {
}
