--liquibase formatted sql

--changeset ledger:011-events
-- Events for the host application. A row is written in the transaction that caused it, so it exists if and only
-- if that change committed. The relay dispatches rows in seq order: it publishes each on the event bus and fans it
-- out to a delivery per subscribed webhook endpoint, in one statement that also marks it dispatched.
-- event_id (evt_ and 32 random hex digits, made by the writer) is what the host sees; rows are found by seq, so
-- that an event costs one index beside the queue's.
CREATE TABLE events (
  seq           bigserial PRIMARY KEY,
  event_id      text NOT NULL,
  type          text NOT NULL,
  user_id       text,
  data          jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  dispatched_at timestamptz
);
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_endpoints (
  endpoint_id text PRIMARY KEY,
  url         text NOT NULL,
  event_types text[] NOT NULL,
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- One event to one endpoint. next_attempt_at doubles as the lease: a claim moves it past the send's timeout.
CREATE TABLE webhook_deliveries (
  delivery_id     bigserial PRIMARY KEY,
  event_seq       bigint NOT NULL REFERENCES events (seq),
  endpoint_id     text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error      text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  delivered_at    timestamptz,
  UNIQUE (event_seq, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, delivery_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, delivery_id);

CREATE FUNCTION ledger_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ledger_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_notify();
--rollback DROP TABLE webhook_deliveries; DROP TABLE webhook_endpoints; DROP TABLE events; DROP FUNCTION ledger_events_notify();
