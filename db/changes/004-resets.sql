--liquibase formatted sql

--changeset ledger:004-resets
-- Every user has one reset claim row: reset scanners claim due users by locking these rows with
-- FOR UPDATE SKIP LOCKED and setting a lease, so several instances share a backlog. Claims live beside the
-- users, not on their rows: a consumption holding a user's lock never hides that user from the scanners.
CREATE TABLE reset_claims (
  user_id       text PRIMARY KEY REFERENCES users (user_id),
  claimed_until timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO reset_claims (user_id) SELECT user_id FROM users;
--rollback DROP TABLE reset_claims;

--changeset ledger:004-reset-claim-per-user splitStatements:false
CREATE FUNCTION reset_claim_for_new_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO reset_claims (user_id) VALUES (NEW.user_id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER reset_claim_for_new_user AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION reset_claim_for_new_user();
--rollback DROP TRIGGER reset_claim_for_new_user ON users; DROP FUNCTION reset_claim_for_new_user;
