--liquibase formatted sql

--changeset ledger:013-orgs
-- Organizations. The ledger keeps balances for accounts of two kinds, users and orgs, with one engine: an org's
-- account is a row of `users` whose key is 'org/' || org_id ('/' is outside the id alphabet, so no user's id
-- equals an org's key), so grants, the journal, operations, holds, resets, the outbox and events key it like a
-- user's. Existing rows are user accounts.
ALTER TABLE users ADD COLUMN account_type text NOT NULL
  GENERATED ALWAYS AS (CASE WHEN user_id LIKE 'org/%' THEN 'org' ELSE 'user' END) STORED;
-- an org's account has no email
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;

CREATE TABLE orgs (
  org_id       text PRIMARY KEY,
  account_id   text NOT NULL UNIQUE REFERENCES users (user_id),
  name         text NOT NULL,
  -- the most the org may consume in one cycle; NULL: no limit
  credit_limit bigint CHECK (credit_limit >= 0),
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  CHECK (account_id = 'org/' || org_id)
);

CREATE TABLE org_members (
  org_id   text NOT NULL REFERENCES orgs (org_id),
  user_id  text NOT NULL REFERENCES users (user_id),
  role     text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  added_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id);

-- one row per consumption from an org's pool: who spent it (the journal says from which grants)
CREATE TABLE member_usage (
  operation_id text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs (org_id),
  user_id      text NOT NULL,
  credits      bigint NOT NULL CHECK (credits > 0),
  created_at   timestamptz NOT NULL
);
CREATE INDEX member_usage_org ON member_usage (org_id, created_at);

-- a hold on an org's pool: the member it is for (its capture is recorded as that member's usage)
ALTER TABLE holds ADD COLUMN member_id text;

ALTER TABLE grants DROP CONSTRAINT grants_type_check;
ALTER TABLE grants ADD CONSTRAINT grants_type_check
  CHECK (type IN ('free', 'referral', 'rollover', 'purchase', 'admin', 'organization'));
--rollback ALTER TABLE grants DROP CONSTRAINT grants_type_check; ALTER TABLE grants ADD CONSTRAINT grants_type_check CHECK (type IN ('free', 'referral', 'rollover', 'purchase', 'admin')); ALTER TABLE holds DROP COLUMN member_id; DROP TABLE member_usage; DROP TABLE org_members; DROP TABLE orgs; ALTER TABLE users ALTER COLUMN email SET NOT NULL; ALTER TABLE users DROP COLUMN account_type;
