-- "Tokens presented in a URL query" (dashboard, filters) looks for such uses per token;
-- a partial index keeps that a look-up instead of a scan of every usage event.
CREATE INDEX usage_events_query_uses ON usage_events (token_id) WHERE via = 'query';
