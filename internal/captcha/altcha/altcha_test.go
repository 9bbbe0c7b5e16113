package altcha_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/captcha/altcha"
	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

type clock = clocktest.Clock

func newVerifier(t *testing.T) (*altcha.Verifier, *clock) {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(context.Background(), "sqlite", filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := clocktest.New(time.Now())
	return &altcha.Verifier{
		HMACKey: altcha.DeriveKey([]byte("0123456789abcdef0123456789abcdef")), Counters: db,
		MaxNumber: 2000, TTL: 5 * time.Minute, Now: c.Now,
	}, c
}

func solved(t *testing.T, v *altcha.Verifier) string {
	t.Helper()
	ch, err := v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ch.Provider != "altcha" || ch.Algorithm != "SHA-256" || ch.MaxNumber != 2000 || ch.Signature == "" {
		t.Fatalf("challenge %+v", ch)
	}
	p, err := altcha.Solve(ch)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	v, c := newVerifier(t)

	p := solved(t, v)
	if err := v.Verify(ctx, p, "192.0.2.1"); err != nil {
		t.Fatalf("right solution: %v", err)
	}
	if err := v.Verify(ctx, p, "192.0.2.1"); !errors.Is(err, captcha.ErrReplayed) {
		t.Fatalf("replay: %v", err)
	}

	if err := v.Verify(ctx, "", ""); !errors.Is(err, captcha.ErrMissing) {
		t.Fatalf("missing: %v", err)
	}
	for name, bad := range map[string]string{
		"not base64": "%%%",
		"not json":   base64.StdEncoding.EncodeToString([]byte("nope")),
	} {
		if err := v.Verify(ctx, bad, ""); !errors.Is(err, captcha.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A wrong number, and a solution signed with another key.
	var pl map[string]any
	raw, _ := base64.StdEncoding.DecodeString(solved(t, v))
	if err := json.Unmarshal(raw, &pl); err != nil {
		t.Fatal(err)
	}
	pl["number"] = pl["number"].(float64) + 1
	b, _ := json.Marshal(pl)
	if err := v.Verify(ctx, base64.StdEncoding.EncodeToString(b), ""); !errors.Is(err, captcha.ErrInvalid) {
		t.Fatalf("wrong number: %v", err)
	}
	other := *v
	other.HMACKey = altcha.DeriveKey([]byte("another key another key another k"))
	if err := v.Verify(ctx, solved(t, &other), ""); !errors.Is(err, captcha.ErrInvalid) {
		t.Fatalf("other key: %v", err)
	}

	// Expiry: solved in time but sent after the TTL.
	late := solved(t, v)
	c.Advance(5*time.Minute + 2*time.Second)
	if err := v.Verify(ctx, late, ""); !errors.Is(err, captcha.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	for _, err := range []error{captcha.ErrMissing, captcha.ErrInvalid, captcha.ErrExpired, captcha.ErrReplayed} {
		if !captcha.Refused(err) || captcha.Key(err) == "" {
			t.Errorf("%v not a refusal", err)
		}
	}
}

// Of parallel submissions of one solution exactly one passes.
func TestVerifyOnceUnderRace(t *testing.T) {
	v, _ := newVerifier(t)
	p := solved(t, v)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := v.Verify(context.Background(), p, "")
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, captcha.ErrReplayed) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d passed, want 1", ok)
	}
}
