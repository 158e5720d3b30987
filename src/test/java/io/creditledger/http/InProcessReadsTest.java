package io.creditledger.http;

import io.creditledger.api.Addresses;
import io.creditledger.api.LedgerClient;
import io.creditledger.error.LedgerException;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The HTTP verticle runs the reads in its own event loop (verticle.InProcessLedger) instead of sending them over
 * the event bus: what it answers is what the ledger's address answers.
 */
class InProcessReadsTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(started -> app = started);

  @Test
  void httpReadsAnswerWhatTheirAddressesAnswer() {
    app.user("reader");
    assertThat(app.grant("reader", "reader-g1", "purchase", 500).status()).isEqualTo(201);
    assertThat(app.api.post("/v1/users/reader/consume", new JsonObject().put("operationId", "reader-c1")
        .put("amount", 120)).status()).isEqualTo(200);
    LedgerClient bus = new LedgerClient(app.vertx);
    JsonObject user = new JsonObject().put("userId", "reader");

    assertSame(app.api.get("/v1/users/reader/balance"), bus, Addresses.BALANCE, user);
    assertSame(app.api.get("/v1/users/reader"), bus, Addresses.USER_GET, user);
    assertSame(app.api.get("/v1/users/reader/grants?limit=5"), bus, Addresses.GRANT_LIST, user.copy().put("limit", 5));
    assertSame(app.api.get("/v1/users/reader/ledger?limit=5"), bus, Addresses.JOURNAL, user.copy().put("limit", 5));
  }

  @Test
  void failuresAreTheAddressesFailures() {
    Api.Response http = app.api.get("/v1/users/nobody-here/balance");
    assertThat(http.status()).isEqualTo(404);
    assertThat(http.errorCode()).isEqualTo("user_not_found");
    LedgerClient bus = new LedgerClient(app.vertx);
    assertThatThrownBy(() -> TestApp.await(bus.request(Addresses.BALANCE, new JsonObject().put("userId", "nobody-here"))))
        .isInstanceOfSatisfying(LedgerException.class, e -> assertThat(e.code()).isEqualTo(http.errorCode()))
        .hasMessage(http.json().getJsonObject("error").getString("message"));
  }

  private static void assertSame(Api.Response http, LedgerClient bus, String address, JsonObject request) {
    assertThat(http.status()).isEqualTo(200);
    assertThat(http.json()).isEqualTo(TestApp.await(bus.request(address, request)).body());
  }
}
