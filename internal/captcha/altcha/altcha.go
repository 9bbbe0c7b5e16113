// Package altcha is the self-hosted proof-of-work Verifier: ALTCHA
// challenges (altcha-lib-go, the widget's v1 format) signed with a key
// derived from Portvakt's secrets key, expiring after TTL, and accepted
// once (the spent challenge is recorded in store.Counters, shared by every
// node).
package altcha

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	altchalib "github.com/altcha-org/altcha-lib-go"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/store"
)

// Defaults.
const (
	// DefaultMaxNumber makes a browser try about 50,000 hashes on average
	// (well under a second with the widget's workers).
	DefaultMaxNumber = 100_000
	DefaultTTL       = 10 * time.Minute
	// maxPayload bounds what is decoded.
	maxPayload = 4096
)

// Verifier is the ALTCHA captcha.Verifier.
type Verifier struct {
	// HMACKey signs challenges (see DeriveKey).
	HMACKey string
	// Counters records spent solutions.
	Counters store.Counters
	// MaxNumber is the challenge's difficulty (DefaultMaxNumber if 0).
	MaxNumber int64
	// TTL is how long a challenge may be solved and used (DefaultTTL if 0).
	TTL time.Duration
	// Now may be nil (time.Now).
	Now func() time.Time
}

// DeriveKey derives the challenge signing key from the secrets key, so
// the key itself never signs anything but seals.
func DeriveKey(secretsKey []byte) string {
	m := hmac.New(sha256.New, secretsKey)
	m.Write([]byte("portvakt captcha altcha v1"))
	return hex.EncodeToString(m.Sum(nil))
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) ttl() time.Duration {
	if v.TTL > 0 {
		return v.TTL
	}
	return DefaultTTL
}

// Challenge makes a new SHA-256 challenge that expires after TTL.
func (v *Verifier) Challenge(ctx context.Context) (captcha.Challenge, error) {
	if v.HMACKey == "" {
		return captcha.Challenge{}, fmt.Errorf("altcha: no key")
	}
	maxN := v.MaxNumber
	if maxN <= 0 {
		maxN = DefaultMaxNumber
	}
	exp := v.now().Add(v.ttl())
	c, err := altchalib.CreateChallenge(altchalib.ChallengeOptions{
		Algorithm: altchalib.SHA256,
		MaxNumber: maxN,
		HMACKey:   v.HMACKey,
		Expires:   &exp,
	})
	if err != nil {
		return captcha.Challenge{}, fmt.Errorf("altcha: %w", err)
	}
	return captcha.Challenge{
		Algorithm: c.Algorithm, Challenge: c.Challenge, MaxNumber: c.MaxNumber,
		Salt: c.Salt, Signature: c.Signature, Provider: "altcha",
	}, nil
}

// Verify checks the widget's payload (base64 of the JSON solution): signed
// by our key, solved, not expired, not used before. The ip is not used.
func (v *Verifier) Verify(ctx context.Context, payload, ip string) error {
	if payload == "" {
		return captcha.ErrMissing
	}
	if len(payload) > maxPayload {
		return captcha.ErrInvalid
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return captcha.ErrInvalid
	}
	var p altchalib.Payload
	if err := json.Unmarshal(raw, &p); err != nil || p.Algorithm != string(altchalib.SHA256) || p.Number < 0 {
		return captcha.ErrInvalid
	}
	// Our challenges always expire; one without "expires" is not ours.
	expires, err := strconv.ParseInt(altchalib.ExtractParams(p).Get("expires"), 10, 64)
	if err != nil {
		return captcha.ErrInvalid
	}
	ok, err := altchalib.VerifySolutionSafe(p, v.HMACKey, false)
	if err != nil || !ok {
		return captcha.ErrInvalid
	}
	now := v.now()
	if now.Unix() > expires {
		return captcha.ErrExpired
	}
	// Spend it: the first Verify counts 1, any later one more. The
	// counter outlives the challenge, so a replay is refused until it
	// would be refused as expired anyway.
	sum := sha256.Sum256([]byte(p.Challenge))
	n, err := v.Counters.AddFailure(ctx, "captcha:altcha:"+hex.EncodeToString(sum[:16]), now, v.ttl()+time.Minute)
	if err != nil {
		return fmt.Errorf("altcha: %w", err)
	}
	if n > 1 {
		return captcha.ErrReplayed
	}
	return nil
}

// Solve solves a challenge as the widget would and returns the form value
// (for tests and the API's documentation; bounded by the challenge's
// MaxNumber).
func Solve(c captcha.Challenge) (string, error) {
	s, err := altchalib.SolveChallenge(c.Challenge, c.Salt, altchalib.Algorithm(c.Algorithm), int(c.MaxNumber), 0, nil)
	if err != nil {
		return "", err
	}
	if s == nil {
		return "", fmt.Errorf("altcha: no solution up to %d", c.MaxNumber)
	}
	b, err := json.Marshal(altchalib.Payload{
		Algorithm: c.Algorithm, Challenge: c.Challenge, Number: int64(s.Number),
		Salt: c.Salt, Signature: c.Signature,
	})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

var _ captcha.Verifier = (*Verifier)(nil)
