--liquibase formatted sql

--changeset ledger:012-auto-top-up
-- Auto top-up: a user's saved-card purchase when the balance runs low. Every writer of a row holds its user's
-- lock (the write batch, the settings, the outcome of a payment), so in_flight, the operationId of the top-up
-- being paid, allows at most one at a time per user, across instances too.
CREATE TABLE auto_top_ups (
  user_id           text PRIMARY KEY REFERENCES users (user_id),
  enabled           boolean NOT NULL,
  threshold         bigint NOT NULL CHECK (threshold >= 0),
  amount            bigint NOT NULL CHECK (amount > 0),
  payment_method_id text,
  in_flight         text,
  started           integer NOT NULL DEFAULT 0,
  last_attempt_at   timestamptz,
  last_error        text,
  disabled_reason   text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);

ALTER TABLE stripe_outbox DROP CONSTRAINT stripe_outbox_action_check;
ALTER TABLE stripe_outbox ADD CONSTRAINT stripe_outbox_action_check
  CHECK (action IN ('create_credit_grant', 'void_credit_grant', 'report_usage', 'create_payment_intent'));
--rollback ALTER TABLE stripe_outbox DROP CONSTRAINT stripe_outbox_action_check; ALTER TABLE stripe_outbox ADD CONSTRAINT stripe_outbox_action_check CHECK (action IN ('create_credit_grant', 'void_credit_grant', 'report_usage')); DROP TABLE auto_top_ups;
