package totp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
)

// The parameters every Portvakt TOTP uses. They are the defaults of RFC
// 6238 and the only ones every authenticator app supports, so they are
// not configurable.
const (
	Digits      = 6  // digits in a code
	Period      = 30 // seconds in a time step
	Skew        = 1  // steps accepted on either side of the current one
	SecretBytes = 20 // 160 bits, RFC 4226 §4's recommended key length
)

// Errors from Verify about the code the user entered. Each is the user's
// mistake, never an internal error; any other error from Verify is about
// the stored secret and is the operator's.
var (
	// ErrFormat means the input, once normalized, is not Digits digits.
	// It is worth telling the user exactly that, and it need not count as
	// a failed attempt.
	ErrFormat = errors.New("totp code is not 6 digits")
	// ErrWrongCode means the code matches none of the steps in the
	// window.
	ErrWrongCode = errors.New("wrong totp code")
	// ErrReplayed means the code is right for a step in the window, but
	// that step (and every one after it that the code matches) is not
	// after lastStep: it was used already (RFC 6238 §5.2). NIST SP
	// 800-63B §3.1.4.2 allows telling the user.
	ErrReplayed = errors.New("totp code already used")
)

// Key is a newly generated TOTP secret, in the forms the enrollment page
// shows. Secret must be stored encrypted (secret.Sealer) and is never shown
// again after enrollment. Key's String, GoString and LogValue methods
// redact both fields, so a Key that reaches a log line or an error message
// does not leak the secret.
type Key struct {
	// Secret is the shared secret: SecretBytes random bytes in upper-case
	// base32 without padding (32 characters), as authenticator apps expect
	// it to be typed.
	Secret string
	// URL is the otpauth://totp/ key URI for the QR code, with the label
	// "issuer:account" and issuer, secret, algorithm (SHA1), digits (6) and
	// period (30) parameters.
	URL string
}

