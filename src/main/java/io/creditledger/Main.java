package io.creditledger;

import io.creditledger.config.ConfigException;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Migrations;
import io.creditledger.db.PostgresServer;
import io.creditledger.domain.AuditReport;
import io.creditledger.domain.ReconcileRun;
import io.creditledger.service.ReconcileService;
import io.creditledger.store.LedgerAudit;
import io.creditledger.verticle.Wiring;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The standalone service. {@code java -jar credit-ledger.jar [serve|migrate|migrate-status]}.
 * Exit codes: 0 done, 1 failed at runtime, 2 bad configuration or usage.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) {
    // what logs through java.util.logging (the JDBC driver of the migrations) goes out in the same format as the rest
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    String command = args.length == 0 ? "serve" : args[0];
    LedgerConfig config;
    try {
      config = ConfigLoader.fromEnvironment();
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    switch (command) {
      case "serve" -> serve(config);
      case "migrate" -> System.exit(migrate(config, false));
      case "migrate-status" -> System.exit(migrate(config, true));
      case "audit" -> System.exit(audit(config, args.length > 1 ? args[1] : null));
      case "reconcile" -> System.exit(reconcile(config, List.of(args).subList(1, args.length)));
      default -> {
        System.err.println("Usage: java -jar credit-ledger.jar [serve|migrate|migrate-status|audit [userId]"
            + "|reconcile [userId] [--repair]]");
        System.exit(2);
      }
    }
  }

  /** Applies pending migrations (or only lists them) and returns the exit code. */
  static int migrate(LedgerConfig config, boolean statusOnly) {
    try (PostgresServer postgres = PostgresServer.open(config)) {
      List<String> pending = Migrations.pending(postgres.url());
      if (statusOnly) {
        System.out.println(pending.size() + " pending changeset(s) on " + postgres.url().redacted());
        pending.forEach(c -> System.out.println("  " + c));
        return 0;
      }
      Migrations.apply(postgres.url());
      System.out.println("Applied " + pending.size() + " changeset(s) on " + postgres.url().redacted());
      pending.forEach(c -> System.out.println("  " + c));
      return 0;
    } catch (RuntimeException e) {
      System.err.println(e.getMessage());
      return 1;
    }
  }

  /** Prints every problem the audit finds; exit code 0 when clean, 1 when not (or when it cannot run). */
  public static int audit(LedgerConfig config, String userId) {
    Vertx vertx = Vertx.vertx();
    try (PostgresServer postgres = PostgresServer.open(config)) {
      Pool pool = PgBuilder.pool().connectingTo(postgres.url().connectOptions()).using(vertx).build();
      try {
        AuditReport report = new LedgerAudit(config).run(pool, userId).toCompletionStage().toCompletableFuture()
            .get(10, TimeUnit.MINUTES);
        report.problems().forEach(p -> System.out.println(p.check() + ": " + p.problem()));
        System.out.println(report.ok() ? "Audit clean" : "Audit found " + report.problems().size() + " problem(s)");
        return report.ok() ? 0 : 1;
      } finally {
        pool.close();
      }
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      System.err.println("Audit failed: " + cause.getMessage());
      return 1;
    } finally {
      vertx.close();
    }
  }

  /**
   * Compares the Stripe mirror with Stripe and prints each drift; with {@code --repair} queues the repairs for the
   * relay of a running service. Exit code 0 when there is no drift, 1 when there is (or when it cannot run).
   */
  public static int reconcile(LedgerConfig config, List<String> args) {
    boolean repair = args.contains("--repair");
    String userId = args.stream().filter(a -> !a.startsWith("--")).findFirst().orElse(null);
    if (!config.stripe().relayEnabled()) {
      System.err.println("Reconcile needs STRIPE_API_KEY");
      return 1;
    }
    Vertx vertx = Vertx.vertx();
    try (PostgresServer postgres = PostgresServer.open(config)) {
      Pool pool = PgBuilder.pool().connectingTo(postgres.url().connectOptions()).using(vertx).build();
      try {
        ReconcileService service = Wiring.of(vertx, pool, pool, config, 0, null, LedgerMeters.of(vertx)).reconcile();
        ReconcileRun result = service.reconcile(userId, repair).toCompletionStage().toCompletableFuture()
            .get(1, TimeUnit.HOURS);
        result.drift().forEach(d -> System.out.println(d.kind().wire() + ": user " + d.userId() + ", grant "
            + d.operationId() + ", Stripe grant " + d.stripeGrantId()));
        System.out.println("Checked " + result.checked() + " customer(s): " + (result.drift().isEmpty() ? "no drift"
            : result.drift().size() + " drift(s)" + (repair ? ", repairs queued" : "")));
        return result.drift().isEmpty() ? 0 : 1;
      } finally {
        pool.close();
      }
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      System.err.println("Reconcile failed: " + cause.getMessage());
      return 1;
    } finally {
      vertx.close();
    }
  }

  private static void serve(LedgerConfig config) {
    // the HTTP server, the pools and the event bus report into the registry GET /metrics scrapes
    Vertx vertx = LedgerMeters.instrumentedVertx(config.eventLoops());
    CreditLedger ledger;
    try {
      ledger = CreditLedger.deploy(vertx, config).toCompletionStage().toCompletableFuture().get();
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      System.err.println("Startup failed: " + cause.getMessage());
      log.debug("Startup failure", cause);
      vertx.close();
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Shutting down");
      try {
        ledger.close().eventually(vertx::close).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("Shutdown did not complete cleanly: {}", e.toString());
      }
    }, "shutdown"));
    if (ledger.tokens().generated()) {
      printTokens(config, ledger);
    }
    log.info("Credit ledger listening on port {} ({})", ledger.httpPort(), config);
  }

  /** Shown once, when this start generated tokens; they are kept under DATA_DIR for the next starts. */
  private static void printTokens(LedgerConfig config, CreditLedger ledger) {
    String base = "http://localhost:" + ledger.httpPort();
    System.out.println();
    System.out.println("Generated API tokens (kept in " + config.dataDir().resolve("tokens.json") + "):");
    System.out.println("  service token: " + ledger.tokens().service());
    System.out.println("  admin token:   " + ledger.tokens().admin());
    System.out.println("Try:");
    System.out.println("  curl -s -X PUT " + base + "/v1/users/alice -H 'Authorization: Bearer "
        + ledger.tokens().service() + "' -H 'Content-Type: application/json' -d '{\"email\":\"alice@example.com\"}'");
    System.out.println();
  }
}
