package totp_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
)

// rfcSecret is RFC 6238's SHA-1 seed, the 20 ASCII bytes
// "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// TestRFC6238AppendixB checks the SHA-1 rows of RFC 6238 Appendix B. The
// RFC's values have 8 digits; CodeDigits (export_test.go) runs the same
// generate function as Code and Verify with 8 digits, and the 8-digit
// value is compared exactly. Code's 6-digit output must then be the last 6
// digits of it (both are the same 31-bit truncated HMAC value modulo 10^8
// and 10^6), and Verify must accept those 6 digits and return the RFC's
// time step T. The last row is past 2^32 seconds (year 2603).
func TestRFC6238AppendixB(t *testing.T) {
	if rfcSecret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("base32 seed = %s, want GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ (SECURITY.md §4.6)", rfcSecret)
	}
	tests := []struct {
		unix int64
		step int64 // the RFC's "Value of T (hex)"
		totp string
	}{
		{59, 0x0000000000000001, "94287082"},
		{1111111109, 0x00000000023523EC, "07081804"},
		{1111111111, 0x00000000023523ED, "14050471"},
		{1234567890, 0x000000000273EF07, "89005924"},
		{2000000000, 0x0000000003F940AA, "69279037"},
		{20000000000, 0x0000000027BC86AA, "65353130"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.unix), func(t *testing.T) {
			at := time.Unix(tt.unix, 0)
			got8, err := totp.CodeDigits(rfcSecret, at, 8)
			if err != nil || got8 != tt.totp {
				t.Errorf("CodeDigits(seed, %d, 8) = %q, %v; want %q", tt.unix, got8, err, tt.totp)
			}
			want6 := tt.totp[2:]
			got6, err := totp.Code(rfcSecret, at)
			if err != nil || got6 != want6 {
				t.Errorf("Code(seed, %d) = %q, %v; want %q", tt.unix, got6, err, want6)
			}
			step, err := totp.Verify(rfcSecret, want6, at, 0)
			if err != nil || step != tt.step {
				t.Errorf("Verify(seed, %q, %d, 0) = %#x, %v; want %#x", want6, tt.unix, step, err, tt.step)
			}
		})
	}
}

// TestAgreesWithOathtool compares Code with Debian's oathtool (an
// independent implementation, OATH Toolkit) on random 160-bit secrets at
// random times between 1970 and 2514.
func TestAgreesWithOathtool(t *testing.T) {
	oathtool, err := exec.LookPath("oathtool")
	if err != nil {
		t.Fatalf("oathtool not found (%v): this test needs Debian's oathtool as an independent TOTP implementation; "+
			"install it with `apt-get install oathtool`, or run `make test`, which installs it", err)
	}
	for range 20 {
		var b [SecretLen + 8]byte
		rand.Read(b[:])
		secret := base32.StdEncoding.EncodeToString(b[:SecretLen])
		unix := int64(binary.BigEndian.Uint64(b[SecretLen:]) % (1 << 34))
		out, err := exec.Command(oathtool, "--totp", "-b", secret, "--now", fmt.Sprintf("@%d", unix)).CombinedOutput()
		if err != nil {
			t.Fatalf("oathtool --totp -b %s --now @%d: %v\n%s", secret, unix, err, out)
		}
		want := strings.TrimSpace(string(out))
		got, err := totp.Code(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("Code(%s, @%d) = %q, %v; oathtool says %q", secret, unix, got, err, want)
		}
		if _, err := totp.Verify(secret, want, time.Unix(unix, 0), 0); err != nil {
			t.Errorf("Verify(%s, oathtool's %q, @%d, 0): %v", secret, want, unix, err)
		}
	}
}

// SecretLen is the length of a generated secret in bytes.
const SecretLen = totp.SecretBytes

// at is a fixed time in the middle of a step, so that ±n steps are
// exactly ±30n seconds away without edge effects.
var at = time.Unix(1767225600+15, 0) // 2026-01-01T00:00:15Z

