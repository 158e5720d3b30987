package io.creditledger.verticle;

import io.creditledger.apikeys.ApiKeyCrypto;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.service.ApiKeyVault;
import io.creditledger.service.AuditService;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.service.AutoTopUpService;
import io.creditledger.service.EventAdminService;
import io.creditledger.service.GrantOnce;
import io.creditledger.service.GrantRevoker;
import io.creditledger.service.GrantWriter;
import io.creditledger.service.HoldService;
import io.creditledger.service.LedgerService;
import io.creditledger.service.OutboxAdminService;
import io.creditledger.service.ReadinessService;
import io.creditledger.service.ReconcileService;
import io.creditledger.service.ReferralService;
import io.creditledger.service.Refunds;
import io.creditledger.service.ResetService;
import io.creditledger.service.StripeWebhookService;
import io.creditledger.service.UserLocks;
import io.creditledger.service.OrgService;
import io.creditledger.service.UserService;
import io.creditledger.service.WriteBatch;
import io.creditledger.service.WriteQueue;
import io.creditledger.store.Stores;
import io.creditledger.stripe.StripeGateway;
import io.creditledger.wire.Commands;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;

/**
 * The composition root: every store and service of one ledger, built once and shared by its verticles (they hold
 * no state of their own, so the instances of a verticle share them too), and the parser every edge reads requests
 * with. The one exception is {@link WriteQueue}, the write path's mailbox, which the single
 * {@link LedgerWriterVerticle} owns. {@code stripe} (null without a Stripe API key) is the process's one Stripe
 * client, so the relay, reconciliation and webhooks share its connections.
 */
public record Wiring(Stores stores, Commands commands, ReadinessService readiness, UserService users,
                     LedgerService ledger, WriteQueue writes, ResetService resets,
                     StripeWebhookService webhooks, OutboxAdminService outbox, ReconcileService reconcile,
                     AuditService audit, ApiKeyVault vault, StripeGateway stripe, HoldService holds,
                     EventAdminService events, AutoTopUpService autoTopUps, OrgService orgs, LedgerMeters meters) {

  /**
   * @param reads where the hot one-shot reads go ({@link io.creditledger.db.DatabasePool#reads()}, or the pool)
   * @param vaultCrypto null when the API-key vault is off
   */
  public static Wiring of(Vertx vertx, Pool pool, SqlClient reads, LedgerConfig config, int expectedChangeSets,
                          ApiKeyCrypto vaultCrypto, LedgerMeters meters) {
    Stores stores = Stores.create(config);
    Transactions transactions = new Transactions(vertx, pool, config.clock(), stores.syncFailures(),
        meters::transactionRetry);
    StripeGateway gateway = config.stripe().relayEnabled() ? new StripeGateway(config.stripe()) : null;
    GrantRevoker revoker = new GrantRevoker(stores, config.stripe().currency());
    Refunds refunds = new Refunds(stores, revoker);
    GrantWriter grants = new GrantWriter(config, stores, refunds);
    ResetService resets = new ResetService(pool, config, transactions, stores);
    UserLocks locks = new UserLocks(stores, resets);
    GrantOnce grantOnce = new GrantOnce(locks, grants);
    LedgerService ledger = new LedgerService(pool, reads, config, transactions, stores, grantOnce, revoker, locks,
        resets);
    WriteBatch batch = new WriteBatch(config, stores, resets, ledger, new ReferralService(config, stores, grants, resets));
    AutoTopUpService autoTopUps = new AutoTopUpService(pool, config, transactions, stores, locks, grantOnce);
    return new Wiring(
        stores,
        new Commands(config, vaultCrypto != null),
        new ReadinessService(pool, stores, expectedChangeSets),
        new UserService(pool, config, transactions, stores, grants, resets),
        ledger,
        new WriteQueue(config, transactions, batch, meters),
        resets,
        new StripeWebhookService(vertx, pool, config, transactions, stores, grantOnce, grants, revoker, refunds, locks,
            gateway, autoTopUps),
        new OutboxAdminService(pool, config, stores),
        new ReconcileService(pool, config, stores, gateway, vertx.createSharedWorkerExecutor("stripe-reconcile", 1)),
        new AuditService(pool, stores, meters),
        new ApiKeyVault(pool, config, vaultCrypto, stores),
        gateway,
        new HoldService(pool, reads, config, stores, resets),
        new EventAdminService(pool, config, stores),
        autoTopUps,
        new OrgService(pool, config, transactions, stores, resets, grants),
        meters);
  }
}
