// Package notify delivers messages outside Prelude: chat-robot webhooks of
// WeCom (企业微信), DingTalk (钉钉, signed) and Feishu/Lark (飞书, signed), and
// email over SMTP. It only sends; retries and exactly-once-in-effect belong
// to the durable job that calls it.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Message is what is sent.
type Message struct {
	Title string
	Body  string
	Link  string // absolute URL into Prelude, optional
	// Key identifies this message across retries. A send retried after a
	// crash (the first attempt may have reached the receiver) carries the
	// same key, as the X-Prelude-Delivery header on webhooks and in the
	// Message-ID of email, so a receiver that deduplicates sees it once.
	Key string
}

func (m Message) text() string {
	s := m.Title
	if m.Body != "" {
		s += "\n" + m.Body
	}
	if m.Link != "" {
		s += "\n" + m.Link
	}
	return s
}

// Permanent marks an error that retrying cannot fix (bad URL, rejected
// credentials); the job gives up at once instead of backing off.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// DingTalkSign returns the timestamp (ms) and signature DingTalk robots
// with "加签" security expect: base64(HMAC-SHA256(secret, ts+"\n"+secret)).
func DingTalkSign(secret string, now time.Time) (ts, sign string) {
	ts = strconv.FormatInt(now.UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	return ts, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FeishuSign returns the timestamp (s) and signature Feishu robots expect:
// base64(HMAC-SHA256 keyed with ts+"\n"+secret over an empty message).
func FeishuSign(secret string, now time.Time) (ts, sign string) {
	ts = strconv.FormatInt(now.Unix(), 10)
	m := hmac.New(sha256.New, []byte(ts+"\n"+secret))
	return ts, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Webhook sends m to a chat robot of kind "wecom", "dingtalk" or "feishu".
func Webhook(ctx context.Context, client *http.Client, kind, target, secret string, m Message, now time.Time) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &Permanent{fmt.Errorf("invalid webhook URL")}
	}
	var body any
	switch kind {
	case "wecom":
		body = map[string]any{"msgtype": "text", "text": map[string]any{"content": m.text()}}
	case "dingtalk":
		if secret != "" {
			ts, sign := DingTalkSign(secret, now)
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", sign)
			u.RawQuery = q.Encode()
		}
		body = map[string]any{"msgtype": "text", "text": map[string]any{"content": m.text()}}
	case "feishu":
		b := map[string]any{"msg_type": "text", "content": map[string]any{"text": m.text()}}
		if secret != "" {
			ts, sign := FeishuSign(secret, now)
			b["timestamp"], b["sign"] = ts, sign
		}
		body = b
	default:
		return &Permanent{fmt.Errorf("unknown webhook kind %q", kind)}
	}
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(raw))
	if err != nil {
		return &Permanent{err}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if m.Key != "" {
		req.Header.Set("X-Prelude-Delivery", m.Key)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	resp, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 500 || res.StatusCode == 429 {
		return fmt.Errorf("webhook answered %d", res.StatusCode)
	}
	if res.StatusCode >= 400 {
		return &Permanent{fmt.Errorf("webhook answered %d: %s", res.StatusCode, truncate(string(resp), 200))}
	}
	// All three answer 200 with an error code in the body on failure.
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
	}
	if json.Unmarshal(resp, &r) == nil {
		if r.ErrCode != nil && *r.ErrCode != 0 {
			return fmt.Errorf("webhook error %d: %s", *r.ErrCode, r.ErrMsg)
		}
		if r.Code != nil && *r.Code != 0 {
			return fmt.Errorf("webhook error %d: %s", *r.Code, r.Msg)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ErrNoSMTP reports that email is not configured.
var ErrNoSMTP = errors.New("email is not configured (PRELUDE_SMTP_URL)")

// ValidEmailTarget reports a plausible single address.
func ValidEmailTarget(s string) bool {
	return strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " \r\n,;<>")
}
