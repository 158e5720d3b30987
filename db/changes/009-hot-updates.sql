--liquibase formatted sql

--changeset ledger:009-hot-updates
-- Every consumption updates a grant's balance and its user's usage. PostgreSQL can update a row in place on its
-- page (a HOT update: no new entry in any index) only when no indexed column changes and the page has room.
-- grants_user_nonzero had balance in its predicate, so each balance change inserted into every index of grants;
-- the live-grant statements find a user's grants through grants_user (user_id, grant_id) instead. Pages are left
-- 20% free for the new row versions.
DROP INDEX grants_user_nonzero;
ALTER TABLE grants SET (fillfactor = 80);
ALTER TABLE users SET (fillfactor = 80);
--rollback ALTER TABLE users RESET (fillfactor); ALTER TABLE grants RESET (fillfactor); CREATE INDEX grants_user_nonzero ON grants (user_id) WHERE balance <> 0;
