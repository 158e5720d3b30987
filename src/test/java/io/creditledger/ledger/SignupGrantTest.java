package io.creditledger.ledger;

import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SignupGrantTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "250"), started -> app = started);

  @Test
  void aNewUserGetsTheFirstCyclesFreeGrantOnce() {
    JsonObject user = app.user("s-new");
    JsonArray grants = app.grants("s-new");
    assertThat(grants).hasSize(1);
    JsonObject free = grants.getJsonObject(0);
    assertThat(free.getString("type")).isEqualTo("free");
    assertThat(free.getLong("principal")).isEqualTo(250);
    assertThat(free.getString("expiresAt")).isEqualTo(user.getString("nextQuotaReset"));
    assertThat(free.getString("operationId")).isEqualTo("free/s-new/" + user.getString("nextQuotaReset"));

    app.api.put("/v1/users/s-new", new JsonObject().put("email", "changed@example.com"));
    assertThat(app.grants("s-new")).as("an update grants nothing").hasSize(1);
    assertThat(app.balance("s-new").getLong("totalRemaining")).isEqualTo(250);
    assertThat(app.journal("s-new")).hasSize(1);
  }
}
