--liquibase formatted sql

--changeset ledger:002-ledger
-- Every money-moving request, by its globally unique operationId: what was asked and what was answered,
-- so a replay gets the original answer and a reuse with other content is refused.
CREATE TABLE operations (
  operation_id text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES users (user_id),
  kind         text NOT NULL,
  request      text NOT NULL,
  status       smallint NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL
);

CREATE TABLE grants (
  grant_id         bigserial PRIMARY KEY,
  user_id          text NOT NULL REFERENCES users (user_id),
  operation_id     text NOT NULL UNIQUE,
  type             text NOT NULL CHECK (type IN ('free', 'referral', 'rollover', 'purchase', 'admin')),
  priority         integer NOT NULL,
  principal        bigint NOT NULL CHECK (principal > 0),
  balance          bigint NOT NULL,
  cents            bigint NOT NULL CHECK (cents >= 0),
  cents_per_credit numeric(16, 4) NOT NULL,
  expires_at       timestamptz,
  description      text NOT NULL,
  created_at       timestamptz NOT NULL,
  -- set when the grant stops taking part in consumption: revoked, or rolled over into a new grant
  closed_at        timestamptz,
  closed_by        text CHECK (closed_by IN ('revoke', 'rollover')),
  close_reason     text,
  CHECK ((closed_at IS NULL) = (closed_by IS NULL))
);
CREATE INDEX grants_user ON grants (user_id, grant_id);
CREATE INDEX grants_user_nonzero ON grants (user_id) WHERE balance <> 0;

-- The append-only journal: every change of a grant's balance, so principal + the deltas after the grant's
-- first entry = balance, at every moment, for every grant.
CREATE TABLE journal (
  entry_id      bigserial PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users (user_id),
  grant_id      bigint NOT NULL REFERENCES grants (grant_id),
  operation_id  text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('grant', 'consume', 'debt_settlement', 'revoke', 'expiry',
                                              'rollover_out', 'rollover_in')),
  delta         bigint NOT NULL,
  balance_after bigint NOT NULL,
  description   text NOT NULL,
  created_at    timestamptz NOT NULL
);
CREATE INDEX journal_user ON journal (user_id, entry_id);
CREATE INDEX journal_grant ON journal (grant_id);

CREATE TABLE referrals (
  operation_id text PRIMARY KEY,
  referrer_id  text NOT NULL REFERENCES users (user_id),
  referred_id  text NOT NULL UNIQUE REFERENCES users (user_id),
  credits      bigint NOT NULL,
  created_at   timestamptz NOT NULL,
  CHECK (referrer_id <> referred_id)
);
CREATE INDEX referrals_referrer ON referrals (referrer_id);

-- Operations that failed for good after their retries, for someone to look at ('internal' = our database).
CREATE TABLE sync_failure (
  failure_id   bigserial PRIMARY KEY,
  provider     text NOT NULL,
  operation_id text,
  user_id      text,
  payload      jsonb NOT NULL,
  error        text NOT NULL,
  attempts     integer NOT NULL,
  created_at   timestamptz NOT NULL
);
--rollback DROP TABLE sync_failure; DROP TABLE referrals; DROP TABLE journal; DROP TABLE grants; DROP TABLE operations;

--changeset ledger:002-journal-append-only splitStatements:false
CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only' USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
  FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();
--rollback DROP TRIGGER journal_append_only ON journal; DROP FUNCTION journal_is_append_only;
