--liquibase formatted sql

--changeset ledger:001-users
CREATE TABLE users (
  user_id            text PRIMARY KEY,
  email              text NOT NULL,
  stripe_customer_id text,
  cents_per_credit   numeric(16, 4) NOT NULL CHECK (cents_per_credit > 0),
  billing_anchor_day smallint NOT NULL CHECK (billing_anchor_day BETWEEN 1 AND 31),
  next_quota_reset   timestamptz NOT NULL,
  usage_this_cycle   bigint NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);
CREATE INDEX users_next_quota_reset ON users (next_quota_reset);
--rollback DROP TABLE users;
