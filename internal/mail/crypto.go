package mail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// secretBox encrypts mailbox passwords at rest. Its key is derived from the
// server's audit key (the one secret every deployment already has and keeps
// out of the database when PRELUDE_AUDIT_KEY_FILE is set), so a copy of the
// database alone does not give away the mail accounts.
type secretBox struct{ aead cipher.AEAD }

const secretPrefix = "v1:"

func newSecretBox(serverKey []byte) (*secretBox, error) {
	if len(serverKey) < 16 {
		return nil, errors.New("mail: server key too short")
	}
	key, err := hkdf.Key(sha256.New, serverKey, nil, "prelude mail passwords v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretBox{aead: aead}, nil
}

// seal encrypts plain; "" stays "" (no password).
func (b *secretBox) seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return secretPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// errKeyChanged means a password was encrypted under another server key.
var errKeyChanged = errors.New("mail: stored password cannot be decrypted (was the audit key changed?); enter it again")

func (b *secretBox) open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, secretPrefix))
	if err != nil || !strings.HasPrefix(sealed, secretPrefix) || len(raw) < b.aead.NonceSize() {
		return "", errKeyChanged
	}
	plain, err := b.aead.Open(nil, raw[:b.aead.NonceSize()], raw[b.aead.NonceSize():], nil)
	if err != nil {
		return "", errKeyChanged
	}
	return string(plain), nil
}
