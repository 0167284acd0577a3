-- timeline_ref (ref_type, ref_id) served one query: deleting an activity's
-- timeline entries (ref_type = 'activity'). Every other entry (a reply to
-- an inquiry, a quote, an order...) still paid for it: on the inbox's hot
-- path each reply put one more random page of it in the WAL, an eighth of
-- what posting a message writes. Only activities are indexed now.
CREATE INDEX timeline_ref_activity ON timeline_events (ref_id) WHERE ref_type = 'activity';
DROP INDEX timeline_ref;
