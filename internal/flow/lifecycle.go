package flow

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/useragent"
)

// Deleting one's account and downloading one's data (issue 15).
//
// A deletion the user asks for waits a grace period (OpsConfig.
// DeletionGrace, 14 days by default): every session ends at once and
// remembered browsers are forgotten, every verified address is told the
// date, and signing in again before it cancels the deletion (afterSignIn).
// At the date the lifecycle job (package lifecycle) deletes the account:
// the database's foreign keys take everything that belongs to it, and its
// audit entries stay, pseudonymised. Asking needs a fresh sign-in at the
// account's full level (requireFresh), as any sensitive change does.

// RequestDeletion schedules the deletion of who's account and returns
// when it will happen.
func (s *Service) RequestDeletion(ctx context.Context, c Client, who Who) (time.Time, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return time.Time{}, err
	}
	now := s.now()
	due := now.Add(s.Ops.grace())
	if err := s.Store.ScheduleDeletion(ctx, who.Account.ID, now, due); err != nil {
		return time.Time{}, err
	}
	// Every session ends, this one too: the next sign-in is the user's
	// "no, keep it".
	if _, err := s.Sessions.RevokeOthers(ctx, who.Account.ID, ""); err != nil {
		return time.Time{}, err
	}
	if err := s.ForgetAllBrowsers(ctx, who.Account.ID); err != nil {
		return time.Time{}, err
	}
	// What apps and systems hold ends too, offline grants included: an
	// account on its way out is not read by a mail app for 14 more days.
	if g, ok := s.Store.(sessionGrants); ok {
		if _, err := g.RevokeGrants(ctx, store.GrantFilter{AccountID: who.Account.ID}, now); err != nil {
			return time.Time{}, err
		}
	}
	s.notify(ctx, c, who.Account, "deletion_scheduled", map[string]any{
		"date": due.UTC().Format("2006-01-02"), "days": int(s.Ops.grace() / (24 * time.Hour)), "login_url": s.link("/login"),
	})
	s.log().Warn("account deletion requested", "account", who.Account.ID, "due", due)
	s.record(ctx, audit.Event{Kind: audit.DeletionRequested, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Data: map[string]string{"due": due.UTC().Format(time.RFC3339)}})
	return due, nil
}

// PendingDeletion returns when the account's requested deletion is due,
// or the zero time if none is.
func (s *Service) PendingDeletion(ctx context.Context, accountID string) (time.Time, error) {
	l, err := s.Store.GetLifecycle(ctx, accountID)
	if err != nil {
		return time.Time{}, err
	}
	return l.DeletionDueAt, nil
}

// DeletionGrace is how long a requested deletion waits.
func (s *Service) DeletionGrace() time.Duration { return s.Ops.grace() }

// Export is everything Portvakt keeps about an account, as the account's
// owner downloads it. Secrets are never in it: no password hash, no TOTP
// seed, no recovery code, no token; factors appear as what they are and
// when they were added and used.
type Export struct {
	ExportedAt time.Time       `json:"exported_at"`
	Account    ExportAccount   `json:"account"`
	Emails     []ExportEmail   `json:"emails"`
	Phones     []ExportFactor  `json:"phones"`
	TOTP       []ExportFactor  `json:"authenticator_apps"`
	Keys       []ExportKey     `json:"security_keys"`
	Recovery   ExportRecovery  `json:"recovery_codes"`
	Password   *ExportPassword `json:"password,omitempty"`
	Identities []ExportLink    `json:"linked_identities"`
	Sessions   []ExportSession `json:"sessions"`
	Browsers   []ExportBrowser `json:"remembered_browsers"`
	Devices    []ExportDevice  `json:"known_devices"`
	// Events are the account's security events (sign-ins, failed
	// attempts, changes) of the last 90 days, when the audit log is kept.
	Events []SecurityEvent `json:"security_events"`
}

// ExportAccount is the account itself.
type ExportAccount struct {
	ID               string    `json:"id"`
	Username         string    `json:"username,omitempty"`
	Name             string    `json:"name"`
	Locale           string    `json:"locale,omitempty"`
	Groups           []string  `json:"groups,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	LastActiveAt     time.Time `json:"last_active_at"`
	DeletionDueAt    time.Time `json:"deletion_due_at,omitzero"`
	InactivityNotice int       `json:"inactivity_warnings_sent,omitempty"`
}

// ExportEmail is one verified address.
type ExportEmail struct {
	Address    string    `json:"address"`
	Primary    bool      `json:"primary"`
	VerifiedAt time.Time `json:"verified_at"`
}

// ExportFactor is a phone or an authenticator app.
type ExportFactor struct {
	Name       string    `json:"name"`
	Phone      string    `json:"phone,omitempty"`
	AddedAt    time.Time `json:"added_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// ExportKey is a security key or passkey.
type ExportKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Passkey    bool      `json:"passkey"`
	AddedAt    time.Time `json:"added_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// ExportRecovery counts the recovery codes.
type ExportRecovery struct {
	Unused int `json:"unused"`
	Total  int `json:"total"`
}

// ExportPassword says the account has a password, and since when.
type ExportPassword struct {
	ChangedAt time.Time `json:"changed_at"`
}

// ExportLink is a linked upstream identity.
type ExportLink struct {
	Provider   string `json:"provider"`
	Email      string `json:"email,omitempty"`
	NationalID string `json:"national_id_masked,omitempty"`
}

// ExportSession is a live session.
type ExportSession struct {
	ID         string    `json:"id"`
	Browser    string    `json:"browser"`
	OS         string    `json:"os"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Methods    []string  `json:"methods"`
	Level      int       `json:"level"`
}

