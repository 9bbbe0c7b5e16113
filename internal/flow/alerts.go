package flow

import (
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
	"github.com/portvakt/portvakt/internal/useragent"
)

// New-device mail (issue 15). Every browser carries a long-lived random
// marker: the browser-binding cookie the flows already use (365+ days,
// HttpOnly, set on the first page that needs it). The store keeps, per
// account, the digest of each marker it signed in from (store.Devices). A
// sign-in whose marker the account has not seen before, on an account that
// has seen at least one, mails every verified address: when, which
// browser and system, from which address, and a "this wasn't me" link.
// An account's first device is recorded without a mail (a new account, or
// one from before this feature). A JSON client has no marker of its own
// unless it sends the browser cookie: its sign-ins are not recorded, and
// are mailed about once the account has a known browser.
//
// The "this wasn't me" link is a single-use, expiring token whose digest
// is kept on a flow of kind FlowNotMe. Using it (a POST; the GET page only
// asks) ends that session, forgets the device, and starts a password reset
// for the account's main address, bound to the browser that clicked: a
// code goes to the mailbox, and the reset still needs the account's second
// factor. The link never signs anyone in, so someone holding only the
// mailbox can do with it no more than end one session and ask for the
// reset they could ask for anyway.

// FlowNotMe is the kind of flow that holds a "this wasn't me" link.
const FlowNotMe = "not_me"

// notMeData is what a FlowNotMe flow keeps: the device (its digest, hex),
// and what the page shows about the sign-in.
type notMeData struct {
	Device string    `json:"device"`
	UA     string    `json:"ua"`
	IP     string    `json:"ip"`
	At     time.Time `json:"at"`
}

// deviceHash is the digest the store keeps for the client's marker: its
// Device, else its Browser (the browser-binding cookie's digest); nil for
// a client without one (NoDevice).
func deviceHash(c Client) []byte {
	m := c.Device
	if m == nil {
		m = c.Browser
	}
	if c.NoDevice || len(m) == 0 {
		return nil
	}
	return secret.Hash("device:" + hex.EncodeToString(m))
}

// afterSignIn runs once a session has opened: the account is active now
// (a requested deletion is cancelled, the inactivity warnings start
// again), and a new device is mailed about. It reports whether a
// deletion was cancelled. Its failures are logged, never the sign-in's.
func (s *Service) afterSignIn(ctx context.Context, c Client, acct store.Account, sess store.Session) (deletionCancelled bool) {
	before, err := s.Store.MarkActive(ctx, acct.ID, s.now())
	if err != nil {
		s.log().Error("sign-in not recorded as activity", "account", acct.ID, "err", err)
	} else if !before.DeletionDueAt.IsZero() {
		deletionCancelled = true
		s.log().Info("account deletion cancelled by a sign-in", "account", acct.ID)
		s.record(ctx, audit.Event{Kind: audit.DeletionCancelled, Actor: audit.Account(acct.ID), Subject: acct.ID,
			Data: map[string]string{"due": before.DeletionDueAt.UTC().Format(time.RFC3339)}})
		s.notify(ctx, c, acct, "deletion_cancelled", map[string]any{"security_url": s.link("/account/security")})
	}
	dev := deviceHash(c)
	var known bool
	var seen int
	if dev != nil {
		known, seen, err = s.Store.SeeDevice(ctx, store.KnownDevice{AccountID: acct.ID, Hash: dev, UserAgent: truncateUA(c.UserAgent), IP: c.IP, FirstSeenAt: s.now(), LastSeenAt: s.now()})
	} else {
		// A client without a marker is never a known device, and is not
		// recorded: once the account has a browser, it is mailed about.
		var list []store.KnownDevice
		list, err = s.Store.ListDevices(ctx, acct.ID)
		seen = len(list)
	}
	if err != nil {
		s.log().Error("device not recorded", "account", acct.ID, "err", err)
		return deletionCancelled
	}
	if known || seen == 0 || s.Ops.NoDeviceAlerts {
		return deletionCancelled
	}
	// A sign-in that has just reset the password (the password changed in
	// the last minutes, after every other device was last seen) was
	// already told of, to every address, by the "password changed" mail
	// (when, where, which browser): a second mail would only be noise.
	if s.justReset(ctx, acct.ID, dev) {
		return deletionCancelled
	}
	// A sign-in that proved the mailbox (an emailed code or link: IDEP's
	// second step, a one-time sign-in link) was just asked for in a mail
	// to it, which says when, from where and with which browser, and how
	// to stop it: another mail would repeat it.
	if slices.Contains(sess.Methods, string(authn.Email)) {
		return deletionCancelled
	}
	if err := s.alertNewDevice(ctx, c, acct, sess, dev); err != nil {
		s.log().Error("new-device mail not queued", "account", acct.ID, "err", err)
	}
	return deletionCancelled
}

