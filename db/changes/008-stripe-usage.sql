--liquibase formatted sql

--changeset ledger:008-outbox-usage
-- Usage reported to Stripe as meter events travels through the same outbox: a report belongs to a user, not to
-- a grant, so grant_id may be empty.
ALTER TABLE stripe_outbox ALTER COLUMN grant_id DROP NOT NULL;
ALTER TABLE stripe_outbox DROP CONSTRAINT stripe_outbox_action_check;
ALTER TABLE stripe_outbox ADD CONSTRAINT stripe_outbox_action_check
  CHECK (action IN ('create_credit_grant', 'void_credit_grant', 'report_usage'));
--rollback DELETE FROM stripe_outbox WHERE action = 'report_usage'; ALTER TABLE stripe_outbox DROP CONSTRAINT stripe_outbox_action_check; ALTER TABLE stripe_outbox ADD CONSTRAINT stripe_outbox_action_check CHECK (action IN ('create_credit_grant', 'void_credit_grant')); ALTER TABLE stripe_outbox ALTER COLUMN grant_id SET NOT NULL;

--changeset ledger:008-reconcile-runs
-- Each reconciliation of the ledger's mirror with Stripe itself, kept so the last one can be shown.
CREATE TABLE reconcile_runs (
  run_id      bigserial PRIMARY KEY,
  user_id     text,
  repair      boolean NOT NULL,
  checked     integer NOT NULL,
  drift       jsonb NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL
);
--rollback DROP TABLE reconcile_runs;
