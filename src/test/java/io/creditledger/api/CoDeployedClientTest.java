package io.creditledger.api;

import io.creditledger.support.TestApp;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A host application's verticle, deployed in the ledger's Vert.x instance, uses the typed client. */
class CoDeployedClientTest {
  static TestApp app;

  @BeforeAll
  static void boot() {
    app = TestApp.start();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** What a host application would write: its own verticle calling the ledger over the event bus. */
  static final class HostVerticle extends VerticleBase {
    final VertxTestContext testContext;

    HostVerticle(VertxTestContext testContext) {
      this.testContext = testContext;
    }

    @Override
    public Future<?> start() {
      LedgerClient ledger = new LedgerClient(vertx);
      ledger.putUser("host-user", "host@example.com", "cus_HOST", new BigDecimal("2.5"))
          .compose(saved -> {
            testContext.verify(() -> {
              assertThat(saved.created()).isTrue();
              assertThat(saved.user().centsPerCredit()).isEqualByComparingTo("2.5");
            });
            return ledger.putUser("host-user", "host2@example.com", null, null);
          })
          .compose(saved -> {
            testContext.verify(() -> assertThat(saved.created()).isFalse());
            return ledger.getUser("host-user");
          })
          .compose(user -> {
            testContext.verify(() -> {
              assertThat(user.email()).isEqualTo("host2@example.com");
              assertThat(user.stripeCustomerId()).isEqualTo("cus_HOST");
            });
            return ledger.getUser("missing-user");
          })
          .onComplete(missing -> testContext.verify(() -> {
            assertThat(missing.failed()).isTrue();
            assertThat(missing.cause()).isInstanceOf(LedgerException.class);
            LedgerException e = (LedgerException) missing.cause();
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.code()).isEqualTo("user_not_found");
            testContext.completeNow();
          }));
      return Future.succeededFuture();
    }
  }

  @Test
  void coDeployedVerticleCallsTheUsersAddresses() throws Exception {
    VertxTestContext testContext = new VertxTestContext();
    app.vertx.deployVerticle(new HostVerticle(testContext)).onFailure(testContext::failNow);
    assertThat(testContext.awaitCompletion(30, TimeUnit.SECONDS)).isTrue();
    if (testContext.failed()) {
      throw new AssertionError(testContext.causeOfFailure());
    }
  }

  @Test
  void badRequestsOverTheBusGetTheSameCodesAsHttp() {
    LedgerClient ledger = new LedgerClient(app.vertx);
    LedgerException invalid = failureOf(ledger.putUser("x", "not-an-email", null, null));
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.code()).isEqualTo("invalid_field");

    LedgerException notJson = failureOf(app.vertx.eventBus().request(Addresses.USER_GET, "u1")
        .recover(e -> Future.failedFuture(LedgerException.fromReply(
            ((io.vertx.core.eventbus.ReplyException) e).failureCode(), e.getMessage()))));
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.code()).isEqualTo("invalid_body");
  }

  private static LedgerException failureOf(Future<?> future) {
    Throwable outcome = TestApp.await(future.map(ok -> (Throwable) null).otherwise(e -> e));
    assertThat(outcome).isInstanceOf(LedgerException.class);
    return (LedgerException) outcome;
  }
}
