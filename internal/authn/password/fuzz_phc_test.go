package password

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParsePHC: a stored hash string (PHC argon2id/argon2i, or bcrypt) is
// either accepted with parameters inside the caps or refused as malformed
// or unsupported; it never panics, and an accepted argon2id string is the
// canonical encoding of what was read.
func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU",
		"$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2d$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=08,t=1,p=1$$",
		"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"$2x$99$" + strings.Repeat("a", 53),
		"$$$$$$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseArgon2(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) {
				t.Fatalf("parseArgon2(%q): %v is neither malformed nor unsupported", s, err)
			}
		} else {
			if checkArgon2(h.memory, h.time, h.threads) != nil || len(h.salt) < minSaltLen || len(h.key) < minKeyLen {
				t.Fatalf("parseArgon2(%q) accepted %+v outside the caps", s, h)
			}
			if h.variant == "argon2id" {
				p := Argon2Params{Memory: h.memory, Time: h.time, Threads: h.threads}
				if got := encodeArgon2id(p, h.salt, h.key); got != s {
					t.Fatalf("parseArgon2(%q) re-encodes as %q", s, got)
				}
			}
		}
		if _, err := parseBcrypt(s); err != nil && !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) {
			t.Fatalf("parseBcrypt(%q): %v is neither malformed nor unsupported", s, err)
		}
	})
}
