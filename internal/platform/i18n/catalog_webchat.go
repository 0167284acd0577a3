package i18n

// Messages of the web chat (在线咨询): chat sites and the widget's API.
func init() {
	for k, e := range map[string]entry{
		"entity.chat_site": {"在线咨询站点", "Chat site"},

		"webchat.origins_required":   {"请至少填写一个允许嵌入的网站地址", "add at least one website origin allowed to embed the chat"},
		"webchat.origin_invalid":     {"须为 https://域名 或 http://域名:端口 的形式，不含路径", "must be scheme://host or scheme://host:port, without a path"},
		"webchat.origin_duplicate":   {"与前面的地址重复", "repeats an origin above"},
		"webchat.origin_not_allowed": {"此网站未被允许使用在线咨询", "This website is not allowed to use the chat"},
		"webchat.token_invalid":      {"对话凭证无效，请重新开始对话", "The conversation token is not valid; start a new conversation"},
		"webchat.token_expired":      {"对话已过期，请重新开始对话", "The conversation has expired; start a new conversation"},
		"webchat.conversation_limit": {"新对话过多，请 %d 秒后再试", "Too many new conversations; try again in %d seconds"},
		"webchat.too_many_streams":   {"打开的对话窗口过多，请关闭一些后再试", "Too many chat windows are open; close some and try again"},
		"webchat.client_id":          {"须为 UUID", "must be a UUID"},
		"webchat.client_id_used":     {"已用于另一段对话", "was used for another conversation"},
		"webchat.default_greeting":   {"您好，请问有什么可以帮您？", "Hello! How can we help you?"},
		"webchat.default_offline":    {"我们现在不在线。请留下您的问题和联系方式，我们会在工作时间尽快回复您。", "We are away right now. Leave your question and how to reach you, and we will answer during business hours."},
	} {
		if _, dup := catalog[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		catalog[k] = e
	}
}
