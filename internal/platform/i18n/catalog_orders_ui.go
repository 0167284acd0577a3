package i18n

// Messages of the seven-day return window (七天无理由退货) and the delivery
// (签收) record it runs from.
func init() {
	for k, e := range map[string]entry{
		"orders.return_window_passed": {"已超过七天无理由退货期限：买家于 %s 签收，期限至 %s 24:00。质量问题请选择对应的平台规则；确需例外，须由组长批准",
			"The seven-day no-reason return window has passed: the buyer signed for the goods on %s, the window ended at the end of %s. Choose the platform rule for a quality problem, or have the team leader approve an exception"},
		"orders.future_time":           {"不能晚于当前时间", "must not be in the future"},
		"orders.delivered_before_paid": {"签收时间不能早于付款时间", "must not be before the order was paid"},
		"orders.not_delivered_yet":     {"订单尚未确认，不能登记签收", "The order is not confirmed; its delivery cannot be recorded yet"},
	} {
		catalog[k] = e
	}
}
