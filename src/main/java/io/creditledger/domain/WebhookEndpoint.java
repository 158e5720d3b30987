package io.creditledger.domain;

import java.time.Instant;
import java.util.List;

/**
 * Where the host application receives events: {@code url}, for {@code eventTypes}. {@code secret} (whsec_ and the
 * key in base64) is carried only in the answer that set it; listings leave it null.
 */
public record WebhookEndpoint(String endpointId, String url, List<EventType> eventTypes, String secret,
                              Instant createdAt, Instant updatedAt) {
  public WebhookEndpoint withoutSecret() {
    return new WebhookEndpoint(endpointId, url, eventTypes, null, createdAt, updatedAt);
  }
}
