package totp

import (
	"time"

	"github.com/pquerna/otp"
)

// CodeDigits is Code with a chosen number of digits, so that the black-box
// tests can check the RFC 6238 Appendix B vectors, which have 8 digits,
// through the same code path as Code and Verify.
func CodeDigits(secret string, t time.Time, digits int) (string, error) {
	return generate(secret, stepAt(t), otp.Digits(digits))
}
