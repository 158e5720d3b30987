package io.creditledger.api;

import io.vertx.core.json.JsonObject;

/** A successful answer of a ledger address: a JSON body and the status HTTP should show it with. */
public record Reply(int status, JsonObject body) {
  public static final String STATUS_HEADER = "status";

  public static Reply ok(JsonObject body) {
    return new Reply(200, body);
  }

  public static Reply created(JsonObject body) {
    return new Reply(201, body);
  }
}
