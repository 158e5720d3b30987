package io.creditledger.domain;

import io.vertx.core.json.JsonObject;

/** The outcome of a consumption: all of {@code consumed}, how much came from purchase grants, the new balance. */
public record Consumption(String operationId, long consumed, long fromPurchased, Balance balance) {

  public static Consumption fromJson(JsonObject j) {
    return new Consumption(j.getString("operationId"), j.getLong("consumed"), j.getLong("fromPurchased"),
        Balance.fromJson(j.getJsonObject("balance")));
  }
}
