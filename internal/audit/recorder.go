package audit

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Event is one thing that happened. Record fills ID and At, and IP,
// UserAgent and RequestID from the context when they are empty.
type Event struct {
	ID   string
	At   time.Time
	Kind Kind
	// Actor is who acted; the zero Actor is recorded as Anonymous.
	Actor Actor
	// Subject is the account the event is about, or empty.
	Subject string
	// Target is what in the account was touched: a masked address, a
	// factor's ID, a provider's name. Never a secret.
	Target  string
	Outcome Outcome
	// Reason is why; required for support and operator actions.
	Reason    string
	IP        string
	UserAgent string
	RequestID string
	// Data holds a few more facts ("method": "totp"). Keys that name a
	// secret are dropped (see Clean).
	Data map[string]string
}

// Request is what the web layer knows of the request behind an event.
type Request struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestKey struct{}

// WithRequest returns ctx carrying r, for Record to find. The web
// middleware sets it on every request, so flows need no *http.Request.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the Request WithRequest put in ctx, or the zero one.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Recorder writes events to the audit log. The zero value is not usable;
// set Store. A nil *Recorder records nothing (for tests of code that does
// not audit).
type Recorder struct {
	Store store.Audit
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets a line for each event that could not be written; nil
	// means slog.Default().
	Logger *slog.Logger
}

// Record cleans e (see Clean), stamps it and appends it to the log. It
// returns an error for a kind or actor kind that is not in the
// vocabulary, for an outcome other than ok, denied or failed, for a
// support or operator action without a reason, and when the store fails;
// the store's failure is also logged, so a caller that cannot stop (a
// sign-out) may ignore it.
func (r *Recorder) Record(ctx context.Context, e Event) error {
	if r == nil {
		return nil
	}
	if e.Actor.Kind == "" {
		e.Actor = Anonymous
	}
	if e.Outcome == "" {
		e.Outcome = OK
	}
	switch {
	case !e.Kind.Valid():
		return fmt.Errorf("audit: unknown event kind %q", e.Kind)
	case !e.Actor.Kind.Valid():
		return fmt.Errorf("audit: unknown actor kind %q", e.Actor.Kind)
	case e.Outcome != OK && e.Outcome != Denied && e.Outcome != Failed:
		return fmt.Errorf("audit: unknown outcome %q", e.Outcome)
	case e.Actor.Kind == BySupport && strings.TrimSpace(e.Reason) == "":
		return fmt.Errorf("audit: %s by support %s without a reason", e.Kind, e.Actor.ID)
	}
	if e.ID == "" {
		e.ID = secret.ID()
	}
	if e.At.IsZero() {
		e.At = r.now()
	}
	req := RequestFrom(ctx)
	if e.IP == "" {
		e.IP = req.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = req.UserAgent
	}
	if e.RequestID == "" {
		e.RequestID = req.RequestID
	}
	e = Clean(e)
	err := r.Store.AppendAuditEvent(context.WithoutCancel(ctx), store.AuditEvent{
		ID: e.ID, At: e.At, Kind: string(e.Kind), ActorKind: string(e.Actor.Kind), ActorID: e.Actor.ID,
		Subject: e.Subject, Target: e.Target, Outcome: string(e.Outcome), Reason: e.Reason,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Data: e.Data,
	})
	if err != nil {
		r.logger().Error("audit event not written", "kind", e.Kind, "subject", e.Subject, "err", err)
		return fmt.Errorf("audit: record %s: %w", e.Kind, err)
	}
	return nil
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// Bounds on what one event keeps.
const (
	maxText      = 200 // Target, IP, RequestID, each Data value
	maxReason    = 500
	maxUserAgent = 300
	maxData      = 16 // keys
	maxKey       = 40
)

// secretWords are the fragments of a Data key that name a secret. A key
// containing one is dropped with its value, whatever the value is.
var secretWords = []string{"password", "passwd", "secret", "token", "code", "otp", "pin", "key", "cookie",
	"hash", "seed", "credential", "assertion", "nonce", "verifier", "session_id", "recovery"}

// Clean returns e as the log keeps it: every Data key that names a secret
// dropped; national identity numbers and phone numbers in Target, Reason
// and Data masked; control characters removed; each field cut to its
// bound. Subject, the actor's ID and the request ID are identifiers and are
// only bounded.
func Clean(e Event) Event {
	e.Subject = bound(e.Subject, maxText)
	e.Actor.ID = bound(e.Actor.ID, maxText)
	e.RequestID = bound(e.RequestID, maxText)
	e.IP = bound(e.IP, maxText)
	e.UserAgent = bound(e.UserAgent, maxUserAgent)
	e.Target = bound(Mask(e.Target), maxText)
	e.Reason = bound(Mask(e.Reason), maxReason)
	if len(e.Data) > 0 {
		data := make(map[string]string, min(len(e.Data), maxData))
		// Sorted, so which keys survive maxData does not depend on map order.
		for _, k := range slices.Sorted(maps.Keys(e.Data)) {
			if len(data) == maxData {
				break
			}
			if SecretKey(k) || len(k) > maxKey {
				continue
			}
			data[k] = bound(Mask(e.Data[k]), maxText)
		}
		e.Data = data
	}
	return e
}

// SecretKey reports whether a Data key names a secret.
func SecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// bound removes control characters and cuts s to at most n bytes on a
// rune boundary.
func bound(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
