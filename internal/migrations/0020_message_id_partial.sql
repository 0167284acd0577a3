-- Most inquiry messages have no Message-ID (replies typed in the inbox,
-- notes, calls): the unique index on message_id held a NULL entry for each
-- of them, one more index write per posted message for nothing. Only real
-- ids need the uniqueness guard, and every lookup is by equality, which
-- implies NOT NULL, so the partial index serves them all.
DROP INDEX inquiry_messages_message_id;
CREATE UNIQUE INDEX inquiry_messages_message_id ON inquiry_messages (message_id) WHERE message_id IS NOT NULL;
