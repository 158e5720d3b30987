package io.creditledger;

import io.creditledger.api.LedgerClient;
import io.creditledger.apikeys.ApiKeyCrypto;
import io.creditledger.apikeys.VaultSecret;
import io.creditledger.auth.ApiTokens;
import io.creditledger.config.LedgerConfig;
import io.creditledger.config.PoolSettings;
import io.creditledger.db.DatabasePool;
import io.creditledger.db.Migrations;
import io.creditledger.db.PostgresServer;
import io.creditledger.http.HttpVerticle;
import io.creditledger.verticle.AuditVerticle;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.verticle.EventRelayVerticle;
import io.creditledger.verticle.MetricsVerticle;
import io.creditledger.verticle.HoldSweepVerticle;
import io.creditledger.verticle.InProcessLedger;
import io.creditledger.verticle.LedgerVerticle;
import io.creditledger.verticle.LedgerWriterVerticle;
import io.creditledger.verticle.ResetVerticle;
import io.creditledger.verticle.StripeRelayVerticle;
import io.creditledger.verticle.StripeVerticle;
import io.creditledger.verticle.VaultVerticle;
import io.creditledger.verticle.Wiring;
import io.creditledger.wire.LocalCodec;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Route;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service's one entry point: deploys the credit ledger's verticles into a Vert.x instance. The
 * standalone {@link Main} uses it, and so can a host application that wants to co-deploy the ledger and
 * call its event-bus addresses (see {@link io.creditledger.api.LedgerClient}) directly.
 *
 * <p>Deploying starts the embedded PostgreSQL when no database is configured, applies pending migrations,
 * resolves the API tokens, creates the pool, then deploys the ledger verticles and the HTTP verticles.
 */
public final class CreditLedger {
  private static final Logger log = LoggerFactory.getLogger(CreditLedger.class);

  private final Vertx vertx;
  private final PostgresServer postgres;
  private final Pool pool;
  private final ApiTokens tokens;
  private final int httpPort;
  private final List<String> deployments;
  private final HttpVerticle http;

  private CreditLedger(Vertx vertx, PostgresServer postgres, Pool pool, ApiTokens tokens, int httpPort,
                       List<String> deployments, HttpVerticle http) {
    this.vertx = vertx;
    this.postgres = postgres;
    this.pool = pool;
    this.tokens = tokens;
    this.httpPort = httpPort;
    this.deployments = deployments;
    this.http = http;
  }

  private record Prepared(PostgresServer postgres, int changeSets, ApiTokens tokens, ApiKeyCrypto vault) {
  }

