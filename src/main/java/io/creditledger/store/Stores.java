package io.creditledger.store;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.SyncFailures;

/**
 * Every store of one ledger, built once by the composition root and handed to the services and verticles that
 * need them. Stores hold SQL and no state, so one instance of each serves every verticle instance.
 */
public record Stores(UserStore users, LedgerStore ledger, OutboxStore outbox, ResetClaims resetClaims,
                     StripeEvents stripeEvents, SyncFailures syncFailures, ApiKeyStore apiKeys, LedgerAudit audit,
                     SchemaStore schema, HoldStore holds, EventStore events,
                     AutoTopUpStore autoTopUps, MetricsStore metrics, OrgStore orgs) {

  public static Stores create(LedgerConfig config) {
    return new Stores(new UserStore(), new LedgerStore(), new OutboxStore(), new ResetClaims(), new StripeEvents(),
        new SyncFailures(), new ApiKeyStore(), new LedgerAudit(config), new SchemaStore(), new HoldStore(), new EventStore(),
        new AutoTopUpStore(), new MetricsStore(), new OrgStore());
  }
}
