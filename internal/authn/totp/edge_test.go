package totp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
)

// A typed code may be up to 64 bytes long with its separators; one byte
// more is refused before any work.
func TestVerify_InputLengthBound(t *testing.T) {
	code := mustCode(t, rfcSecret, at)
	exact := code + strings.Repeat(" ", 64-len(code))
	if _, err := totp.Verify(rfcSecret, exact, at, 0); err != nil {
		t.Errorf("Verify(code padded to 64 bytes) = %v, want nil", err)
	}
	if !totp.WellFormed(exact) || totp.WellFormed(exact+" ") {
		t.Errorf("WellFormed of 64 bytes = %v, of 65 = %v; want true and false", totp.WellFormed(exact), totp.WellFormed(exact+" "))
	}
	if _, err := totp.Verify(rfcSecret, exact+" ", at, 0); !errors.Is(err, totp.ErrFormat) {
		t.Errorf("Verify(code padded to 65 bytes) = %v, want ErrFormat", err)
	}
}

// The first time step, 0, is a step like any other; the window reaches it
// from the last step of 1969, whose floor is -1 (not 0: truncation).
func TestVerify_FirstStep(t *testing.T) {
	code := mustCode(t, rfcSecret, time.Unix(0, 0))
	for _, now := range []time.Time{time.Unix(0, 0), time.Unix(29, 0), time.Unix(-30, 0)} {
		step, err := totp.Verify(rfcSecret, code, now, -1)
		if err != nil || step != 0 {
			t.Errorf("Verify(code of step 0) at %d = %d, %v; want step 0", now.Unix(), step, err)
		}
	}
	if _, err := totp.Verify(rfcSecret, code, time.Unix(-31, 0), -1); !errors.Is(err, totp.ErrWrongCode) {
		t.Errorf("Verify(code of step 0) at -31 = %v, want ErrWrongCode (two steps away)", err)
	}
}
