package password_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/problem"
)

// TestPolicy_LengthInBytesComesFirst replays issue 10, finding 2 at the
// policy: a password of megabytes is refused as too long by its byte
// count, and Prepare hands it back untouched (no NFKC over megabytes).
// Full-width letters are what NFKC rewrites, so a normalised result would
// differ from the input.
func TestPolicy_LengthInBytesComesFirst(t *testing.T) {
	pol, err := password.Preset("nist")
	if err != nil {
		t.Fatal(err)
	}
	if got := pol.MaxBytes(); got != 4*256 {
		t.Fatalf("MaxBytes() = %d, want 1024 (4 × MaxLength 256)", got)
	}
	huge := strings.Repeat("Ａ", 10<<20/3) // about 10 MB
	if !pol.TooLong(huge) {
		t.Fatal("TooLong(10 MB) = false")
	}
	if got := pol.Prepare(huge); got != huge {
		t.Error("Prepare(10 MB) normalised the input; want it returned as it is")
	}
	err = pol.Check(huge, password.Context{})
	p, ok := problem.As(err)
	if !ok || len(p.Details) != 1 || p.Details[0].Key != "password.too_long" {
		t.Fatalf("Check(10 MB) = %v, want the single detail password.too_long", err)
	}
	// At the edge: 256 four-byte code points are allowed, one byte more is not.
	edge := strings.Repeat("😀", 256)
	if pol.TooLong(edge) || !pol.TooLong(edge+"a") {
		t.Errorf("TooLong at 1024/1025 bytes = %v/%v, want false/true", pol.TooLong(edge), pol.TooLong(edge+"a"))
	}
	if got := pol.Prepare("Ａ"); got != "A" {
		t.Errorf("Prepare(full-width A) = %q, want %q (short passwords are still normalised)", got, "A")
	}
	unlimited := pol
	unlimited.MaxLength = 0
	if unlimited.MaxBytes() != 4096 || !unlimited.TooLong(strings.Repeat("a", 4097)) || unlimited.TooLong(strings.Repeat("a", 4096)) {
		t.Errorf("without MaxLength: MaxBytes() = %d, want 4096 and the bound at 4096 bytes", unlimited.MaxBytes())
	}
}

// TestHasher_CheckImportedCapsTheCost replays issue 10, finding 9: the
// admin API accepted imported hashes up to m=1 GiB, t=100, so that one
// account's sign-in could occupy the whole pool.
func TestHasher_CheckImportedCapsTheCost(t *testing.T) {
	h := newHasher(t, password.DefaultArgon2Params(), 128<<20) // 128 MiB pool, m=19456 t=2
	tag := "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	argon := func(params string) string { return "$argon2id$v=19$" + params + "$c29tZXNhbHQ$" + tag }
	bc := func(cost int) string {
		b, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		return s[:4] + string(rune('0'+cost/10)) + string(rune('0'+cost%10)) + s[6:]
	}
	tests := []struct {
		name, hash string
		want       error
	}{
		{"the current parameters", argon("m=19456,t=2,p=1"), nil},
		{"RFC 9106 second recommendation", argon("m=65536,t=3,p=4"), nil},
		{"half the pool", argon("m=65536,t=1,p=1"), nil},
		{"more than half the pool", argon("m=65537,t=1,p=1"), password.ErrTooCostly},
		{"1 GiB (Verify's own cap)", argon("m=1048576,t=1,p=1"), password.ErrTooCostly},
		{"t=100 at the current memory", argon("m=19456,t=100,p=1"), password.ErrTooCostly},
		{"8× the work", argon("m=19456,t=16,p=1"), nil},
		{"just over 8× the work", argon("m=19456,t=17,p=1"), password.ErrTooCostly},
		{"bcrypt cost 13", bc(13), nil},
		{"bcrypt cost 14", bc(14), password.ErrTooCostly},
		{"not a hash", "plaintext", password.ErrMalformedHash},
	}
	for _, tt := range tests {
		err := h.CheckImported(tt.hash)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: CheckImported = %v, want %v", tt.name, err, tt.want)
		}
	}
}