// justReset reports whether the account's password changed within the
// last ten minutes and no device but dev was seen after it.
func (s *Service) justReset(ctx context.Context, accountID string, dev []byte) bool {
	pw, err := s.Store.GetPassword(ctx, accountID)
	if err != nil || pw.ChangedAt.Before(s.now().Add(-10*time.Minute)) {
		return false
	}
	devices, err := s.Store.ListDevices(ctx, accountID)
	if err != nil {
		return false
	}
	for _, d := range devices {
		if !secret.Equal(d.Hash, dev) && d.LastSeenAt.After(pw.ChangedAt) {
			return false
		}
	}
	return true
}

func truncateUA(ua string) string {
	if len(ua) > 256 {
		return ua[:256]
	}
	return ua
}

// alertNewDevice makes the "this wasn't me" link and mails every verified
// address.
func (s *Service) alertNewDevice(ctx context.Context, c Client, acct store.Account, sess store.Session, dev []byte) error {
	// Budgeted per account like every other mail kind (mail-to): someone
	// holding the password and signing in as a fresh browser again and
	// again must not flood the owner's mailbox.
	th := s.throttle()
	budget := throttle.Key{Rule: s.rules().MailRecipient, ID: "new_device:" + acct.ID}
	if d, err := th.Check(ctx, budget); err != nil {
		return err
	} else if !d.Allowed() {
		s.log().Warn("new-device mail not sent: budget spent", "account", acct.ID, "session", sess.ID)
		return nil
	}
	if _, err := th.Failed(ctx, budget); err != nil {
		return err
	}
	token := secret.Token()
	now := s.now()
	ttl := s.Ops.notMeTTL()
	f := store.Flow{ID: secret.ID(), Kind: FlowNotMe, AccountID: acct.ID, State: sess.ID, LinkHash: secret.Hash(token),
		Data:      encodeJSON(notMeData{Device: hex.EncodeToString(dev), UA: truncateUA(c.UserAgent), IP: c.IP, At: now}),
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return err
	}
	s.log().Info("new device", "account", acct.ID, "session", sess.ID)
	s.record(ctx, audit.Event{Kind: audit.NewDeviceAlerted, Actor: audit.System("alerts"), Subject: acct.ID,
		Data: map[string]string{"session": sess.ID}})
	s.notify(ctx, c, acct, "new_device", map[string]any{
		"device":       s.DescribeAgent(s.lang(acct, c), useragent.Parse(c.UserAgent)),
		"not_me_url":   s.link("/not-me/" + url.PathEscape(token)),
		"security_url": s.link("/account/sessions"),
		"days":         int(ttl / (24 * time.Hour)),
	})
	return nil
}

// DescribeAgent names a browser and system in lang: "Firefox 140 on
// Linux", or "an unknown browser".
func (s *Service) DescribeAgent(lang string, a useragent.Agent) string {
	t := s.Texts.Lang(lang)
	switch name := a.Name(); {
	case name != "" && a.OS != "":
		return t.T("sessions.agent.on", "browser", name, "os", a.OS)
	case name != "":
		return name
	case a.OS != "":
		return t.T("sessions.agent.unknown_on", "os", a.OS)
	default:
		return t.T("sessions.agent.unknown")
	}
}

// NotMeInfo is what the "this wasn't me" page shows about the sign-in.
type NotMeInfo struct {
	At      time.Time
	Agent   useragent.Agent
	IP      string
	Session string
}

var errNotMeGone = problem.New(problem.Expired, "", "not_me.gone", nil)

// notMeFlow finds the live flow of a "this wasn't me" token.
func (s *Service) notMeFlow(ctx context.Context, token string) (store.Flow, error) {
	if token == "" || len(token) > 128 {
		return store.Flow{}, errNotMeGone
	}
	f, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Kind != FlowNotMe) {
		return store.Flow{}, errNotMeGone
	}
	if err != nil {
		return store.Flow{}, err
	}
	if !f.ConsumedAt.IsZero() || !s.now().Before(f.ExpiresAt) {
		return store.Flow{}, errNotMeGone
	}
	return f, nil
}

