// Package throttle slows down guessing: one set of failure counters in the
// database, shared by every node, consulted by every flow that checks a
// secret (issue 10).
//
// A Key names one counter and the Rule that reads it: per identifier, per
// account (across all its identifiers and all flows), per client address,
// per client network (/24, /64), per target address, global. A try is
// allowed when every key allows it; a refusal says how long to wait, or
// that the account is locked.
//
// Throttle the wrong, not the many. A try is counted when it turned out
// wrong (Failed), not when it starts, so a right password is never refused
// because other right tries are in flight; parallel wrong tries cannot run
// past a limit either, because the caller asks Failed's answer whether
// this failure was beyond it, and a right try is accepted only if the
// counters still allow it after the check (Allow again). Callers that must
// bound the work done before the check (the hash) reserve instead
// (flow.reserveAttempt).
//
// Limits are progressive: after Rule.Limit failures each further try
// waits Rule.Base, doubling with each failure up to Rule.Max. A counter
// starts again after Rule.Window without failures. A Rule with Lock set
// never opens by waiting: after Limit consecutive failures it stays shut
// until Reset (the owner recovered the account, or support unlocked it).
//
// The package depends only on store.Counters.
package throttle

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// Rule is how one kind of counter throttles.
type Rule struct {
	// Name prefixes the counter's key ("acct", "ip", …).
	Name string
	// Limit is how many failures are free.
	Limit int
	// Base is the wait after the Limit-th failure; it doubles with every
	// further failure, up to Max.
	Base, Max time.Duration
	// Window is the quiet time after which the counter starts again; it is
	// at least Max (so that a wait ends before its count is forgotten).
	Window time.Duration
	// Lock shuts the key after Limit failures until Reset.
	Lock bool
}

