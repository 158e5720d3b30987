package io.creditledger.wire;

import io.vertx.core.json.JsonObject;

/**
 * A successful answer of a ledger address: a JSON body, the status HTTP should show it with, and whether it
 * is the stored answer of an earlier request with the same operationId (an idempotent replay).
 */
public record Reply(int status, JsonObject body, boolean replayed) {
  public static final String STATUS_HEADER = "status";
  public static final String REPLAYED_HEADER = "replayed";

  public static Reply ok(JsonObject body) {
    return new Reply(200, body, false);
  }

  public static Reply created(JsonObject body) {
    return new Reply(201, body, false);
  }

  public static Reply replay(int status, JsonObject body) {
    return new Reply(status, body, true);
  }
}
