package io.creditledger.api;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * An event as {@link LedgerClient#subscribe} hands it over: what webhooks deliver ({@code type}, {@code timestamp},
 * {@code data}), with the event's id (a webhook's {@code webhook-id}) and the account it is about:
 * {@code accountType} {@code user} or {@code org} and {@code accountId}; {@code userId} is the user's id for a
 * user's events, null for an org's.
 */
public record LedgerEvent(String eventId, String type, String userId, Instant timestamp, JsonObject data,
                          String accountType, String accountId) {
  static LedgerEvent of(JsonObject message) {
    return new LedgerEvent(message.getString("eventId"), message.getString("type"), message.getString("userId"),
        Instant.parse(message.getString("timestamp")), message.getJsonObject("data"),
        message.getString("accountType"), message.getString("accountId"));
  }
}