func stepOf(t time.Time) int64 { return t.Unix() / totp.Period }

func mustCode(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	c, err := totp.Code(secret, t)
	if err != nil {
		tb.Fatalf("Code(%s, %v): %v", secret, t, err)
	}
	return c
}

func TestVerify_Window(t *testing.T) {
	now := stepOf(at)
	tests := []struct {
		name   string
		offset int64 // steps from the server's current step to the code's
		ok     bool
	}{
		{"code of the current step", 0, true},
		{"code of the previous step (network or typing delay)", -1, true},
		{"code of the next step (phone clock ahead)", 1, true},
		{"code two steps old", -2, false},
		{"code two steps ahead", 2, false},
		{"code ten steps old", -10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := mustCode(t, rfcSecret, at.Add(time.Duration(tt.offset)*totp.Period*time.Second))
			step, err := totp.Verify(rfcSecret, code, at, 0)
			if tt.ok {
				if err != nil || step != now+tt.offset {
					t.Errorf("Verify(code of step %+d) = %d, %v; want %d, nil", tt.offset, step, err, now+tt.offset)
				}
				return
			}
			if !errors.Is(err, totp.ErrWrongCode) {
				t.Errorf("Verify(code of step %+d) = %d, %v; want ErrWrongCode", tt.offset, step, err)
			}
		})
	}
	t.Run("the first and last second of a step", func(t *testing.T) {
		start := time.Unix(now*totp.Period, 0)
		end := start.Add(totp.Period*time.Second - time.Nanosecond)
		code := mustCode(t, rfcSecret, start)
		for _, tm := range []time.Time{start, end} {
			if step, err := totp.Verify(rfcSecret, code, tm, 0); err != nil || step != now {
				t.Errorf("Verify at %v = %d, %v; want %d", tm, step, err, now)
			}
		}
	})
}

