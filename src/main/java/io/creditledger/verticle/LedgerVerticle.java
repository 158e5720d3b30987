package io.creditledger.verticle;

import io.creditledger.service.GrantOnce;
import io.creditledger.service.GrantRevoker;
import io.creditledger.service.GrantWriter;
import io.creditledger.service.LedgerService;
import io.creditledger.service.ReferralService;
import io.creditledger.service.Refunds;
import io.creditledger.service.ResetService;
import io.creditledger.service.UserLocks;
import io.creditledger.store.LedgerStore;
import io.creditledger.api.Addresses;
import io.creditledger.apikeys.ApiKeyCrypto;
import io.creditledger.service.ApiKeyVault;
import io.creditledger.service.AuditService;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.service.OutboxAdminService;
import io.creditledger.store.OutboxStore;
import io.creditledger.service.ReconcileService;
import io.creditledger.stripe.StripeGateway;
import io.creditledger.service.StripeWebhookService;
import io.creditledger.service.UserService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.util.List;

/**
 * Owns the ledger's data: every event-bus address that reads or changes it is served here, so the HTTP
 * verticle and co-deployed verticles of a host application go through the same code.
 */
public final class LedgerVerticle extends VerticleBase {
  private final Pool pool;
  private final LedgerConfig config;
  private final int expectedChangeSets;
  private final ApiKeyCrypto vaultCrypto;

  /** @param vaultCrypto null when the API-key vault is off */
  public LedgerVerticle(Pool pool, LedgerConfig config, int expectedChangeSets, ApiKeyCrypto vaultCrypto) {
    this.pool = pool;
    this.config = config;
    this.expectedChangeSets = expectedChangeSets;
    this.vaultCrypto = vaultCrypto;
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    Transactions transactions = new Transactions(vertx, pool, config.clock());
    LedgerStore store = new LedgerStore();
    OutboxStore outbox = new OutboxStore();
    GrantRevoker revoker = new GrantRevoker(store, outbox, config.stripe().currency());
    Refunds refunds = new Refunds(store, revoker);
    GrantWriter grants = new GrantWriter(config, store, outbox, refunds);
    ResetService resets = new ResetService(pool, config, transactions, store, grants, outbox);
    UserLocks locks = new UserLocks(store, resets);
    GrantOnce grantOnce = new GrantOnce(locks, grants);
    UserService users = new UserService(pool, config, transactions, grants, resets);
    LedgerService ledger = new LedgerService(pool, config, transactions, store, grantOnce, revoker, outbox, locks,
        resets);
    ReferralService referrals = new ReferralService(config, transactions, store, grants, resets);
    ApiKeyVault vault = new ApiKeyVault(pool, config, vaultCrypto);
    OutboxAdminService outboxAdmin = new OutboxAdminService(pool, config, outbox);
    ReconcileService reconcile = new ReconcileService(pool, config, outbox,
        config.stripe().relayEnabled() ? new StripeGateway(config.stripe()) : null,
        vertx.createSharedWorkerExecutor("stripe-reconcile", 1));
    StripeWebhookService webhooks = new StripeWebhookService(vertx, pool, config, transactions, store, grantOnce,
        grants, revoker, refunds, locks, outbox);
    return Future.all(List.of(
        Endpoints.serve(bus, Addresses.READY, body -> ready()),
        Endpoints.serve(bus, Addresses.USER_PUT, users::put),
        Endpoints.serve(bus, Addresses.USER_GET, users::get),
        Endpoints.serve(bus, Addresses.GRANT_CREATE, ledger::grant),
        Endpoints.serve(bus, Addresses.GRANT_LIST, ledger::listGrants),
        Endpoints.serve(bus, Addresses.GRANT_REVOKE, ledger::revoke),
        Endpoints.serve(bus, Addresses.CONSUME, ledger::consume),
        Endpoints.serve(bus, Addresses.BALANCE, ledger::balance),
        Endpoints.serve(bus, Addresses.JOURNAL, ledger::journal),
        Endpoints.serve(bus, Addresses.REFERRAL_CREATE, referrals::refer),
        Endpoints.serve(bus, Addresses.OUTBOX_LIST, outboxAdmin::list),
        Endpoints.serve(bus, Addresses.OUTBOX_RETRY, outboxAdmin::retry),
        Endpoints.serve(bus, Addresses.STRIPE_RECONCILE, reconcile::run),
        Endpoints.serve(bus, Addresses.STRIPE_RECONCILE_LAST, reconcile::last),
        Endpoints.serve(bus, Addresses.STRIPE_WEBHOOK, webhooks::handle),
        Endpoints.serve(bus, Addresses.RESET_APPLY, resets::apply),
        Endpoints.serve(bus, Addresses.API_KEY_PUT, vault::encryptAndStoreApiKey),
        Endpoints.serve(bus, Addresses.API_KEY_GET, vault::retrieveAndDecryptApiKey),
        Endpoints.serve(bus, Addresses.API_KEY_DELETE, vault::clearApiKey),
        Endpoints.serve(bus, Addresses.AUDIT, new AuditService(pool, config)::run)));
  }

  /** Ready when the database answers and holds every changeset of the changelog this build carries. */
  private Future<Reply> ready() {
    return pool.query("SELECT count(*) FROM databasechangelog").execute()
        .map(rows -> {
          long applied = rows.iterator().next().getLong(0);
          if (applied < expectedChangeSets) {
            throw new LedgerException(ErrorCode.MIGRATIONS_PENDING,
                (expectedChangeSets - applied) + " database migrations are not applied");
          }
          return Reply.ok(new JsonObject().put("status", "ready").put("changeSets", applied));
        });
  }
}
