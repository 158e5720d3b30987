-- One consumption of 1 credit, as LedgerService.consume runs it (see LedgerStore for the statements), for a
-- user 'u<uid>' whose only live grant is the benchmark's purchase grant. Run with -M prepared (the service's
-- pool caches prepared statements) and -D users=N. The four writes are pipelined, as the service sends them
-- on one connection without waiting (LedgerStore.apply, addUsage and insertOperation under Future.all).
\set uid random(1, :users)
\set r random(1, 9000000000000000000)
BEGIN;
-- LOCK_USER_WITH_OPERATION
SELECT u.*, o.kind AS op_kind, o.request AS op_request, o.status AS op_status, o.response AS op_response FROM users u LEFT JOIN operations o ON o.operation_id = 'pgb-' || :client_id || '-' || :r WHERE u.user_id = 'u' || :uid FOR UPDATE OF u;
-- LIVE_GRANTS (the service plans the consumption from these rows; here the only one is kept in variables)
SELECT grant_id, user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit, expires_at, description, created_at, closed_at, closed_by, close_reason, stripe_customer_id, stripe_grant_id, stripe_voided_at, payment_intent_id FROM grants WHERE user_id = 'u' || :uid AND (balance <> 0 OR (closed_at IS NULL AND (expires_at IS NULL OR expires_at > now()))) \aset
\set nb :balance - 1
\startpipeline
-- UPDATE_BALANCES
UPDATE grants g SET balance = v.new_balance FROM unnest(ARRAY[:grant_id::bigint]::bigint[], ARRAY[:balance::bigint]::bigint[], ARRAY[:nb::bigint]::bigint[]) AS v(grant_id, old_balance, new_balance) WHERE g.grant_id = v.grant_id AND g.balance = v.old_balance AND g.user_id = 'u' || :uid;
-- INSERT_ENTRIES
INSERT INTO journal (user_id, grant_id, operation_id, kind, delta, balance_after, description, created_at) SELECT 'u' || :uid, v.grant_id, v.operation_id, v.kind, v.delta, v.balance_after, v.description, now() FROM unnest(ARRAY[:grant_id::bigint]::bigint[], ARRAY['pgb-' || :client_id || '-' || :r]::text[], ARRAY['consume']::text[], ARRAY[-1]::bigint[], ARRAY[:nb::bigint]::bigint[], ARRAY['Consumed 1 credits']::text[]) WITH ORDINALITY AS v(grant_id, operation_id, kind, delta, balance_after, description, ord) ORDER BY v.ord;
-- ADD_USAGE
UPDATE users SET usage_this_cycle = usage_this_cycle + 1 WHERE user_id = 'u' || :uid;
-- INSERT_OPERATION (request and answer of the size the service stores)
-- (a space follows each colon in the JSON literals: pgbench would take ":null" for a variable)
INSERT INTO operations (operation_id, user_id, kind, request, status, response, created_at) VALUES ('pgb-' || :client_id || '-' || :r, 'u' || :uid, 'consume', '{"userId": "u' || :uid || '","amount": 1}', 200, '{"operationId": "cs-bench-0000000000","consumed": 1,"fromPurchased": 1,"balance": {"totalRemaining": 999999999,"totalDebt": 0,"netBalance": 999999999,"breakdown": {"free": 0,"referral": 0,"rollover": 0,"purchase": 999999999,"admin": 0},"principals": {"free": 0,"referral": 0,"rollover": 0,"purchase": 1000000000,"admin": 0},"usageThisCycle": 1,"nextQuotaReset": "2026-12-24T19:00:00.123456Z"}}'::jsonb, now());
\endpipeline
COMMIT;