// ExportBrowser is a remembered browser.
type ExportBrowser struct {
	ID        string    `json:"id"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ExportDevice is a browser the account signed in from.
type ExportDevice struct {
	UserAgent   string    `json:"user_agent"`
	IP          string    `json:"ip"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
}

// ExportData gathers everything about who's account. Like a sensitive
// change it needs a fresh sign-in: the file holds every address and phone
// number in full.
func (s *Service) ExportData(ctx context.Context, who Who) (Export, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return Export{}, err
	}
	id := who.Account.ID
	a := who.Account
	out := Export{ExportedAt: s.now().UTC(), Emails: []ExportEmail{}, Phones: []ExportFactor{}, TOTP: []ExportFactor{},
		Keys: []ExportKey{}, Identities: []ExportLink{}, Sessions: []ExportSession{}, Browsers: []ExportBrowser{},
		Devices: []ExportDevice{}, Events: []SecurityEvent{}}
	l, err := s.Store.GetLifecycle(ctx, id)
	if err != nil {
		return Export{}, err
	}
	out.Account = ExportAccount{ID: a.ID, Username: a.Username, Name: a.Name, Locale: a.Locale, Groups: a.Groups,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, LastActiveAt: l.Active(), DeletionDueAt: l.DeletionDueAt, InactivityNotice: l.Warnings}
	emails, err := s.Store.ListEmails(ctx, id)
	if err != nil {
		return Export{}, err
	}
	for _, e := range emails {
		out.Emails = append(out.Emails, ExportEmail{Address: e.Address, Primary: e.Primary, VerifiedAt: e.VerifiedAt})
	}
	factors, err := s.Store.ListFactors(ctx, id)
	if err != nil {
		return Export{}, err
	}
	for _, f := range factors {
		if f.ConfirmedAt.IsZero() {
			continue
		}
		x := ExportFactor{Name: f.Name, AddedAt: f.ConfirmedAt, LastUsedAt: f.LastUsedAt}
		switch f.Kind {
		case store.FactorSMS:
			x.Phone = f.Phone
			out.Phones = append(out.Phones, x)
		case store.FactorTOTP:
			out.TOTP = append(out.TOTP, x)
		}
	}
	keys, err := s.Store.ListWebAuthnCredentials(ctx, id)
	if err != nil {
		return Export{}, err
	}
	for _, k := range keys {
		out.Keys = append(out.Keys, ExportKey{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Passkey: k.Discoverable, AddedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	if out.Recovery.Unused, out.Recovery.Total, err = s.Store.CountRecoveryCodes(ctx, id); err != nil {
		return Export{}, err
	}
	if pw, err := s.Store.GetPassword(ctx, id); err == nil {
		out.Password = &ExportPassword{ChangedAt: pw.ChangedAt}
	} else if !errors.Is(err, store.ErrNotFound) {
		return Export{}, err
	}
	if ids, ok := s.Store.(interface {
		ListIdentities(ctx context.Context, accountID string) ([]store.FederatedIdentity, error)
	}); ok {
		links, err := ids.ListIdentities(ctx, id)
		if err != nil {
			return Export{}, err
		}
		for _, x := range links {
			out.Identities = append(out.Identities, ExportLink{Provider: x.Provider, Email: x.Email, NationalID: x.NationalIDMasked})
		}
	}
	sessions, err := s.Sessions.Store.ListSessions(ctx, id)
	if err != nil {
		return Export{}, err
	}
	now := s.now()
	for _, x := range sessions {
		if !s.sessionLive(x, now) {
			continue
		}
		ag := useragent.Parse(x.UserAgent)
		out.Sessions = append(out.Sessions, ExportSession{ID: x.ID, Browser: ag.Name(), OS: ag.OS, IP: x.IP, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, Methods: x.Methods, Level: x.Level})
	}
	browsers, err := s.Store.ListTrustedBrowsers(ctx, id)
	if err != nil {
		return Export{}, err
	}
	for _, b := range browsers {
		out.Browsers = append(out.Browsers, ExportBrowser{ID: b.ID, UserAgent: b.UserAgent, IP: b.IP, CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt})
	}
	devices, err := s.Store.ListDevices(ctx, id)
	if err != nil {
		return Export{}, err
	}
	for _, d := range devices {
		out.Devices = append(out.Devices, ExportDevice{UserAgent: d.UserAgent, IP: d.IP, FirstSeenAt: d.FirstSeenAt, LastSeenAt: d.LastSeenAt})
	}
	events, err := s.SecurityHistory(ctx, who.Account.ID)
	if err != nil {
		return Export{}, err
	}
	out.Events = events
	s.record(ctx, audit.Event{Kind: audit.DataExported, Actor: audit.Account(id), Subject: id})
	return out, nil
}
