package io.creditledger.domain;

/** What a Stripe event did: {@code outcome} names it (granted, replayed, revoked:n, duplicate_event, ignored...). */
public record WebhookOutcome(String eventId, String type, String outcome) {
}
