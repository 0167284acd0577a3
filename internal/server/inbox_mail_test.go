package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"prelude/internal/mail"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// The inbox with real mail servers, through the running server: a
// customer's mail (with a Chinese-named attachment) becomes an inquiry on
// the account of the contact who sent it; its attachment downloads for
// people who see the inquiry only; the reply reaches the SMTP server
// threaded under the customer's mail with the agent's signature; a meeting
// invitation goes out with a text/calendar attachment; the inbox search
// finds the inquiry by a word of the mail.
func TestInboxMailRoundTripThroughServer(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		ms := startMailServers(t)
		t.Cleanup(e.Srv.Mail.Stop)
		root := e.RootDepartment(admin)
		outsider := e.User(admin, "mail.outsider", []string{"presales"}, e.Department(admin, "外部门", root))
		acc := admin.Do("POST", "/api/v1/accounts", map[string]any{"name": "星河电子有限公司", "kind": "company",
			"contacts": []map[string]any{{"name": "周敏", "email": "zhou.min@xinghe.example"}}}).Expect(t, 201).Str("id")
		admin.Do("PATCH", "/api/v1/inbox-agents/me", map[string]any{"signature": "系统管理员\n售前咨询部"}, "If-Match", `"1"`).Expect(t, 200)

		ms.add(t, "From: 周敏 <Zhou.Min@xinghe.example>\nTo: inbox@prelude.test\nSubject: =?UTF-8?B?5ZKo6K+i5YWJ5qih5Z2X5oql5Lu3?=\n"+
			"Message-ID: <ask-42@xinghe.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"+
			"--b1\nContent-Type: text/plain; charset=utf-8\n\n请问 100G 光模块的批量报价？\n"+
			"--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; filename*=utf-8''%E9%9C%80%E6%B1%82.pdf\nContent-Transfer-Encoding: base64\n\n"+
			"JVBERi0xLjQK\n--b1--\n")
		admin.Do("POST", "/api/v1/mailboxes", ms.mailbox()).Expect(t, 201)

		var page struct {
			Items []struct {
				inqView
				AccountName string `json:"account_name"`
				Channel     string `json:"channel"`
			} `json:"items"`
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			admin.Do("GET", "/api/v1/inquiries?channel=email", nil).Expect(t, 200).JSON(&page)
			if len(page.Items) > 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(page.Items) != 1 || page.Items[0].AccountID == nil || *page.Items[0].AccountID != acc || page.Items[0].Subject != "咨询光模块报价" {
			t.Fatalf("inquiry from mail: %+v", page.Items)
		}
		v := page.Items[0].inqView
		var msgs struct {
			Items []struct {
				Attachments []struct {
					ID       string `json:"id"`
					Filename string `json:"filename"`
				} `json:"attachments"`
			} `json:"items"`
		}
		admin.Do("GET", "/api/v1/inquiries/"+v.ID+"/messages", nil).Expect(t, 200).JSON(&msgs)
		if len(msgs.Items) != 1 || len(msgs.Items[0].Attachments) != 1 || msgs.Items[0].Attachments[0].Filename != "需求.pdf" {
			t.Fatalf("attachments: %+v", msgs.Items)
		}
		attURL := "/api/v1/inquiries/" + v.ID + "/attachments/" + msgs.Items[0].Attachments[0].ID
		r := admin.Do("GET", attURL, nil).Expect(t, 200)
		if string(r.Body) != "%PDF-1.4\n" || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment; filename*=UTF-8''%E9%9C%80%E6%B1%82.pdf") ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("download: %q %v", r.Body, r.Header)
		}
		outsider.Do("GET", attURL, nil).Expect(t, 404)
		admin.Do("GET", "/api/v1/inquiries/"+v.ID+"/attachments/01900000-0000-7000-8000-000000000000", nil).Expect(t, 404)

		// The reply goes out threaded, with the signature.
		admin.Do("POST", "/api/v1/inquiries/"+v.ID+"/messages", map[string]any{"body": "周经理您好，报价单稍后发您，谢谢！"}).Expect(t, 201)
		sent := waitSent(t, ms, 1)
		p, err := mail.Parse(sent[0], mail.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if p.InReplyTo != "ask-42@xinghe.example" || len(p.References) == 0 || p.References[len(p.References)-1] != "ask-42@xinghe.example" ||
			p.Subject != "Re: 咨询光模块报价" || !strings.Contains(p.Text, "-- \n系统管理员\n售前咨询部") && !strings.Contains(p.Text, "-- \r\n系统管理员\r\n售前咨询部") {
			t.Fatalf("reply: in-reply-to %q refs %v subject %q text %q", p.InReplyTo, p.References, p.Subject, p.Text)
		}

		// The meeting invitation is a real calendar attachment.
		start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
		admin.Do("POST", "/api/v1/inquiries/"+v.ID+"/meetings", map[string]any{"title": "光模块方案交流", "starts_at": start.Format(time.RFC3339),
			"attendees": []map[string]any{{"name": "周敏", "email": "zhou.min@xinghe.example"}, {"email": "cto@xinghe.example"}}, "send": true}).Expect(t, 201)
		sent = waitSent(t, ms, 2)
		p, err = mail.Parse(sent[1], mail.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Attachments) != 1 || p.Attachments[0].Filename != "光模块方案交流.ics" || p.Attachments[0].ContentType != "text/calendar" ||
			!bytes.Contains(p.Attachments[0].Content, []byte("METHOD:REQUEST")) || len(p.To) != 2 || !bytes.Contains(sent[1], []byte("method=REQUEST")) {
			t.Fatalf("invitation: to %v attachments %+v", p.To, p.Attachments)
		}

		// The inbox search: by a word of the mail (search index) and by the account's name.
		if err := e.Srv.Search.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"光模块", "星河", "批量报价"} {
			admin.Do("GET", "/api/v1/inquiries?q="+q, nil).Expect(t, 200).JSON(&page)
			if len(page.Items) != 1 || page.Items[0].ID != v.ID {
				t.Errorf("search %q: %+v", q, page.Items)
			}
		}
		admin.Do("GET", "/api/v1/inquiries?q=100%25_nothing", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 0 {
			t.Errorf("search with LIKE wildcards matched %d", len(page.Items))
		}
	})
}

