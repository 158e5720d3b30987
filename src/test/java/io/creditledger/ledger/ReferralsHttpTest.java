package io.creditledger.ledger;

import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReferralsHttpTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0", "REFERRAL_LIMIT", "2"), started -> app = started);

  private static Api.Response refer(String op, String referrer, String referred, Object credits) {
    return app.api.post("/v1/referrals", new JsonObject().put("operationId", op).put("referrerId", referrer)
        .put("referredId", referred).put("credits", credits));
  }

  @Test
  void oneReferralCreditsBothUsersInOneGo() {
    JsonObject referrer = app.user("r-alice");
    JsonObject referred = app.user("r-bob");
    Api.Response r = refer("r-ref-1", "r-alice", "r-bob", 50);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    JsonObject toReferrer = r.json().getJsonObject("referrerGrant");
    JsonObject toReferred = r.json().getJsonObject("referredGrant");
    assertThat(toReferrer.getString("operationId")).isEqualTo("r-ref-1-referrer");
    assertThat(toReferrer.getString("userId")).isEqualTo("r-alice");
    assertThat(toReferrer.getString("type")).isEqualTo("referral");
    assertThat(toReferrer.getString("expiresAt")).isEqualTo(referrer.getString("nextQuotaReset"));
    assertThat(toReferred.getString("operationId")).isEqualTo("r-ref-1-referred");
    assertThat(toReferred.getString("userId")).isEqualTo("r-bob");
    assertThat(toReferred.getString("expiresAt")).isEqualTo(referred.getString("nextQuotaReset"));
    assertThat(app.balance("r-alice").getJsonObject("breakdown").getLong("referral")).isEqualTo(50);
    assertThat(app.balance("r-bob").getJsonObject("breakdown").getLong("referral")).isEqualTo(50);

    Api.Response replay = refer("r-ref-1", "r-alice", "r-bob", 50);
    assertThat(replay.status()).isEqualTo(201);
    assertThat(replay.json()).isEqualTo(r.json());
    assertThat(refer("r-ref-1", "r-alice", "r-bob", 60).errorCode()).isEqualTo("operation_conflict");
    assertThat(app.balance("r-alice").getLong("totalRemaining")).isEqualTo(50);
  }

  @Test
  void theReferrerLimitIsEnforcedAndNothingIsWrittenPastIt() {
    app.user("r-lim");
    for (int i = 1; i <= 3; i++) {
      app.user("r-lim-friend-" + i);
    }
    assertThat(refer("r-lim-1", "r-lim", "r-lim-friend-1", 10).status()).isEqualTo(201);
    assertThat(refer("r-lim-2", "r-lim", "r-lim-friend-2", 10).status()).isEqualTo(201);
    Api.Response third = refer("r-lim-3", "r-lim", "r-lim-friend-3", 10);
    assertThat(third.status()).isEqualTo(409);
    assertThat(third.errorCode()).isEqualTo("referral_limit_reached");
    assertThat(app.grants("r-lim-friend-3")).isEmpty();
    assertThat(app.balance("r-lim").getLong("totalRemaining")).isEqualTo(20);
  }

  @Test
  void aUserIsReferredOnceAndNeverByThemselves() {
    app.user("r-x");
    app.user("r-y");
    app.user("r-z");
    assertThat(refer("r-once-1", "r-x", "r-y", 10).status()).isEqualTo(201);
    Api.Response twice = refer("r-once-2", "r-z", "r-y", 10);
    assertThat(twice.status()).isEqualTo(409);
    assertThat(twice.errorCode()).isEqualTo("already_referred");
    assertThat(app.grants("r-z")).isEmpty();
    Api.Response self = refer("r-self", "r-x", "r-x", 10);
    assertThat(self.status()).isEqualTo(400);
    assertThat(refer("r-missing", "r-x", "r-nobody", 10).status()).isEqualTo(404);
    assertThat(refer("r-bad", "r-x", "r-z", 0).status()).isEqualTo(400);
  }

  @Test
  void derivedOperationIdsAreGloballyUniqueToo() {
    app.user("r-p");
    app.user("r-q");
    app.grant("r-p", "r-taken-referrer", "purchase", 5);
    Api.Response r = refer("r-taken", "r-p", "r-q", 10);
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.errorCode()).isEqualTo("operation_conflict");
    assertThat(app.grants("r-q")).isEmpty();
  }
}