// TestVerify_Replay follows SECURITY.md §5.3 and ASVS 6.5.1.
func TestVerify_Replay(t *testing.T) {
	code := mustCode(t, rfcSecret, at)
	first, err := totp.Verify(rfcSecret, code, at, 0)
	if err != nil {
		t.Fatalf("first Verify: %v", err)
	}

	t.Run("the same code again in the same step is refused", func(t *testing.T) {
		if step, err := totp.Verify(rfcSecret, code, at, first); !errors.Is(err, totp.ErrReplayed) {
			t.Errorf("Verify(same code, lastStep=%d) = %d, %v; want ErrReplayed", first, step, err)
		}
	})
	t.Run("the same code a step later, still inside the skew, is refused", func(t *testing.T) {
		later := at.Add(totp.Period * time.Second)
		if step, err := totp.Verify(rfcSecret, code, later, first); !errors.Is(err, totp.ErrReplayed) {
			t.Errorf("Verify(same code, 30 s later) = %d, %v; want ErrReplayed", step, err)
		}
	})
	t.Run("the previous step's code, still inside the skew, is refused", func(t *testing.T) {
		prev := mustCode(t, rfcSecret, at.Add(-totp.Period*time.Second))
		if step, err := totp.Verify(rfcSecret, prev, at, first); !errors.Is(err, totp.ErrReplayed) {
			t.Errorf("Verify(code of step %d, lastStep=%d) = %d, %v; want ErrReplayed", first-1, first, step, err)
		}
	})
	t.Run("the enrollment code cannot be reused for the first login", func(t *testing.T) {
		// Enrollment confirmation is Verify with lastStep 0; the login
		// that follows passes the step it returned.
		enrolled, err := totp.Verify(rfcSecret, code, at, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := totp.Verify(rfcSecret, code, at.Add(5*time.Second), enrolled); !errors.Is(err, totp.ErrReplayed) {
			t.Errorf("login with the enrollment code: err = %v, want ErrReplayed", err)
		}
	})
	t.Run("the next step's code is accepted", func(t *testing.T) {
		later := at.Add(totp.Period * time.Second)
		next := mustCode(t, rfcSecret, later)
		step, err := totp.Verify(rfcSecret, next, later, first)
		if err != nil || step != first+1 {
			t.Errorf("Verify(next code, lastStep=%d) = %d, %v; want %d", first, step, err, first+1)
		}
		// Also when typed early, while the server is still in the old step
		// (the phone's clock is ahead).
		step, err = totp.Verify(rfcSecret, next, at, first)
		if err != nil || step != first+1 {
			t.Errorf("Verify(next code early, lastStep=%d) = %d, %v; want %d", first, step, err, first+1)
		}
	})
}

func TestVerify_Input(t *testing.T) {
	code := mustCode(t, rfcSecret, at)
	fullWidth := strings.Map(func(r rune) rune { return r - '0' + '０' }, code)
	arabic := strings.Map(func(r rune) rune { return r - '0' + '٠' }, code)
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"as shown", code, nil},
		{"with a space in the middle, as apps display it", code[:3] + " " + code[3:], nil},
		{"with a dash", code[:3] + "-" + code[3:], nil},
		{"with an en dash", code[:3] + "–" + code[3:], nil},
		{"with surrounding white space and a no-break space", "\t " + code[:3] + "\u00a0" + code[3:] + "\n", nil},
		{"with a zero-width space from a paste", code[:3] + "\u200b" + code[3:], nil},
		{"in full-width digits", fullWidth, nil},
		{"in Arabic-Indic digits", arabic, nil},
		{"empty", "", totp.ErrFormat},
		{"only spaces", "   ", totp.ErrFormat},
		{"five digits", code[:5], totp.ErrFormat},
		{"seven digits", code + "1", totp.ErrFormat},
		{"a letter", code[:5] + "a", totp.ErrFormat},
		{"a recovery code", "k7q4-9xm2-pd3f-h8wa", totp.ErrFormat},
		{"superscript digits are not digits", "¹²³⁴⁵⁶", totp.ErrFormat},
		{"a very long input", strings.Repeat(" ", 100) + code, totp.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := totp.Verify(rfcSecret, tt.input, at, 0)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify(%q) error = %v, want %v", tt.input, err, tt.want)
			}
		})
	}

	t.Run("a well-formed wrong code", func(t *testing.T) {
		window := map[string]bool{}
		for d := -1; d <= 1; d++ {
			window[mustCode(t, rfcSecret, at.Add(time.Duration(d)*totp.Period*time.Second))] = true
		}
		wrong := "000000"
		for i := 0; window[wrong]; i++ {
			wrong = fmt.Sprintf("%06d", i)
		}
		if _, err := totp.Verify(rfcSecret, wrong, at, 0); !errors.Is(err, totp.ErrWrongCode) {
			t.Errorf("Verify(%q) error = %v, want ErrWrongCode", wrong, err)
		}
	})
}

func TestVerify_BadSecret(t *testing.T) {
	for _, secret := range []string{"", "not base32!", "A"} {
		_, err := totp.Verify(secret, "123456", at, 0)
		if err == nil || errors.Is(err, totp.ErrWrongCode) || errors.Is(err, totp.ErrFormat) || errors.Is(err, totp.ErrReplayed) {
			t.Errorf("Verify(secret %q) error = %v, want an operator error (not a user-mistake sentinel)", secret, err)
		}
	}
}

func TestCode_SecretAsTyped(t *testing.T) {
	want := mustCode(t, rfcSecret, at)
	typed := strings.ToLower(strings.Join([]string{rfcSecret[:4], rfcSecret[4:8], rfcSecret[8:]}, " "))
	if got := mustCode(t, typed, at); got != want {
		t.Errorf("Code(%q) = %q, want %q as for %q", typed, got, want, rfcSecret)
	}
}

