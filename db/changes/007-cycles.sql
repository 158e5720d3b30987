--liquibase formatted sql

--changeset ledger:007-rollover-sources
-- Where each rollover grant's credits came from: every source grant (a purchase or an earlier rollover) with the
-- credits it brought, in the order they are spent (oldest source first), and how many of them refunds took back
-- later. A refund of a rolled-over purchase follows its credits here instead of finding its grant closed.
CREATE TABLE rollover_sources (
  rollover_grant_id bigint NOT NULL REFERENCES grants (grant_id),
  position          integer NOT NULL CHECK (position >= 0),
  source_grant_id   bigint NOT NULL UNIQUE REFERENCES grants (grant_id),
  credits           bigint NOT NULL CHECK (credits > 0),
  revoked           bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (rollover_grant_id, position),
  CHECK (revoked BETWEEN 0 AND credits)
);
--rollback DROP TABLE rollover_sources;

--changeset ledger:007-pending-refunds
-- Refunds whose purchase is not granted yet (webhooks arrive out of order): applied when the purchase is.
CREATE TABLE pending_refunds (
  charge_id         text PRIMARY KEY,
  payment_intent_id text NOT NULL,
  operation_id      text,
  amount            bigint NOT NULL CHECK (amount > 0),
  amount_refunded   bigint NOT NULL CHECK (amount_refunded >= 0),
  event_id          text NOT NULL,
  received_at       timestamptz NOT NULL
);
CREATE INDEX pending_refunds_payment_intent ON pending_refunds (payment_intent_id);
CREATE INDEX pending_refunds_operation ON pending_refunds (operation_id) WHERE operation_id IS NOT NULL;
--rollback DROP TABLE pending_refunds;

--changeset ledger:007-referral-limit
-- A user's own referral limit; NULL means the configured REFERRAL_LIMIT.
ALTER TABLE users ADD COLUMN referral_limit integer CHECK (referral_limit >= 0);
--rollback ALTER TABLE users DROP COLUMN referral_limit;

--changeset ledger:007-reset-failures
-- A user whose reset keeps failing backs off (claimed_until moves out) instead of stalling the scanner.
ALTER TABLE reset_claims ADD COLUMN failures integer NOT NULL DEFAULT 0, ADD COLUMN last_error text;
--rollback ALTER TABLE reset_claims DROP COLUMN failures, DROP COLUMN last_error;

--changeset ledger:007-outbox-first-attempt
-- Stripe keeps idempotency keys for 24 hours: a create first tried longer ago than that is looked up before
-- it is sent again.
ALTER TABLE stripe_outbox ADD COLUMN first_attempt_at timestamptz;
--rollback ALTER TABLE stripe_outbox DROP COLUMN first_attempt_at;