// Generate makes a new random secret for account (the user's email address
// or username, as the app should display it) at issuer (the service's
// name). Neither may be empty or contain a colon, which separates them in
// the key URI's label; that is a configuration or programming error, not
// the user's.
func Generate(issuer, account string) (Key, error) {
	if issuer == "" || account == "" {
		return Key{}, errors.New("totp key: issuer and account must not be empty")
	}
	if strings.Contains(issuer, ":") || strings.Contains(account, ":") {
		return Key{}, fmt.Errorf("totp key: issuer %q and account must not contain a colon", issuer)
	}
	k, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  SecretBytes,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Key{}, fmt.Errorf("totp key: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// SecretGroups returns Secret in groups of four characters, for a user who
// types the secret instead of scanning the QR code, or reads it aloud.
// Authenticator apps ignore the spaces between groups, and so do Code and
// Verify.
func (k Key) SecretGroups() []string {
	s := compactSecret(k.Secret)
	groups := make([]string, 0, (len(s)+3)/4)
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	if s != "" {
		groups = append(groups, s)
	}
	return groups
}

// QRDataURI returns URL as a 256×256 PNG QR code in a data: URI
// ("data:image/png;base64,…"), to put in an <img src> without another
// request or a JavaScript library. The page that shows it must not be
// cached, since it carries the secret.
func (k Key) QRDataURI() (string, error) {
	key, err := otp.NewKeyFromURL(k.URL)
	if err != nil {
		return "", fmt.Errorf("totp qr code: %w", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return "", fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("totp qr code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

const redacted = "totp.Key{Secret: [redacted], URL: [redacted]}"

// String returns a fixed placeholder: a Key printed with %v does not show
// the secret.
func (k Key) String() string { return redacted }

// GoString returns a fixed placeholder, for %#v.
func (k Key) GoString() string { return redacted }

// LogValue makes log/slog print a fixed placeholder for a Key.
func (k Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// Verify checks code, as the user typed it, against secret at the time now
// (the server's clock, never the client's), and returns the time step it
// matched. lastStep is the step returned by the last successful Verify for
// this secret, or 0 if there was none.
//
// The input is normalized first: white space, invisible separators and
// dashes are ignored (so "123 456" and "123-456" are fine), and full-width
// (U+FF10–U+FF19) and Arabic-Indic (U+0660–U+0669, U+06F0–U+06F9) digits
// count as the ASCII digits they look like. If what remains is not exactly
// 6 ASCII digits, Verify returns ErrFormat.
//
// The code is compared, in constant time, with the codes for the current
// step and Skew steps either side of it, i.e. the codes of the last 60 to
// 90 seconds (RFC 6238 §5.2 recommends at most one step of delay). The
// latest matching step after lastStep wins. Verify returns ErrReplayed if
// the code matches only steps at or before lastStep, and ErrWrongCode if it
// matches none. Choosing the latest match means that one code can never be
// accepted twice, even in the one-in-a-million case where it is right for
// two steps of the window.
//
// Replay protection holds only if the caller stores the returned step as
// the new lastStep in the same transaction that accepts the login, with a
// conditional update (UPDATE … SET last_step = $step WHERE last_step <
// $step) so that two concurrent submissions of one code cannot both win
// (SECURITY.md §5.3). The enrollment confirmation is a Verify like any
// other, so its code cannot be reused for the first login. Verify does no
// rate limiting: a 6-digit code needs the caller's attempt limit (NIST SP
// 800-63B §3.2.2).
//
// The returned step is meaningful only when err is nil. An error that is
// none of ErrFormat, ErrWrongCode and ErrReplayed means secret is not valid
// base32. Verify is safe for concurrent use.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, err error) {
	in, ok := normalizeCode(code)
	if !ok {
		return 0, ErrFormat
	}
	cur := stepAt(now)
	matched, replayed := int64(-1), false
	// Every step of the window is computed and compared, whatever matched
	// before, so the time taken does not depend on the code.
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 {
			continue // before 1970: no such step
		}
		want, err := generate(secret, s, otp.DigitsSix)
		if err != nil {
			return 0, err
		}
		// Steps are not secret; only the code comparison must not leak.
		if subtle.ConstantTimeCompare([]byte(want), in) == 1 {
			if s > lastStep {
				matched = s // the loop goes forward, so the latest match wins
			} else {
				replayed = true
			}
		}
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed:
		return 0, ErrReplayed
	default:
		return 0, ErrWrongCode
	}
}

// Code returns the 6-digit code for secret at time t. It is for tests and
// tools (an admin's "what code does this secret show now"); login uses
// Verify.
func Code(secret string, t time.Time) (string, error) {
	return generate(secret, stepAt(t), otp.DigitsSix)
}

// stepAt returns the RFC 6238 time step T = floor((t - T0) / X), with
// T0 = 0 and X = Period.
func stepAt(t time.Time) int64 {
	u := t.Unix()
	s := u / Period
	if u%Period < 0 {
		s-- // floor, not truncation, before 1970
	}
	return s
}

// generate returns the code of the given number of digits for secret at
// time step step, through pquerna/otp's HOTP (RFC 4226) with SHA-1.
func generate(secret string, step int64, digits otp.Digits) (string, error) {
	if step < 0 {
		return "", fmt.Errorf("totp: time step %d is before 1970", step)
	}
	s := compactSecret(secret)
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return "", fmt.Errorf("totp secret is not base32: %w", otp.ErrValidateSecretInvalidBase32)
	}
	if len(raw) == 0 {
		return "", errors.New("totp secret is empty")
	}
	code, err := hotp.GenerateCodeCustom(s, uint64(step), hotp.ValidateOpts{
		Digits:    digits,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return code, nil
}

// compactSecret removes the spaces and dashes a secret may have been
// written with and upper-cases it, as apps do with a typed secret.
func compactSecret(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// maxCodeInput bounds the input normalizeCode looks at: room for six
// three-byte digits and plenty of separators, and no more work than that
// for a hostile megabyte.
const maxCodeInput = 64

// WellFormed reports whether code, as typed, normalizes to exactly 6
// digits, i.e. whether Verify would get past ErrFormat. Callers use it to
// keep a typing slip out of their attempt count.
func WellFormed(code string) bool {
	_, ok := normalizeCode(code)
	return ok
}

// normalizeCode returns the Digits ASCII digits of a typed code, or false
// if the input is not, after dropping separators, exactly that.
func normalizeCode(s string) ([]byte, bool) {
	if len(s) > maxCodeInput {
		return nil, false
	}
	out := make([]byte, 0, Digits)
	for _, r := range s {
		if ignorable(r) {
			continue
		}
		d, ok := digitValue(r)
		if !ok || len(out) == Digits {
			return nil, false
		}
		out = append(out, '0'+d)
	}
	return out, len(out) == Digits
}

// ignorable reports whether r is a separator people type or paste between
// the digits of a code: white space (including no-break and ideographic
// spaces), a dash of any kind, the minus sign, or an invisible
// zero-width character.
func ignorable(r rune) bool {
	switch r {
	case '\u2212', // minus sign
		'\u200b', '\u200c', '\u200d', '\u2060', '\ufeff': // zero-width characters
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
}

// digitValue returns the value of r if it is an ASCII, full-width or
// Arabic-Indic decimal digit: what phone keyboards and input methods
// produce for "0"–"9".
func digitValue(r rune) (byte, bool) {
	for _, zero := range []rune{'0', '\uff10', '\u0660', '\u06f0'} {
		if r >= zero && r <= zero+9 {
			return byte(r - zero), true
		}
	}
	return 0, false
}
