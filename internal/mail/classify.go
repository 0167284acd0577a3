package mail

import (
	"strings"
)

// autoReplySubjects are subject prefixes of out-of-office and other automatic
// answers, in the languages our customers write in. Answering them would
// start a mail loop; turning them into inquiries would bury real ones.
var autoReplySubjects = []string{
	"自动回复", "自動回覆", "自动答复", "自動回復",
	"auto:", "automatic reply", "autoreply", "auto-reply", "auto reply", "out of office", "out of the office", "abwesenheitsnotiz",
}

// bounceSubjects are subjects mail servers give non-delivery reports that do
// not use multipart/report.
var bounceSubjects = []string{
	"undelivered mail returned to sender", "delivery status notification (failure)", "mail delivery failed",
	"undeliverable:", "returned mail:", "delivery failure", "failure notice", "系统退信", "退信", "邮件退回", "投递失败",
}

// classify marks p as a bounce or an auto-reply (RFC 3464 reports, RFC 3834
// Auto-Submitted, and the headers and subjects common servers use instead).
func classify(p *Parsed) {
	h := p.header
	p.Kind = KindDelivered
	subject := strings.ToLower(p.Subject)
	local := strings.ToLower(p.From.Email)
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	fromDaemon := local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon"
	switch {
	case p.report:
		p.Kind, p.Reason = KindBounce, "delivery-status report"
	case fromDaemon && hasAny(subject, bounceSubjects):
		p.Kind, p.Reason = KindBounce, "from "+local
	case fromDaemon && strings.TrimSpace(h.Get("Return-Path")) == "<>":
		p.Kind, p.Reason = KindBounce, "from "+local
	}
	if p.Kind == KindBounce {
		if p.diagnostic != "" {
			p.Reason = p.diagnostic
		}
		p.BounceOf = uniq(append(p.innerIDs, looseIDs(p.Text)...))
		return
	}
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		p.Kind, p.Reason = KindAutoReply, "Auto-Submitted: "+clip(clean(v), 50)
		return
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if h.Has(k) {
			p.Kind, p.Reason = KindAutoReply, k
			return
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v {
	case "auto_reply", "bulk", "junk":
		p.Kind, p.Reason = KindAutoReply, "Precedence: "+v
		return
	}
	if hasPrefixAny(subject, autoReplySubjects) {
		p.Kind, p.Reason = KindAutoReply, "subject"
	}
}

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// hasPrefixAny matches a subject that starts with a marker, allowing a
// bracketed tag such as 【自动回复】 or [Auto-Reply].
func hasPrefixAny(s string, words []string) bool {
	s = strings.TrimLeft(s, " \t[【(（")
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
