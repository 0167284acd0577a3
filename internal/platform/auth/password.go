// Package auth holds the mechanisms of signing in: argon2id password hashes,
// random session and API tokens stored only as hashes, TOTP codes, and an
// in-memory rate limiter. Who may sign in and what is stored where belongs to
// the org capability; this package has no business rules.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (OWASP's second recommended set: 19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a PHC-format argon2id hash.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ErrBadHash reports a stored hash that cannot be parsed.
var ErrBadHash = errors.New("auth: malformed password hash")

// CheckPassword compares in constant time.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, ErrBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash lets sign-in with an unknown username take as long as with a
// known one, so response time does not reveal which usernames exist.
var dummyHash, _ = HashPassword("prelude-timing-equaliser")

// BurnPasswordCheck spends the time of one password check.
func BurnPasswordCheck(password string) { CheckPassword(dummyHash, password) }

// NewToken returns a random URL-safe token with a readable prefix.
func NewToken(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how session and API tokens are stored: a SHA-256 digest, fine
// for 256-bit random secrets (no dictionary to attack).
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// common passwords refused outright (a short list of the worst offenders,
// including the ones Chinese users pick most often).
var commonPasswords = map[string]bool{
	"1234567890": true, "12345678910": true, "0123456789": true, "password123": true, "qwertyuiop": true,
	"1qaz2wsx3edc": true, "woaini1314": true, "iloveyou123": true, "a123456789": true, "abc1234567": true,
	"password1234": true, "admin12345": true, "qwerty12345": true, "1111111111": true, "88888888888": true,
	"6666666666": true, "5201314520": true, "zxcvbnm123": true, "abcd123456": true, "administrator": true,
}

// WeakPassword reports a password that is too short, equals the username or
// is a well-known one.
func WeakPassword(password, username string) bool {
	if len([]rune(password)) < 10 || len(password) > 256 {
		return true
	}
	lp := strings.ToLower(password)
	if lp == strings.ToLower(username) || commonPasswords[lp] {
		return true
	}
	distinct := map[rune]bool{}
	for _, r := range password {
		distinct[r] = true
	}
	return len(distinct) < 4
}
