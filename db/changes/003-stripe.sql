--liquibase formatted sql

--changeset ledger:003-stripe-mirror
-- What the Stripe mirror needs to know on a grant: whether it is mirrored (the customer at grant time), the
-- Stripe credit grant it became, whether that was voided, and the PaymentIntent a purchase came from.
ALTER TABLE grants
  ADD COLUMN stripe_customer_id text,
  ADD COLUMN stripe_grant_id    text,
  ADD COLUMN stripe_voided_at   timestamptz,
  ADD COLUMN payment_intent_id  text;
CREATE INDEX grants_payment_intent ON grants (payment_intent_id) WHERE payment_intent_id IS NOT NULL;

-- The transactional outbox: written in the transaction that changes the grant, sent to Stripe by the relay.
CREATE TABLE stripe_outbox (
  outbox_id        bigserial PRIMARY KEY,
  grant_id         bigint NOT NULL REFERENCES grants (grant_id),
  user_id          text NOT NULL,
  action           text NOT NULL CHECK (action IN ('create_credit_grant', 'void_credit_grant')),
  idempotency_key  text NOT NULL UNIQUE,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  lease_owner      text,
  lease_until      timestamptz,
  last_error       text,
  stripe_object_id text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  delivered_at     timestamptz
);
CREATE INDEX stripe_outbox_due ON stripe_outbox (next_attempt_at, outbox_id) WHERE status = 'pending';
CREATE INDEX stripe_outbox_grant ON stripe_outbox (grant_id, outbox_id);
CREATE INDEX stripe_outbox_status ON stripe_outbox (status, outbox_id);
CREATE INDEX stripe_outbox_delivered ON stripe_outbox (delivered_at) WHERE status = 'delivered';

-- Each Stripe event is handled once; a replay finds its id here.
CREATE TABLE stripe_events (
  event_id    text PRIMARY KEY,
  type        text NOT NULL,
  received_at timestamptz NOT NULL
);
--rollback DROP TABLE stripe_events; DROP TABLE stripe_outbox; ALTER TABLE grants DROP COLUMN stripe_customer_id, DROP COLUMN stripe_grant_id, DROP COLUMN stripe_voided_at, DROP COLUMN payment_intent_id;

--changeset ledger:003-stripe-outbox-notify splitStatements:false
-- Wakes the relays when outbox rows commit (NOTIFY is delivered at commit, never for a rolled-back row).
CREATE FUNCTION stripe_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stripe_outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER stripe_outbox_notify AFTER INSERT ON stripe_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION stripe_outbox_notify();
--rollback DROP TRIGGER stripe_outbox_notify ON stripe_outbox; DROP FUNCTION stripe_outbox_notify;
