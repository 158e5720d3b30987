--liquibase formatted sql

--changeset ledger:006-operation-order
-- The order operations were recorded in. Each is recorded while its user's lock is held, so for one user this
-- is the order they took effect in (timestamps are read before the lock and can disagree).
ALTER TABLE operations ADD COLUMN seq bigserial;
CREATE INDEX operations_user_kind ON operations (user_id, kind, seq);
--rollback ALTER TABLE operations DROP COLUMN seq;
