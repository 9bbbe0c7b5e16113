package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/useragent"
)

// "Where you're signed in": the account's live sessions and remembered
// browsers, ending one or all others (issue 15). Every call takes the
// signed-in caller (Who) and only ever sees or touches that account's
// sessions: an ID of another account's session is "not found", the same
// as one that never existed.

// OpsConfig configures the account-operations features of the flows.
// The zero value is the default: new-device mails on, a 14-day grace
// before a deletion the user asked for.
type OpsConfig struct {
	// NoDeviceAlerts turns the new-device mail off (alerts.new_device:
	// false).
	NoDeviceAlerts bool
	// DeletionGrace is how long a requested deletion waits, during which
	// signing in cancels it; default 14 days.
	DeletionGrace time.Duration
	// NotMeTTL is how long the "this wasn't me" link of a new-device mail
	// works; default 7 days.
	NotMeTTL time.Duration
}

func (o OpsConfig) grace() time.Duration {
	if o.DeletionGrace <= 0 {
		return 14 * 24 * time.Hour
	}
	return o.DeletionGrace
}

func (o OpsConfig) notMeTTL() time.Duration {
	if o.NotMeTTL <= 0 {
		return 7 * 24 * time.Hour
	}
	return o.NotMeTTL
}

// MaxListed is the most sessions or remembered browsers a list shows; an
// account with more (someone signing in in a loop) sees the newest, and
// the total.
const MaxListed = 100

// SessionInfo is one signed-in session as the list shows it.
type SessionInfo struct {
	ID    string
	Agent useragent.Agent
	// Network is the session's IP address with its last part hidden
	// ("192.0.2.x", "2001:db8:1::/48"): roughly where, not exactly.
	Network    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// Methods, AMR and Level say how the session signed in.
	Methods []string
	AMR     []string
	Level   int
	// Via is the upstream the session signed in through, if any.
	Via string
	// Current marks the session of the request.
	Current bool
}

// SignedIn lists the account's live sessions, the caller's own first,
// then the most recently used; at most MaxListed, with the total.
func (s *Service) SignedIn(ctx context.Context, who Who) ([]SessionInfo, int, error) {
	list, err := s.Sessions.Store.ListSessions(ctx, who.Account.ID)
	if err != nil {
		return nil, 0, err
	}
	now := s.now()
	out := make([]SessionInfo, 0, min(len(list), MaxListed))
	for _, x := range list {
		if x.AccountID != who.Account.ID || !s.sessionLive(x, now) {
			continue
		}
		out = append(out, SessionInfo{ID: x.ID, Agent: useragent.Parse(x.UserAgent), Network: MaskIP(x.IP),
			CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, Methods: x.Methods, AMR: x.AMR, Level: x.Level,
			Via: x.Via.Upstream, Current: x.ID == who.Session.ID})
	}
	slices.SortStableFunc(out, func(a, b SessionInfo) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return b.LastSeenAt.Compare(a.LastSeenAt)
	})
	total := len(out)
	if len(out) > MaxListed {
		out = out[:MaxListed]
	}
	return out, total, nil
}

// sessionLive reports whether the session has not timed out (the
// manager's rule; a timed-out session is removed at its next use or by
// the sweep, and is not listed meanwhile).
func (s *Service) sessionLive(x store.Session, now time.Time) bool {
	m := s.Sessions
	if !now.Before(x.ExpiresAt) {
		return false
	}
	return m.IdleTimeout <= 0 || now.Before(x.LastSeenAt.Add(m.IdleTimeout))
}

var errSessionGone = problem.New(problem.NotFound, "", "sessions.gone", nil)

