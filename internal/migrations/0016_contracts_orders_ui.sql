-- What the contracts and orders screens need beyond 0011:
-- * the time the buyer signed for the goods (签收时间), from which the
--   platform's seven-day no-reason return window (七天无理由退货) runs;
-- * on a return request, whether a team leader let it through after that
--   window, who and why (regulation 5 第十四条/第十六条: exceptions are the
--   leader's decision, on record);
-- * indexes for the returns list (newest first) and the contracts list's
--   signing-date filter.
ALTER TABLE shop_orders ADD COLUMN delivered_at BIGINT;
ALTER TABLE shop_order_returns ADD COLUMN window_overridden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE shop_order_returns ADD COLUMN override_by TEXT NOT NULL DEFAULT '';
ALTER TABLE shop_order_returns ADD COLUMN override_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX shop_order_returns_created ON shop_order_returns (created_at, id);
CREATE INDEX contracts_signing ON contracts (signing_date);