  public static Future<CreditLedger> deploy(Vertx vertx, LedgerConfig config) {
    return vertx.executeBlocking(() -> prepare(config), false).compose(prepared -> {
      PoolSettings settings = config.databasePool();
      DatabasePool pool = DatabasePool.create(vertx, prepared.postgres().url().connectOptions(), settings.size(),
          settings.maxWaiting(), settings.acquireTimeout());
      List<String> deployments = Collections.synchronizedList(new ArrayList<>());
      AtomicInteger port = new AtomicInteger();
      List<HttpVerticle> http = Collections.synchronizedList(new ArrayList<>());
      DeploymentOptions instances = new DeploymentOptions().setInstances(config.verticleInstances());
      LocalCodec.register(vertx.eventBus());
      LedgerMeters meters = LedgerMeters.of(vertx);
      Wiring wiring = Wiring.of(vertx, pool, pool.reads(), config, prepared.changeSets(), prepared.vault(), meters);
      InProcessLedger ledger = new InProcessLedger(wiring, new LedgerClient(vertx));
      return vertx.deployVerticle(() -> new LedgerVerticle(wiring), instances)
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new LedgerWriterVerticle(wiring)))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new StripeVerticle(wiring)))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new VaultVerticle(wiring)))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new AuditVerticle(wiring)))
          .onSuccess(deployments::add)
          .compose(id -> deployRelay(vertx, config, pool, prepared.postgres(), wiring))
          .onSuccess(id -> {
            if (id != null) {
              deployments.add(id);
            }
          })
          .compose(id -> vertx.deployVerticle(new ResetVerticle(pool, config, wiring.commands(),
              wiring.stores().resetClaims(), meters)))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new HoldSweepVerticle(wiring.holds(), config.holds().sweepInterval())))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new MetricsVerticle(pool, config, wiring.stores().metrics(), meters)))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(new EventRelayVerticle(pool, config,
              prepared.postgres().url().connectOptions(), wiring.stores().events())))
          .onSuccess(deployments::add)
          .compose(id -> vertx.deployVerticle(() -> {
            HttpVerticle verticle = new HttpVerticle(config, prepared.tokens(), wiring.commands(), ledger, port::set,
                meters::scrape);
            http.add(verticle);
            return verticle;
          }, instances))
          .onSuccess(deployments::add)
          .map(id -> new CreditLedger(vertx, prepared.postgres(), pool, prepared.tokens(), port.get(), deployments,
              http.get(0)))
          .recover(failure -> undeployAll(vertx, deployments)
              .eventually(pool::close)
              .eventually(() -> vertx.executeBlocking(() -> {
                prepared.postgres().close();
                return null;
              }))
              .transform(ignored -> Future.failedFuture(failure)));
    });
  }

  /** One Stripe relay per process; none without STRIPE_API_KEY (outbox rows then wait). */
  private static Future<String> deployRelay(Vertx vertx, LedgerConfig config, Pool pool, PostgresServer postgres,
                                            Wiring wiring) {
    if (!config.stripe().relayEnabled()) {
      log.warn("STRIPE_API_KEY is not set: grants of users with a Stripe customer wait in the outbox");
      return Future.succeededFuture(null);
    }
    return vertx.deployVerticle(new StripeRelayVerticle(pool, config, postgres.url().connectOptions(),
        wiring.stores().outbox(), wiring.stripe(), wiring.autoTopUps(), wiring.outbox(), wiring.meters()));
  }

  private static Prepared prepare(LedgerConfig config) {
    PostgresServer postgres = PostgresServer.open(config);
    try {
      int changeSets = Migrations.apply(postgres.url());
      return new Prepared(postgres, changeSets, ApiTokens.resolve(config), VaultSecret.resolve(config));
    } catch (RuntimeException e) {
      postgres.close();
      throw e;
    }
  }

  /**
   * Stops in order: HTTP first (no new requests; in-flight ones finish), then the ledger, then the pool,
   * then the embedded PostgreSQL.
   */
  public Future<Void> close() {
    return undeployAll(vertx, deployments)
        .eventually(pool::close)
        .eventually(() -> vertx.executeBlocking(() -> {
          postgres.close();
          return null;
        }))
        .mapEmpty();
  }

  private static Future<Void> undeployAll(Vertx vertx, List<String> deployments) {
    Future<Void> chain = Future.succeededFuture();
    List<String> newestFirst = new ArrayList<>(deployments);
    Collections.reverse(newestFirst);
    for (String id : newestFirst) {
      chain = chain.eventually(() -> vertx.undeploy(id).otherwise(e -> {
        log.warn("Undeploying {} failed: {}", id, e.toString());
        return null;
      }));
    }
    deployments.clear();
    return chain;
  }

  /** The port the HTTP API listens on (useful when configured as 0). */
  public int httpPort() {
    return httpPort;
  }

  /** The HTTP API's routes (every HTTP verticle instance serves the same); for tests, which audit the edge by them. */
  public List<Route> routes() {
    return http.routes();
  }

  public ApiTokens tokens() {
    return tokens;
  }

  /** Where the data lives; for tests and tools of this project. */
  public Pool pool() {
    return pool;
  }

  public PostgresServer postgres() {
    return postgres;
  }
}