// Delay is the wait after n failures: 0 below Limit, then Base doubling
// per failure up to Max.
func (r Rule) Delay(n int) time.Duration {
	if n < r.Limit {
		return 0
	}
	d := r.Base
	for i := r.Limit; i < n && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

func (r Rule) window() time.Duration {
	return max(r.Window, r.Max, time.Minute)
}

// Key is one counter: a rule and what it counts (an account ID, an
// address, a network).
type Key struct {
	Rule Rule
	ID   string
}

func (k Key) name() string { return k.Rule.Prefix() + k.ID }

// Prefix is what the names of the rule's counters start with: a key's
// name is the prefix and its ID.
func (r Rule) Prefix() string { return "t:" + r.Name + ":" }

// String names the key for logs.
func (k Key) String() string { return k.name() }

// Decision is the answer to a try.
type Decision struct {
	// Locked is true when a Lock rule's key is shut.
	Locked bool
	// Until is when the try may be made, zero when it may be made now.
	Until time.Time
	// Key is the key that refused, for logs.
	Key Key
}

// Allowed reports whether the try may be made now.
func (d Decision) Allowed() bool { return !d.Locked && d.Until.IsZero() }

// Wait is how long from now the try must wait.
func (d Decision) Wait(now time.Time) time.Duration { return max(0, d.Until.Sub(now)) }

// Throttle reads and writes the counters.
type Throttle struct {
	Counters store.Counters
	// Now may be nil (time.Now).
	Now func() time.Time
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Check decides a try against every key: locked if any Lock key is shut,
// else the latest time any key allows. It reads only.
func (t *Throttle) Check(ctx context.Context, keys ...Key) (Decision, error) {
	d, _, err := t.check(ctx, keys)
	return d, err
}

// Accept is Check for a try that was right: when the keys allow it, it
// also clears the keys of reset (as Reset does), and writes nothing for
// those that have no counter, so a success after no failures costs one
// read. A failure counted between the read and the reset may be cleared
// with the others, as with Check then Reset.
func (t *Throttle) Accept(ctx context.Context, reset []Key, keys ...Key) (Decision, error) {
	d, states, err := t.check(ctx, keys)
	if err != nil || !d.Allowed() {
		return d, err
	}
	checked := t.names(keys)
	var names []string
	for _, n := range t.names(reset) {
		if _, ok := states[n]; ok || !slices.Contains(checked, n) {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		if err := t.Counters.ResetFailures(ctx, names...); err != nil {
			return d, fmt.Errorf("throttle: %w", err)
		}
	}
	return d, nil
}

// check is Check, and the counters it read.
func (t *Throttle) check(ctx context.Context, keys []Key) (Decision, map[string]store.CounterState, error) {
	names := t.names(keys)
	if len(names) == 0 {
		return Decision{}, nil, nil
	}
	// One read for every key: a sign-in checks five or so.
	states, err := t.Counters.FailuresOf(ctx, names)
	if err != nil {
		return Decision{}, nil, fmt.Errorf("throttle: %w", err)
	}
	return t.Decide(states, keys...), states, nil
}

// Names are the counter names of the keys that have an ID, each once: what
// a caller that reads the counters itself (with other things, in one
// statement) passes to the store.
func (t *Throttle) Names(keys ...Key) []string { return t.names(keys) }

// Decide is Check on counters the caller read itself (as FailuresOf
// returns them: a missing key is absent); it reads nothing. A sign-in
// reads them in the statement that finds the account. It replaces only
// the check before the hash: a right try is accepted by Accept, which
// reads again after it.
func (t *Throttle) Decide(states map[string]store.CounterState, keys ...Key) Decision {
	now := t.now()
	var d Decision
	for _, k := range keys {
		if k.ID == "" {
			continue
		}
		st := states[k.name()]
		n, last := st.Failures, st.Last
		// A last failure older than the window counts 0; the store keeps
		// milliseconds, so the window's start is compared at that grain.
		if last.Before(time.UnixMilli(now.Add(-k.Rule.window()).UnixMilli())) {
			n = 0
		}
		if n < k.Rule.Limit {
			continue
		}
		if k.Rule.Lock {
			return Decision{Locked: true, Key: k}
		}
		if until := last.Add(k.Rule.Delay(n)); until.After(now) && until.After(d.Until) {
			d = Decision{Until: until, Key: k}
		}
	}
	return d
}

// Failure is what Failed learnt of one key.
type Failure struct {
	Key   Key
	Count int
}

// Failed counts one failure on every key (a key named twice counts once),
// in one write, and returns the new counts in the order of keys (keys with
// an empty ID are skipped and get 0). Concurrent calls each get a count of
// their own, on any node.
func (t *Throttle) Failed(ctx context.Context, keys ...Key) ([]Failure, error) {
	out := make([]Failure, len(keys))
	windows := make(map[string]time.Duration, len(keys))
	for i, k := range keys {
		out[i].Key = k
		if k.ID != "" {
			windows[k.name()] = max(windows[k.name()], k.Rule.window())
		}
	}
	if len(windows) == 0 {
		return out, nil
	}
	counts, err := t.Counters.AddFailures(ctx, t.now(), windows)
	if err != nil {
		return out, fmt.Errorf("throttle: %w", err)
	}
	for i, k := range keys {
		if k.ID != "" {
			out[i].Count = counts[k.name()]
		}
	}
	return out, nil
}

// Beyond reports whether a failure's count passed its rule's limit: the
// try that made it was one too many (it ran in parallel with others that
// took the last free places). Such a try is answered as refused.
func (f Failure) Beyond() bool { return f.Key.ID != "" && f.Count > f.Key.Rule.Limit }

// Reached reports whether this failure was exactly the one that reached a
// Lock rule's limit: the moment to tell the owner, once.
func (f Failure) Reached() bool { return f.Key.Rule.Lock && f.Count == f.Key.Rule.Limit }

// Reset clears keys: a success disregards earlier failures (NIST SP
// 800-63B-4 §3.2.2), and unlocking clears a Lock key.
func (t *Throttle) Reset(ctx context.Context, keys ...Key) error {
	names := t.names(keys)
	if len(names) == 0 {
		return nil
	}
	if err := t.Counters.ResetFailures(ctx, names...); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// names returns the counter names of the keys that have an ID, each once.
// A call names a handful of keys; more than store.MaxCounterKeys is a
// programming error the store refuses.
func (t *Throttle) names(keys []Key) []string {
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		if k.ID != "" && !slices.Contains(names, k.name()) {
			names = append(names, k.name())
		}
	}
	return names
}

// Network is the network an address belongs to for per-network rules:
// its /24 (IPv4) or /64 (IPv6). An address that does not parse is its own
// network.
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ip
	}
	return p.String()
}

// Rules are the throttle's rules. DefaultRules gives the defaults; the
// arithmetic behind them is in docs/security/abuse.md.
type Rules struct {
	// Account counts consecutive failures of any secret of one account
	// (password by any identifier, TOTP, recovery codes, SMS codes): after
	// 100 the account is locked until its owner recovers it or support
	// unlocks it (NIST SP 800-63B-4 §3.2.2).
	Account Rule
	// IP and Network count failures from one client address and from its
	// /24 or /64, across all accounts (credential stuffing).
	IP, Network Rule
	// Global counts every failure, to slow a distributed attack.
	Global Rule
	// Codes counts the emailed codes tried for one account (or, before an
	// account exists, one address), right or wrong, and is not cleared by
	// a success: the budget that bounds guessing them (abuse.md).
	Codes Rule
	// MailRecipient, MailIP and MailGlobal are mail budgets: mails of one
	// kind (sign-up, recovery, …) to one address, mails asked for from one
	// client address, and all mails, per hour. A refused mail never counts
	// against a budget after the one that refused it, so a flood of refused
	// requests cannot spend the global budget (finding 6).
	MailRecipient, MailIP, MailGlobal Rule
}

// DefaultRules returns the defaults.
func DefaultRules() Rules {
	return Rules{
		Account: Rule{Name: "acct", Limit: 100, Lock: true, Window: 100 * 365 * 24 * time.Hour},
		IP:      Rule{Name: "ip", Limit: 30, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour},
		Network: Rule{Name: "net", Limit: 100, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour},
		Global:  Rule{Name: "global", Limit: 10000, Base: 5 * time.Second, Max: time.Minute, Window: 15 * time.Minute},
		Codes:   Rule{Name: "codes", Limit: 100, Base: 30 * 24 * time.Hour, Max: 30 * 24 * time.Hour, Window: 30 * 24 * time.Hour},

		MailRecipient: Rule{Name: "mail-to", Limit: 5, Base: time.Hour, Max: time.Hour, Window: time.Hour},
		MailIP:        Rule{Name: "mail-ip", Limit: 30, Base: time.Hour, Max: time.Hour, Window: time.Hour},
		MailGlobal:    Rule{Name: "mail-all", Limit: 5000, Base: time.Hour, Max: time.Hour, Window: time.Hour},
	}
}
