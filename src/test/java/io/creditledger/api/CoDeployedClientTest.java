package io.creditledger.api;

import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.JournalKind;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Errors;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigDecimal;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A host application's verticle, deployed in the ledger's Vert.x instance, uses the typed client. */
class CoDeployedClientTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(started -> app = started);

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

  /** A host verticle running a whole ledger workflow over the event bus. */
  static final class LedgerWorkflowVerticle extends VerticleBase {
    final VertxTestContext testContext;

    LedgerWorkflowVerticle(VertxTestContext testContext) {
      this.testContext = testContext;
    }

    @Override
    public Future<?> start() {
      LedgerClient ledger = new LedgerClient(vertx);
      ledger.putUser("bus-a", "a@example.com", null, null)
          .compose(a -> ledger.putUser("bus-b", "b@example.com", null, null))
          .compose(b -> ledger.grant("bus-a", "bus-a-p", GrantType.PURCHASE, 500, "bought", null))
          .compose(g -> {
            testContext.verify(() -> {
              assertThat(g.principal()).isEqualTo(500);
              assertThat(g.type()).isEqualTo(GrantType.PURCHASE);
              assertThat(g.description()).isEqualTo("bought");
              assertThat(g.expiresAt()).isNull();
            });
            return ledger.consume("bus-a", "bus-a-c", 150);
          })
          .compose(c -> {
            testContext.verify(() -> {
              assertThat(c.consumed()).isEqualTo(150);
              assertThat(c.fromPurchased()).as("the sign-up free grant goes first").isEqualTo(50);
              assertThat(c.balance().totalRemaining()).isEqualTo(450);
            });
            return ledger.refer("bus-ref", "bus-a", "bus-b", 25);
          })
          .compose(ref -> {
            testContext.verify(() -> assertThat(ref.referredGrant().grant().userId()).isEqualTo("bus-b"));
            return ledger.revoke("bus-a-p", "chargeback");
          })
          .compose(revoked -> {
            testContext.verify(() -> {
              assertThat(revoked.grant().state()).isEqualTo("revoked");
              assertThat(revoked.revoked()).isEqualTo(450);
            });
            return ledger.balance("bus-a");
          })
          .compose(balance -> {
            testContext.verify(() -> {
              assertThat(balance.totalRemaining()).isEqualTo(25);
              assertThat(balance.breakdown()).containsEntry(GrantType.REFERRAL, 25L)
                  .containsEntry(GrantType.PURCHASE, 0L);
              assertThat(balance.usageThisCycle()).isEqualTo(150);
            });
            return ledger.grants("bus-a", 10, null);
          })
          .compose(grants -> {
            testContext.verify(() -> assertThat(grants).extracting(GrantView::operationId)
                .containsExactly("bus-ref-referrer", "bus-a-p", "free/bus-a/" + grants.get(2).expiresAt()));
            return ledger.journal("bus-a", 2, null);
          })
          .compose(entries -> {
            testContext.verify(() -> assertThat(entries).extracting(JournalEntry::kind)
                .containsExactly(JournalKind.REVOKE, JournalKind.GRANT));
            return ledger.consume("bus-b", "bus-b-c", 100_000);
          })
          .onComplete(refused -> testContext.verify(() -> {
            assertThat(refused.cause()).isInstanceOf(LedgerException.class);
            assertThat(((LedgerException) refused.cause()).code()).isEqualTo("insufficient_credits");
            assertThat(((LedgerException) refused.cause()).status()).isEqualTo(402);
            testContext.completeNow();
          }));
      return Future.succeededFuture();
    }
  }

  @Test
  void coDeployedVerticleRunsTheLedgerOperations() throws Exception {
    VertxTestContext testContext = new VertxTestContext();
    app.vertx.deployVerticle(new LedgerWorkflowVerticle(testContext)).onFailure(testContext::failNow);
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
        .recover(e -> Future.failedFuture(Errors.fromReply(e.getMessage()))));
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.code()).isEqualTo("invalid_body");
  }

  private static LedgerException failureOf(Future<?> future) {
    Throwable outcome = TestApp.await(future.map(ok -> (Throwable) null).otherwise(e -> e));
    assertThat(outcome).isInstanceOf(LedgerException.class);
    return (LedgerException) outcome;
  }
}
