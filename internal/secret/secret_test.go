package secret_test

import (
	"encoding/base64"
	"testing"

	"github.com/portvakt/portvakt/internal/secret"
)

func TestToken(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		tok := secret.Token()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatalf("Token() = %q: not base64url: %v", tok, err)
		}
		if len(raw) < 16 {
			t.Fatalf("Token() decodes to %d bytes, want at least 16", len(raw))
		}
		if seen[tok] {
			t.Fatalf("Token() repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestID(t *testing.T) {
	a, b := secret.ID(), secret.ID()
	if len(a) != 26 || a == b {
		t.Errorf("ID() = %q, %q; want two different 26-character IDs", a, b)
	}
}

func TestHashAndEqual(t *testing.T) {
	h := secret.Hash("abc")
	if !secret.Equal(h, secret.Hash("abc")) {
		t.Error("Equal(Hash(abc), Hash(abc)) = false, want true")
	}
	if secret.Equal(h, secret.Hash("abd")) {
		t.Error("Equal(Hash(abc), Hash(abd)) = true, want false")
	}
	if len(h) != 32 {
		t.Errorf("len(Hash) = %d, want 32", len(h))
	}
}
