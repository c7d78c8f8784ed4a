-- The account an outbox event is about (`integrated_account:*` events: the payload's `id`;
-- other events: its `integrated_account_id`; NULL for none), so an account's page can list
-- the events about it (`Store::account_events`). Rows written before are filled in once.
ALTER TABLE outbox ADD COLUMN integrated_account_id TEXT;
UPDATE outbox SET integrated_account_id = CASE
    WHEN event_type LIKE 'integrated_account:%' THEN payload::jsonb ->> 'id'
    ELSE payload::jsonb ->> 'integrated_account_id' END;
CREATE INDEX outbox_by_account ON outbox (environment_id, integrated_account_id, created_at);