// EndSession ends one session of the caller's account. It reports whether
// that was the caller's own session (the browser is then signed out).
// Another account's session, or one that no longer exists, is not found.
// The ended browser is signed out at its very next request: sessions are
// looked up in the database on every request.
func (s *Service) EndSession(ctx context.Context, c Client, who Who, id string) (own bool, err error) {
	if id == "" || len(id) > 64 {
		return false, errSessionGone
	}
	x, err := s.Store.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && x.AccountID != who.Account.ID) {
		return false, errSessionGone
	}
	if err != nil {
		return false, err
	}
	if err := s.Sessions.Revoke(ctx, id); err != nil {
		return false, err
	}
	s.log().Info("session ended by its user", "account", who.Account.ID, "session", id, "own", id == who.Session.ID)
	scope := "one"
	if id == who.Session.ID {
		scope = "own"
	}
	s.record(ctx, audit.Event{Kind: audit.SessionEnded, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Data: map[string]string{"session": id, "scope": scope}})
	return id == who.Session.ID, nil
}

// EndOtherSessions ends every session of the account but the caller's
// and returns how many ended.
func (s *Service) EndOtherSessions(ctx context.Context, c Client, who Who) (int, error) {
	n, err := s.Sessions.RevokeOthers(ctx, who.Account.ID, who.Session.ID)
	if err != nil {
		return 0, err
	}
	s.log().Info("other sessions ended by their user", "account", who.Account.ID, "count", n)
	s.record(ctx, audit.Event{Kind: audit.SessionEnded, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Data: map[string]string{"scope": "others", "count": strconv.Itoa(n)}})
	return n, nil
}

// BrowserInfo is one remembered browser as the list shows it.
type BrowserInfo struct {
	ID         string
	Agent      useragent.Agent
	Network    string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	// Current marks the browser of the request (its remembered-browser
	// cookie).
	Current bool
}

// RememberedBrowsers lists the account's unexpired remembered browsers,
// the caller's own (trust is the digest of its cookie) first, then the
// most recently used; at most MaxListed, with the total.
func (s *Service) RememberedBrowsers(ctx context.Context, who Who, trust []byte) ([]BrowserInfo, int, error) {
	list, err := s.Store.ListTrustedBrowsers(ctx, who.Account.ID)
	if err != nil {
		return nil, 0, err
	}
	used, err := s.Store.TrustedBrowserLastUsed(ctx, who.Account.ID)
	if err != nil {
		return nil, 0, err
	}
	now := s.now()
	var out []BrowserInfo
	for _, b := range list {
		if !now.Before(b.ExpiresAt) {
			continue
		}
		last := used[b.ID]
		if last.Before(b.CreatedAt) {
			last = b.CreatedAt
		}
		out = append(out, BrowserInfo{ID: b.ID, Agent: useragent.Parse(b.UserAgent), Network: MaskIP(b.IP),
			CreatedAt: b.CreatedAt, LastUsedAt: last, ExpiresAt: b.ExpiresAt,
			Current: len(trust) > 0 && secret.Equal(trust, b.TokenHash)})
	}
	slices.SortStableFunc(out, func(a, b BrowserInfo) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return cmp.Or(b.LastUsedAt.Compare(a.LastUsedAt), b.CreatedAt.Compare(a.CreatedAt))
	})
	total := len(out)
	if len(out) > MaxListed {
		out = out[:MaxListed]
	}
	return out, total, nil
}

// ForgetOtherBrowsers forgets every remembered browser of the account but
// the caller's own (trust) and returns how many it forgot.
func (s *Service) ForgetOtherBrowsers(ctx context.Context, who Who, trust []byte) (int, error) {
	list, err := s.Store.ListTrustedBrowsers(ctx, who.Account.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range list {
		if len(trust) > 0 && secret.Equal(trust, b.TokenHash) {
			continue
		}
		if err := s.Store.DeleteTrustedBrowser(ctx, who.Account.ID, b.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	s.record(ctx, audit.Event{Kind: audit.BrowserForgotten, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Data: map[string]string{"scope": "others", "count": strconv.Itoa(n)}})
	return n, nil
}

// MaskIP shows roughly where an address is without spelling it out: an
// IPv4 address's network ("192.0.2.x"), an IPv6 address's /48
// ("2001:db8:1::/48"). Anything else is "".
func MaskIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.x", b[0], b[1], b[2])
	}
	p, err := a.Prefix(48)
	if err != nil {
		return ""
	}
	return p.String()
}