func TestGenerate(t *testing.T) {
	key, err := totp.Generate("Portvakt Demo", "kari@example.no")
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}

	t.Run("secret is 160 random bits in base32", func(t *testing.T) {
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
		if err != nil || len(raw) != 20 || len(key.Secret) != 32 {
			t.Errorf("Secret %q: %d bytes, %v; want 32 base32 characters, 20 bytes", key.Secret, len(raw), err)
		}
		other, err := totp.Generate("Portvakt Demo", "kari@example.no")
		if err != nil || other.Secret == key.Secret {
			t.Errorf("two Generate calls gave the same secret (err %v)", err)
		}
	})
	t.Run("URL is an otpauth key URI with issuer and account", func(t *testing.T) {
		u, err := url.Parse(key.URL)
		if err != nil {
			t.Fatalf("URL %q: %v", key.URL, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Portvakt Demo:kari@example.no" {
			t.Errorf("URL %q: scheme, host, label = %q, %q, %q", key.URL, u.Scheme, u.Host, u.Path)
		}
		if strings.Contains(key.URL, "+") {
			t.Errorf("URL %q encodes a space as +; apps want %%20 in the label", key.URL)
		}
		q := u.Query()
		for k, want := range map[string]string{
			"secret": key.Secret, "issuer": "Portvakt Demo", "algorithm": "SHA1", "digits": "6", "period": "30",
		} {
			if got := q.Get(k); got != want {
				t.Errorf("URL parameter %s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("the secret works with Code and Verify", func(t *testing.T) {
		step, err := totp.Verify(key.Secret, mustCode(t, key.Secret, at), at, 0)
		if err != nil || step != stepOf(at) {
			t.Errorf("Verify(own code) = %d, %v", step, err)
		}
	})
	t.Run("SecretGroups splits the secret in fours", func(t *testing.T) {
		g := key.SecretGroups()
		if len(g) != 8 || strings.Join(g, "") != key.Secret {
			t.Fatalf("SecretGroups() = %q, want 8 groups that join to %q", g, key.Secret)
		}
		for _, s := range g {
			if len(s) != 4 {
				t.Errorf("SecretGroups() has group %q, want 4 characters", s)
			}
		}
	})
	t.Run("QRDataURI is a 256×256 PNG", func(t *testing.T) {
		uri, err := key.QRDataURI()
		if err != nil {
			t.Fatalf("QRDataURI: %v", err)
		}
		const prefix = "data:image/png;base64,"
		if !strings.HasPrefix(uri, prefix) {
			t.Fatalf("QRDataURI() = %.40q…, want prefix %q", uri, prefix)
		}
		raw, err := base64.StdEncoding.DecodeString(uri[len(prefix):])
		if err != nil {
			t.Fatalf("QRDataURI payload is not base64: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("QRDataURI payload is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
			t.Errorf("QR image is %v, want 256×256", b)
		}
	})
	t.Run("printing or logging a Key does not show the secret", func(t *testing.T) {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("enroll", "key", key)
		for _, s := range []string{fmt.Sprint(key), fmt.Sprintf("%+v", key), fmt.Sprintf("%#v", key), buf.String()} {
			if strings.Contains(s, key.Secret) || strings.Contains(s, key.Secret[:8]) {
				t.Errorf("output %q contains the secret", s)
			}
		}
	})
}

func TestGenerate_RefusesBadLabels(t *testing.T) {
	tests := []struct{ name, issuer, account string }{
		{"empty issuer", "", "kari@example.no"},
		{"empty account", "Portvakt", ""},
		{"colon in issuer", "Portvakt: Demo", "kari@example.no"},
		{"colon in account", "Portvakt", "kari:nordmann"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if key, err := totp.Generate(tt.issuer, tt.account); err == nil {
				t.Errorf("Generate(%q, %q) = %v, want an error", tt.issuer, tt.account, key.URL)
			}
		})
	}
}
