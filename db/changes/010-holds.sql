--liquibase formatted sql

--changeset ledger:010-holds
-- Authorization holds: credits reserved before a request whose cost is known only afterwards. A hold moves no
-- credits (the journal sees only its capture, as a consumption); it lowers what the user may spend ("available")
-- while it is held. hold_id is the operationId the hold was placed with.
CREATE TABLE holds (
  hold_id              text PRIMARY KEY,
  user_id              text NOT NULL REFERENCES users (user_id),
  amount               bigint NOT NULL CHECK (amount > 0),
  state                text NOT NULL CHECK (state IN ('held', 'captured', 'released', 'expired')),
  expires_at           timestamptz NOT NULL,
  created_at           timestamptz NOT NULL,
  closed_at            timestamptz,
  -- the capture: its operationId (one per hold) and the credits it consumed
  capture_operation_id text UNIQUE,
  captured             bigint CHECK (captured > 0),
  CHECK ((state = 'held') = (closed_at IS NULL)),
  CHECK ((state = 'captured') = (capture_operation_id IS NOT NULL)),
  CHECK ((state = 'captured') = (captured IS NOT NULL))
);
-- the active holds of a user (every write batch reads them), the sweeper's queue, and a user's list
CREATE INDEX holds_user_held ON holds (user_id) WHERE state = 'held';
CREATE INDEX holds_expiring ON holds (expires_at) WHERE state = 'held';
CREATE INDEX holds_user ON holds (user_id, created_at, hold_id);
--rollback DROP TABLE holds;
