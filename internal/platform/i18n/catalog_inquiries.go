package i18n

// Messages of the inquiry inbox (咨询).
func init() {
	for k, e := range map[string]entry{
		"entity.inquiry":      {"咨询", "Inquiry"},
		"entity.sla_policy":   {"响应时限策略", "Response-time policy"},
		"entity.inquiry_rule": {"分配规则", "Assignment rule"},
		"entity.canned":       {"常用语", "Canned answer"},
		"entity.meeting":      {"会议", "Meeting"},

		"inquiries.status.new":              {"新咨询", "new"},
		"inquiries.status.assigned":         {"已分配", "assigned"},
		"inquiries.status.in_progress":      {"处理中", "in progress"},
		"inquiries.status.waiting_customer": {"等待客户", "waiting on the customer"},
		"inquiries.status.resolved":         {"已解决", "resolved"},
		"inquiries.status.closed":           {"已关闭", "closed"},

		"inquiries.illegal_transition":      {"咨询不能从“%s”变为“%s”", "An inquiry cannot go from \"%s\" to \"%s\""},
		"inquiries.close_needs_record":      {"关闭咨询须填写咨询记录（问题、解答、结果），请使用“关闭”操作", "Closing needs the consultation record (question, answer, outcome): use the close action"},
		"inquiries.no_assignee":             {"请先指定负责人", "Assign someone first"},
		"inquiries.closed":                  {"咨询已关闭，请先重新打开", "The inquiry is closed; reopen it first"},
		"inquiries.same_assignee":           {"咨询已由该负责人处理", "The inquiry is already with this person"},
		"inquiries.transfer_reason":         {"转交他人须填写原因", "a transfer needs a reason"},
		"inquiries.close_needs_customer":    {"请先关联客户（可在咨询中新建客户）", "link the inquiry to a customer first (or create one from the inquiry)"},
		"inquiries.follow_up_time":          {"承诺了跟进，请填写跟进时间", "a follow-up was promised: give its time"},
		"inquiries.contact_needs_account":   {"请先关联客户，再选择联系人", "link an account before choosing a contact"},
		"inquiries.received_at":             {"接收时间须在一年内且不晚于当前时间", "must be within the last year and not in the future"},
		"inquiries.mentions_in_notes":       {"只能在内部备注中@同事", "colleagues can only be @mentioned in internal notes"},
		"inquiries.standards_blocked":       {"回复不符合沟通标准，未发送：请修改标出的内容", "The reply breaks the communication standards and was not sent; change the marked text"},
		"inquiries.standards_blocked_field": {"含有禁止使用的用语", "contains forbidden language"},
		"inquiries.minutes_range":           {"须为 1 到 %d 分钟", "must be between 1 and %d minutes"},
		"inquiries.policy_exists":           {"该渠道和优先级已有响应时限策略", "A policy for this channel and priority already exists"},
		"inquiries.default_policy":          {"默认策略不能删除，也不能改为特定渠道或优先级", "The default policy cannot be removed or narrowed to a channel or priority"},
		"inquiries.no_department":           {"您不属于任何部门，不能创建团队常用语", "you belong to no department, so you cannot add team answers"},
		"inquiries.meeting_end":             {"结束时间须晚于开始时间，且会议不超过 7 天", "must be after the start, and a meeting lasts at most 7 days"},

		"notify.inquiry_assigned": {"新的咨询分配给您：%s", "New inquiry for you: %s"},
		"notify.inquiry_mention":  {"%s 在咨询中提到了您：%s", "%s mentioned you in an inquiry: %s"},
		"notify.sla_warning":      {"咨询即将超时：%s（截止 %s）", "Inquiry about to miss its response target: %s (due %s)"},
		"notify.sla_escalated":    {"咨询已超时未响应：%s（负责人：%s）", "Inquiry missed its response target: %s (assignee: %s)"},
		"notify.sla_breached":     {"您负责的咨询已超时：%s", "Your inquiry missed its response target: %s"},
	} {
		if _, dup := catalog[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		catalog[k] = e
	}
}
