-- One balance read, as LedgerService.balance runs it: the user (UserStore GET), then the live grants, each on
-- the pool outside a transaction. Run with -M prepared and -D users=N.
\set uid random(1, :users)
SELECT user_id, email, stripe_customer_id, cents_per_credit, billing_anchor_day, next_quota_reset, usage_this_cycle, created_at, updated_at FROM users WHERE user_id = 'u' || :uid;
SELECT grant_id, user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit, expires_at, description, created_at, closed_at, closed_by, close_reason, stripe_customer_id, stripe_grant_id, stripe_voided_at, payment_intent_id FROM grants WHERE user_id = 'u' || :uid AND (balance <> 0 OR (closed_at IS NULL AND (expires_at IS NULL OR expires_at > now())));