func waitSent(t *testing.T, ms *mailServers, n int) [][]byte {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ms.mu.Lock()
		got := append([][]byte(nil), ms.sent...)
		ms.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server has %d mails, want %d", len(got), n)
		}
	}
}

// An account created on the spot is part of the inquiry's transaction: an
// inquiry refused after the customer was prepared leaves no account behind.
func TestInquiryNewAccountIsWrittenWithTheInquiry(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		body := map[string]any{"channel": "phone", "body": "想了解报价", "assignee_id": "01900000-0000-7000-8000-000000000000",
			"customer": map[string]any{"name": "孙磊", "mobile": "13911112222", "company": "远景重工有限公司", "create_account": true}}
		r := admin.Do("POST", "/api/v1/inquiries", body)
		if r.Status != 422 || fieldsOf(r)["assignee_id"] == nil {
			t.Fatalf("bad assignee: %d %s", r.Status, r.Body)
		}
		var accs struct{ Items []map[string]any }
		admin.Do("GET", "/api/v1/accounts?q=远景重工", nil).Expect(t, 200).JSON(&accs)
		if len(accs.Items) != 0 {
			t.Fatalf("orphan account left: %v", accs.Items)
		}
		var n int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM accounts WHERE name = ?", "远景重工有限公司").Scan(&n); err != nil || n != 0 {
			t.Fatalf("accounts named like the refused inquiry's customer: %d %v", n, err)
		}
		delete(body, "assignee_id")
		v := inq(t, admin.Do("POST", "/api/v1/inquiries", body).Expect(t, 201))
		if v.AccountID == nil || v.ContactID == nil {
			t.Fatalf("account not created with the inquiry: %+v", v)
		}
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM accounts WHERE name = ?", "远景重工有限公司").Scan(&n); err != nil || n != 1 {
			t.Fatalf("accounts: %d %v", n, err)
		}
	})
}
