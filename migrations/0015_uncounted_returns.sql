-- Liaison schema, version 15: a delivery can be returned uncounted.
--
-- When a durable ack=explicit subscription ends with messages in flight, only the oldest one's
-- delivery counts towards max_deliver; the ones behind it are returned uncounted, their stored
-- count one lower (docs/ARCHITECTURE.md, "Durable consumers"). Counting them all sent a whole
-- in-flight window to the dead letters after max_deliver dropped links, or behind one message a
-- consumer crashed on. A message delivered once and returned that way is pending with 0
-- deliveries counted, and its next delivery is its first counted one.

ALTER TABLE consumer_pending DROP CONSTRAINT consumer_pending_deliveries_check;
ALTER TABLE consumer_pending ADD CONSTRAINT consumer_pending_deliveries_check CHECK (deliveries >= 0);
