-- One purchase grant of 10 credits, as LedgerService.grant / GrantWriter.writeOnce run it (statements from
-- LedgerStore) for a user without debt and without a Stripe customer (so no settlement and no outbox row).
-- Run with -M prepared and -D users=N.
\set uid random(1, :users)
\set r random(1, 9000000000000000000)
BEGIN;
-- LOCK_USER_WITH_OPERATION
SELECT u.*, o.kind AS op_kind, o.request AS op_request, o.status AS op_status, o.response AS op_response FROM users u LEFT JOIN operations o ON o.operation_id = 'pgb-' || :client_id || '-' || :r WHERE u.user_id = 'u' || :uid FOR UPDATE OF u;
-- LIVE_GRANTS (read for debt settlement)
SELECT grant_id, user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit, expires_at, description, created_at, closed_at, closed_by, close_reason, stripe_customer_id, stripe_grant_id, stripe_voided_at, payment_intent_id FROM grants WHERE user_id = 'u' || :uid AND (balance <> 0 OR (closed_at IS NULL AND (expires_at IS NULL OR expires_at > now())));
-- INSERT_GRANT: the grant and its opening journal entry in one statement
WITH g AS (INSERT INTO grants (user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit, expires_at, description, created_at, stripe_customer_id, payment_intent_id) VALUES ('u' || :uid, 'pgb-' || :client_id || '-' || :r, 'purchase', 80, 10, 10, 10, 1, NULL, 'Purchased credits: 10', now(), NULL, NULL) RETURNING grant_id, user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit, expires_at, description, created_at, closed_at, closed_by, close_reason, stripe_customer_id, stripe_grant_id, stripe_voided_at, payment_intent_id), j AS (INSERT INTO journal (user_id, grant_id, operation_id, kind, delta, balance_after, description, created_at) SELECT user_id, grant_id, operation_id, 'grant', principal, principal, description, created_at FROM g) SELECT * FROM g;
-- INSERT_OPERATION
-- (a space follows each colon in the JSON literals: pgbench would take ":null" for a variable)
INSERT INTO operations (operation_id, user_id, kind, request, status, response, created_at) VALUES ('pgb-' || :client_id || '-' || :r, 'u' || :uid, 'grant', '{"userId": "u' || :uid || '","type": "purchase","amount": 10,"description": null,"expiresAt": null}', 201, '{"grantId": 123456,"operationId": "g-bench-0000000000","userId": "u1","type": "purchase","priority": 80,"principal": 10,"balance": 10,"cents": 10,"centsPerCredit": "1","expiresAt": null,"description": "Purchased credits: 10","state": "active","createdAt": "2026-11-25T19:00:00.123456Z","closedAt": null,"closeReason": null,"stripe": {"state": "not_mirrored","stripeGrantId": null,"voided": false},"debtSettled": 0}'::jsonb, now());
COMMIT;
