package i18n

// Messages of the opportunity pipeline (商机, package pipeline).
func init() {
	for k, e := range map[string]entry{
		"entity.opportunity":          {"商机", "Opportunity"},
		"pipeline.inquiry_no_account": {"该咨询尚未关联客户，请先关联客户再转为商机", "link the inquiry to a customer account before turning it into an opportunity"},
		"entity.pipeline":             {"销售流程", "Pipeline"},
		"entity.stage":                {"阶段", "Stage"},
		"entity.requirement":          {"需求", "Requirement"},
		"entity.support_request":      {"技术支持申请", "Tech support request"},
		"entity.solution":             {"方案", "Solution"},
		"entity.attachment":           {"附件", "Attachment"},
		"entity.demo":                 {"演示/试用申请", "Demo/trial request"},
		"entity.competitor":           {"竞争对手", "Competitor"},

		"pipeline.amount_range": {"必须是 0 到 %d 之间的整数（单位：分）", "must be a whole number of fen between 0 and %d"},
		"pipeline.currency":     {"不是可用的 ISO 4217 货币代码（如 CNY、USD）", "is not a supported ISO 4217 currency code (e.g. CNY, USD)"},
		"pipeline.date":         {"必须是 YYYY-MM-DD 格式的日期", "must be a date in YYYY-MM-DD form"},
		"pipeline.probability":  {"必须是 0 到 100 之间的整数", "must be a whole number from 0 to 100"},
		"pipeline.quantity":     {"必须是非负数，最多三位小数（如 12 或 0.5）", "must be a non-negative number with at most three decimals (e.g. 12 or 0.5)"},
		"pipeline.duration":     {"必须是 1 到 365 天", "must be 1 to 365 days"},

		"pipeline.gate_blocked":                   {"不能进入“%s”阶段：还缺 %d 项准入条件，请先补齐", "Cannot enter the \"%s\" stage: %d entry condition(s) not met yet"},
		"pipeline.gate.has_research_note":         {"至少需要 %v 条市场调研记录（目前 %v 条）", "needs at least %v market research note(s) (now %v)"},
		"pipeline.gate.min_requirements":          {"至少需要登记 %v 条客户需求（目前 %v 条）", "needs at least %v recorded requirement(s) (now %v)"},
		"pipeline.gate.min_requirements_analysed": {"至少需要 %v 条已完成可行性分析的需求（目前 %v 条）", "needs at least %v requirement(s) with a feasibility verdict (now %v)"},
		"pipeline.gate.approved_solution":         {"需要一份已审批通过的方案", "needs an approved solution"},
		"pipeline.gate.approved_demo":             {"需要一次已批准的演示或试用", "needs an approved demo or trial"},
		"pipeline.gate.has_negotiation_record":    {"至少需要 %v 条谈判记录（目前 %v 条）", "needs at least %v negotiation record(s) (now %v)"},
		"pipeline.gate.support_answered":          {"所有技术支持申请都需已答复", "needs every tech support request answered"},
		"pipeline.gate.has_quote":                 {"需要一份已审批的报价单（已审批、已发送或客户已接受）", "needs an approved quote (approved, sent or accepted)"},
		"pipeline.unknown_condition":              {"未知的准入条件“%s”", "unknown gate condition \"%s\""},

		"pipeline.closed":                  {"该商机已赢单或输单，不能再移动或关闭", "This opportunity is already won or lost"},
		"pipeline.lost_to_on_win":          {"赢单时不填写竞争对手", "is only for lost opportunities"},
		"pipeline.stages_separately":       {"阶段请通过阶段接口单独修改", "change stages through the stage endpoints"},
		"pipeline.stage_order":             {"必须列出该流程的每个阶段，且各出现一次", "must list each stage of the pipeline exactly once"},
		"pipeline.last_stage":              {"流程至少需要保留一个阶段", "A pipeline needs at least one stage"},
		"pipeline.stage_not_empty":         {"该阶段还有 %d 个商机；请指定要把它们移到哪个阶段（move_to）", "%d opportunities are still in this stage; say which stage to move them to (move_to)"},
		"pipeline.requirement_in_solution": {"该需求已被方案引用，不能删除", "A solution answers this requirement; it cannot be deleted"},
		"pipeline.not_tech":                {"该用户没有答复技术支持的权限", "this user cannot answer tech support requests"},
		"pipeline.support_task":            {"技术支持：%s", "Tech support: %s"},
		"pipeline.support_not_open":        {"该技术支持申请已答复或已关闭", "This tech support request is already answered or closed"},
		"pipeline.support_closed":          {"该技术支持申请已关闭", "This tech support request is already closed"},
		"pipeline.solution_locked":         {"方案 v%d 已提交或已锁定，不能再修改；请新建一个版本", "Solution v%d is submitted or locked; create a new version instead"},
		"pipeline.solution_empty":          {"方案内容为空，不能提交", "the solution is empty; it cannot be submitted"},
		"pipeline.solution_not_submitted":  {"该方案不在待审批状态（当前：%s），不能重复审批", "This solution is not awaiting review (now: %s)"},
		"pipeline.demo_not_requested":      {"该申请已审批过（当前：%s）", "This request has already been reviewed (now: %s)"},
		"pipeline.demo_not_approved":       {"只有已批准的演示/试用才能记录结果", "Only an approved demo or trial can have an outcome"},
		"pipeline.demo_expiry_task":        {"%s即将到期：%s（%s 结束）", "%s ending soon: %s (ends %s)"},
		"pipeline.kind.demo":               {"演示", "Demo"},
		"pipeline.kind.trial":              {"试用", "Trial"},
		"pipeline.active_content":          {"不能包含脚本、事件处理或嵌入对象等可执行内容", "must not contain scripts, event handlers or embedded objects"},
		"pipeline.account_mismatch":        {"与商机所属客户不一致", "does not match the opportunity's account"},
		"pipeline.research_empty":          {"请至少填写行业、需求、竞争对手或备注中的一项", "fill in at least one of industry, needs, competitors or notes"},
	} {
		catalog[k] = e
	}
}
