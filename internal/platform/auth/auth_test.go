package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("正确的密码-horse-battery")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q %v", h, err)
	}
	if ok, _ := CheckPassword(h, "正确的密码-horse-battery"); !ok {
		t.Fatal("right password refused")
	}
	if ok, _ := CheckPassword(h, "正确的密码-horse-batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("正确的密码-horse-battery")
	if h == h2 {
		t.Fatal("salt not random")
	}
	if _, err := CheckPassword("$md5$x", "a"); err != ErrBadHash {
		t.Fatalf("bad hash: %v", err)
	}
}

func TestWeakPasswords(t *testing.T) {
	for pw, weak := range map[string]bool{"short": true, "1234567890": true, "aaaaaaaaaaaa": true, "zhangsan123": false, "Zhang.San": true, "correct horse": false} {
		if got := WeakPassword(pw, "zhang.san"); got != weak {
			t.Errorf("%q: weak=%v", pw, got)
		}
	}
	if !WeakPassword("Zhang.San.1", "zhang.san.1") {
		t.Error("password equal to username accepted")
	}
}

func TestTOTPWindowAndReplayStep(t *testing.T) {
	secret, url, qr, err := NewTOTP("Prelude", "li.lei")
	if err != nil || !strings.Contains(url, "issuer=Prelude") || !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Fatalf("%v %s", err, url)
	}
	now := time.Unix(1_800_000_000, 0)
	step, ok := CheckTOTP(secret, TOTPCode(secret, now), now)
	if !ok || step != now.Unix()/30 {
		t.Fatal("current code refused")
	}
	if _, ok := CheckTOTP(secret, TOTPCode(secret, now.Add(-30*time.Second)), now); !ok {
		t.Error("previous step (clock skew) refused")
	}
	if _, ok := CheckTOTP(secret, TOTPCode(secret, now.Add(-90*time.Second)), now); ok {
		t.Error("code from three steps ago accepted")
	}
	if _, ok := CheckTOTP(secret, "12345", now); ok {
		t.Error("short code accepted")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(60, 3)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("1.2.3.4"); !ok {
			t.Fatal("burst refused")
		}
	}
	ok, wait := l.Allow("1.2.3.4")
	if ok || wait != 1 {
		t.Fatalf("over burst: %v %d", ok, wait)
	}
	if ok, _ := l.Allow("5.6.7.8"); !ok {
		t.Fatal("other address limited")
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("1.2.3.4"); !ok {
		t.Fatal("not refilled after a second")
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken("prl_"), NewToken("prl_")
	if a == b || !strings.HasPrefix(a, "prl_") || len(a) < 40 {
		t.Fatalf("%q %q", a, b)
	}
	if HashToken(a) == a || len(HashToken(a)) != 64 {
		t.Fatal("hash")
	}
}
