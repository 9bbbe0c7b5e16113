package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
)

// TokenBytes is the size of session and link tokens: 256 bits.
const TokenBytes = 32

// Token returns a URL-safe random string of TokenBytes random bytes.
func Token() string {
	b := make([]byte, TokenBytes)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID returns a random 128-bit identifier as 26 lower-case base32
// characters. IDs name records; they are not credentials but are still
// unguessable so that they can appear in URLs.
func ID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 digest of a token, the form in which tokens are
// stored.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Equal reports whether a and b are equal, in time that depends only on
// their lengths.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