// InspectNotMe describes the sign-in a "this wasn't me" link is about,
// for the page that asks before acting. It changes nothing.
func (s *Service) InspectNotMe(ctx context.Context, token string) (NotMeInfo, error) {
	f, err := s.notMeFlow(ctx, token)
	if err != nil {
		return NotMeInfo{}, err
	}
	var d notMeData
	decodeJSON(f.Data, &d)
	return NotMeInfo{At: d.At, Agent: useragent.Parse(d.UA), IP: d.IP, Session: f.State}, nil
}

// NotMeResult is what "this wasn't me" did: the session it ended, and
// the password reset it started (Recovery), or why it could not
// (RecoveryErr, a problem such as a mail budget; the user may start one
// at /recover).
type NotMeResult struct {
	Ended       bool
	Recovery    store.Flow
	Method      string
	RecoveryErr error
}

// sessionGrants revokes app grants (the SQL store has it; a store
// without apps does not).
type sessionGrants interface {
	RevokeGrants(ctx context.Context, f store.GrantFilter, at time.Time) (int, error)
}

// NotMe uses a "this wasn't me" link once: the session it names, and any
// session the same browser (user agent and IP address) opened on the
// account since, end at once (signed out at their next request), the device is
// forgotten, and a password reset starts for the account's main address,
// in a recovery flow bound to c. Nobody is signed in.

func (s *Service) NotMe(ctx context.Context, c Client, token string) (NotMeResult, error) {
	f, err := s.notMeFlow(ctx, token)
	if err != nil {
		return NotMeResult{}, err
	}
	_, err = s.Store.UpdateFlow(ctx, f.ID, func(x store.Flow) (store.Flow, error) {
		if !x.ConsumedAt.IsZero() || x.Kind != FlowNotMe || !s.now().Before(x.ExpiresAt) {
			return x, errNotMeGone
		}
		x.ConsumedAt = s.now()
		return x, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotMeResult{}, errNotMeGone
	}
	if err != nil {
		return NotMeResult{}, err
	}
	var d notMeData
	decodeJSON(f.Data, &d)
	res := NotMeResult{}
	// That session, and any the same browser (user agent and address)
	// opened on the account since: signing in again from it must not
	// escape the link.
	list, err := s.Sessions.Store.ListSessions(ctx, f.AccountID)
	if err != nil {
		return NotMeResult{}, err
	}
	for _, x := range list {
		same := x.ID == f.State || (!x.CreatedAt.Before(f.CreatedAt) && x.UserAgent == d.UA && x.IP == d.IP)
		if !same || x.AccountID != f.AccountID {
			continue
		}
		// What apps got through that sign-in ends with it, offline
		// grants too (ending a session leaves those, as a sign-out
		// should): the owner said it was not them.
		if g, ok := s.Store.(sessionGrants); ok {
			if _, err := g.RevokeGrants(ctx, store.GrantFilter{SessionID: x.ID}, s.now()); err != nil {
				return NotMeResult{}, err
			}
		}
		if err := s.Sessions.Revoke(ctx, x.ID); err != nil {
			return NotMeResult{}, err
		}
		res.Ended = true
	}
	if dev, err := hex.DecodeString(d.Device); err == nil && len(dev) > 0 {
		if err := s.Store.ForgetDevice(ctx, f.AccountID, dev); err != nil && !errors.Is(err, store.ErrNotFound) {
			return NotMeResult{}, err
		}
	}
	s.log().Warn("new device reported as not the user's", "account", f.AccountID, "session", f.State, "ended", res.Ended)
	s.record(ctx, audit.Event{Kind: audit.SessionEnded, Actor: audit.Anonymous, Subject: f.AccountID,
		Data: map[string]string{"session": f.State, "scope": "not_me"}})
	addr, err := s.primaryEmail(ctx, f.AccountID)
	if err != nil {
		res.RecoveryErr = problem.New(problem.Conflict, "", "not_me.no_address", nil)
		return res, nil
	}
	methods := s.RecoveryMethods()
	if len(methods) == 0 {
		res.RecoveryErr = problem.New(problem.Forbidden, "", "not_me.no_reset", nil)
		return res, nil
	}
	res.Method = methods[0]
	if slices.Contains(methods, MethodCode) {
		res.Method = MethodCode
	}
	res.Recovery, res.RecoveryErr = s.StartRecovery(ctx, c, addr, res.Method)
	return res, nil
}
