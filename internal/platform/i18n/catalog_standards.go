package i18n

// Messages of the communication standards (沟通标准) checks and rule editing.
func init() {
	for k, e := range map[string]entry{
		"entity.standards_rule": {"沟通标准规则", "Communication standards rule"},

		"standards.msg.forbidden":    {"“%s”属于禁止用语（辱骂、挑衅或威胁），请修改后再发送", "“%s” is forbidden language (abusive, provocative or threatening); rephrase it before sending"},
		"standards.msg.jargon":       {"“%s”是专业术语，客户可能看不懂，建议说“%s”", "“%s” is jargon the customer may not understand; say “%s” instead"},
		"standards.msg.greeting":     {"首次回复请先问候客户，例如“%s”", "Open a first reply with a greeting, e.g. “%s”"},
		"standards.msg.closing":      {"结束对话的回复请致谢或祝福，例如“%s”", "Close the last reply with thanks or good wishes, e.g. “%s”"},
		"standards.msg.time_promise": {"“%s”是对客户的时间承诺，请同时设置跟进时间，按时兑现", "“%s” promises the customer a time; set a follow-up time so the promise is kept"},
		"standards.suggest.greeting": {"您好，", "Hello,"},
		"standards.suggest.closing":  {"感谢您的咨询，祝您工作顺利！", "Thank you for your inquiry. Best regards,"},
		"standards.blocked":          {"回复中含有禁止用语，不能发送：%s", "The reply contains forbidden language and cannot be sent: %s"},

		"standards.pattern_empty":       {"去掉空格和标点后不能为空", "must contain letters or characters, not only spaces and punctuation"},
		"standards.suggestion_required": {"术语规则需要给出通俗的替代说法", "a jargon rule needs a plain-language suggestion"},
		"standards.exception_unrelated": {"例外词“%s”必须包含规则词", "the exception “%s” must contain the rule's pattern"},
		"standards.too_many_rules":      {"规则数量已达上限（%d 条）", "The rule limit (%d rules) has been reached"},
		"standards.text_too_long":       {"待检查的内容不能超过 %d 个字符", "The text to check may be at most %d characters"},
	} {
		catalog[k] = e
	}
}
