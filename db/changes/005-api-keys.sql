--liquibase formatted sql

--changeset ledger:005-api-keys
-- Users' third-party API keys, encrypted with AES-256-GCM (see ApiKeyCrypto); never stored in plaintext.
CREATE TABLE api_keys (
  user_id    text NOT NULL REFERENCES users (user_id),
  key_type   text NOT NULL,
  ciphertext text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, key_type)
);
--rollback DROP TABLE api_keys;
