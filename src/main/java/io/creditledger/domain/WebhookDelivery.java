package io.creditledger.domain;

import java.time.Instant;

/** One event on its way to one endpoint, as operators see it. */
public record WebhookDelivery(long deliveryId, String eventId, EventType type, String userId, String endpointId,
                              OutboxStatus status, int attempts, Instant nextAttemptAt, String lastError,
                              Instant createdAt, Instant deliveredAt) {
}
