--liquibase formatted sql

--changeset ledger:014-batch-checks splitStatements:false
-- A write batch sends its COMMIT right behind its writes, without waiting for their answers. What it used to check
-- in those answers (that a count of rows came out as decided) is checked by the statement itself: a mismatch
-- raises, the transaction aborts, and PostgreSQL answers the COMMIT that follows with a rollback.
-- SQLSTATE LB001: the batch must be decided again from what the database now holds (an operationId stored before,
-- a hold closed meanwhile); LB002: an invariant of the ledger would break.
CREATE FUNCTION batch_expect(ok boolean, failure_state text, message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION USING ERRCODE = failure_state, MESSAGE = message;
  END IF;
  RETURN true;
END $$;
--rollback DROP FUNCTION batch_expect;
