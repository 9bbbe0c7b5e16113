package password_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/portvakt/portvakt/internal/authn/password"
)

// Stats counts every hash a verification computed, and the dummy ones
// apart, so that callers can prove an unknown account costs exactly what a
// known one does without timing anything.
func TestHasher_StatsCountVerifications(t *testing.T) {
	h := newHasher(t, fast, 0)
	want := func(what string, verifications, dummies int64) {
		t.Helper()
		if s := h.Stats(); s.Verifications != verifications || s.Dummies != dummies {
			t.Errorf("after %s: Stats() = %d verifications, %d dummies; want %d and %d", what, s.Verifications, s.Dummies, verifications, dummies)
		}
	}
	want("nothing", 0, 0)
	enc, err := h.Hash(t.Context(), "right")
	if err != nil {
		t.Fatal(err)
	}
	want("Hash", 0, 0) // hashing a new password is not a verification
	h.Verify(t.Context(), "right", enc)
	want("a right password", 1, 0)
	h.Verify(t.Context(), "wrong", enc)
	want("a wrong password", 2, 0)
	h.VerifyDummy(t.Context(), "anything")
	want("VerifyDummy", 3, 1)
	b, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h.Verify(t.Context(), "right", string(b))
	want("a bcrypt hash", 4, 1)

	// Nothing computed, nothing counted: a malformed hash, a canceled wait.
	h.Verify(t.Context(), "right", "$argon2id$v=19$nonsense")
	h.Verify(t.Context(), "right", "$2a$nonsense")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	h.Verify(ctx, "right", enc)
	h.VerifyDummy(ctx, "anything")
	want("refusals", 4, 1)

	if s := newHasher(t, password.Argon2Params{}, 0).Stats(); s.Verifications != 0 || s.Dummies != 0 {
		t.Errorf("a new Hasher's Stats() = %+v, want no verifications", s)
	}
}
