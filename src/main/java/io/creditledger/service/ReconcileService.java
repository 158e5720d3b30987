package io.creditledger.service;

import com.stripe.model.billing.CreditGrant;
import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.MirrorDrift;
import io.creditledger.domain.ReconcileRun;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.retry.RatePacer;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.stripe.CreditGrantPayload;
import io.creditledger.stripe.StripeGateway;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Reconciles the ledger's Stripe mirror with Stripe itself: for each mirrored customer (of one user, or all, a
 * page at a time) it lists the customer's credit grants from Stripe, every page, paced under
 * {@code STRIPE_MAX_REQUESTS_PER_SECOND}, and compares them with the local grants ({@link MirrorDrift}). The run is
 * kept and shown by {@code GET /v1/admin/stripe/reconcile}. With {@code repair} the drift is mended through the
 * outbox, with keys derived from what drifted, so a repeated repair queues nothing twice: a missing or wrongly
 * voided mirror is created again (worth what the grant is worth now), a wrong amount or expiry is voided and
 * created again, and a Stripe grant the ledger does not want is voided. Nothing in Stripe is ever deleted.
 */
public final class ReconcileService {
  private static final int CUSTOMERS_PER_PAGE = 100;

  private final Pool pool;
  private final LedgerConfig config;
  private final OutboxStore store;
  private final StripeGateway gateway;
  private final WorkerExecutor worker;

  /** @param worker where Stripe is called (blocking); null when there is no Stripe API key */
  public ReconcileService(Pool pool, LedgerConfig config, Stores stores, StripeGateway gateway,
                          WorkerExecutor worker) {
    this.pool = pool;
    this.config = config;
    this.store = stores.outbox();
    this.gateway = gateway;
    this.worker = worker;
  }

  public Future<Answer<ReconcileRun>> run(Command.Reconcile c) {
    return reconcile(c.userId(), c.repair()).map(Answer::ok);
  }

  /** The last run as it was answered; 404 when none ran yet. */
  public Future<Answer<ReconcileRun>> last(Command.LastReconcile c) {
    return store.lastRun(pool).map(last -> Answer.ok(last.orElseThrow(
        () -> new LedgerException(ErrorCode.RECONCILE_NOT_RUN, "No reconciliation has run yet"))));
  }

  public Future<ReconcileRun> reconcile(String userId, boolean repair) {
    if (gateway == null) {
      return Future.failedFuture(new LedgerException(ErrorCode.STRIPE_NOT_CONFIGURED,
          "STRIPE_API_KEY is not set: there is no Stripe to reconcile with"));
    }
    Instant started = Now.of(config.clock());
    RatePacer pacer = new RatePacer(config.stripe().maxRequestsPerSecond());
    List<MirrorDrift.Drift> drift = new ArrayList<>();
    int[] checked = {0};
    return customers(userId, "", pacer, drift, checked)
        .compose(v -> repair && !drift.isEmpty() ? repair(drift) : Future.succeededFuture())
        .compose(v -> {
          List<ReconcileRun.DriftReport> reports = drift.stream().map(MirrorDrift.Drift::report).toList();
          Instant finished = Now.of(config.clock());
          ReconcileRun run = new ReconcileRun(0, userId, repair, checked[0], repair && !drift.isEmpty(), reports, started,
              finished);
          return store.recordRun(pool, run).map(runId -> new ReconcileRun(runId, userId, repair,
              run.checked(), run.repaired(), reports, started, finished));
        });
  }

  /** One page of customers after {@code after}, then the next. */
  private Future<Void> customers(String userId, String after, RatePacer pacer, List<MirrorDrift.Drift> drift,
                                 int[] checked) {
    return store.mirroredCustomers(pool, userId, after, CUSTOMERS_PER_PAGE).compose(page -> {
      Future<Void> chain = Future.succeededFuture();
      for (String customer : page) {
        chain = chain.compose(v -> customer(customer, pacer)).map(found -> {
          drift.addAll(found);
          checked[0]++;
          return null;
        });
      }
      return page.size() < CUSTOMERS_PER_PAGE ? chain
          : chain.compose(v -> customers(userId, page.get(page.size() - 1), pacer, drift, checked));
    });
  }

  private Future<List<MirrorDrift.Drift>> customer(String customer, RatePacer pacer) {
    Future<List<MirrorDrift.Local>> locals = store.localMirrors(pool, customer);
    Future<String> owner = store.customerOwner(pool, customer);
    Future<List<MirrorDrift.Remote>> remotes = worker.executeBlocking(() -> {
      List<MirrorDrift.Remote> out = new ArrayList<>();
      for (CreditGrant g : gateway.creditGrants(customer, () -> pace(pacer))) {
        out.add(remote(g));
      }
      return out;
    }, true);
    return Future.all(locals, owner, remotes)
        .map(all -> MirrorDrift.compare(owner.result(), locals.result(), remotes.result()));
  }

  /** Waits for the next request slot; runs on the (ordered) worker. */
  private static void pace(RatePacer pacer) {
    long waitNanos = pacer.reserve(System.nanoTime());
    if (waitNanos > 0) {
      LockSupport.parkNanos(waitNanos);
    }
  }

  static MirrorDrift.Remote remote(CreditGrant g) {
    long cents = g.getAmount() == null || g.getAmount().getMonetary() == null ? 0
        : g.getAmount().getMonetary().getValue();
    String operationId = g.getMetadata() == null ? null : g.getMetadata().get("operationId");
    return new MirrorDrift.Remote(g.getId(), operationId, cents, g.getVoidedAt() != null, g.getExpiresAt());
  }

  /** Queues what mends the drift, in one transaction; the relay sends it. */
  private Future<Void> repair(List<MirrorDrift.Drift> drift) {
    Instant now = Now.of(config.clock());
    return pool.withTransaction(conn -> {
      Future<Void> chain = Future.succeededFuture();
      for (MirrorDrift.Drift d : drift) {
        chain = chain.compose(v -> repair(conn, d, now));
      }
      return chain;
    });
  }

  private Future<Void> repair(SqlConnection conn, MirrorDrift.Drift d, Instant now) {
    String currency = config.stripe().currency();
    return switch (d.kind()) {
      case MISSING_IN_STRIPE -> restore(conn, d.local(), String.valueOf(d.local().grant().stripeGrantId()), currency, now);
      case VOIDED_MISMATCH -> d.remote().voided()
          ? restore(conn, d.local(), d.remote().id(), currency, now)
          : voidIt(conn, d, now);
      case AMOUNT_MISMATCH, EXPIRY_MISMATCH -> voidIt(conn, d, now)
          .compose(v -> restore(conn, d.local(), d.remote().id(), currency, now));
      case UNKNOWN_IN_STRIPE -> voidIt(conn, d, now);
    };
  }

  private Future<Void> restore(SqlConnection conn, MirrorDrift.Local local, String replacing, String currency,
                               Instant now) {
    String key = CreditGrantPayload.key("ledger-create-" + local.grant().operationId() + "-restore-" + replacing);
    return store.enqueueRestore(conn, local.grant(), local.expectedCents(), currency, key, now);
  }

  private Future<Void> voidIt(SqlConnection conn, MirrorDrift.Drift d, Instant now) {
    String key = CreditGrantPayload.key("ledger-void-" + (d.operationId() == null ? "stripe" : d.operationId())
        + "-repair-" + d.remote().id());
    return store.enqueueVoidOf(conn, d.local() == null ? null : d.local().grant(), d.userId(), d.remote().id(), key,
        now);
  }
}
