package auth

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// NewTOTP creates a secret for account, labelled with issuer, and returns the
// secret, the otpauth:// URL and a PNG QR code as a data URL.
func NewTOTP(issuer, account string) (secret, url, qrDataURL string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account})
	if err != nil {
		return "", "", "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", "", "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", "", err
	}
	return key.Secret(), key.URL(), "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// CheckTOTP validates code at t allowing one 30-second step of clock skew and
// returns the time step it matched, so callers can refuse a replayed code.
func CheckTOTP(secret, code string, t time.Time) (step int64, ok bool) {
	if len(code) != 6 {
		return 0, false
	}
	for _, skew := range []int64{0, -1, 1} {
		at := t.Add(time.Duration(skew) * 30 * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && want == code {
			return at.Unix() / 30, true
		}
	}
	return 0, false
}

// TOTPCode returns the current code (tests and the CLI use it).
func TOTPCode(secret string, t time.Time) string {
	c, _ := totp.GenerateCode(secret, t)
	return c
}
