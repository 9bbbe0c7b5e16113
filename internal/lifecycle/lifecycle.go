// Package lifecycle deletes accounts when their time has come (issue 15):
// accounts nobody signed in to for lifecycle.inactive_after, after the
// warning mails of lifecycle.warn_before, and accounts whose user asked
// for deletion once the grace period is over (flow.RequestDeletion).
//
// # Inactivity
//
// An account's deadline is its last activity (store.Lifecycle.Active: the
// last sign-in, or its creation) plus InactiveAfter. Warning k (of the
// WarnBefore spans, longest first) is due from deadline - WarnBefore[k].
// A run sends the most urgent due warning not yet sent, and only that one
// (an account found late gets the last warning, not all of them at once).
// The account is deleted when the deadline has passed, every warning has
// been sent, and the last one had its full span: an account is never
// deleted sooner than the shortest warning span after its last warning.
// A sign-in at any point starts everything again (store.MarkActive).
//
// # Once, on any number of nodes
//
// The scheduler runs the job under a database lease (package jobs), so
// one node runs it per period. The data makes it safe without the lease
// too: a warning is marked with a compare and set before it is mailed
// (store.MarkWarned), so of several runners that read the same state one
// marks and mails it; an account is deleted only if its state is still
// what the runner read (store.DeleteAccountIf), so a sign-in that lands
// during the run keeps it.
//
// # Deletion
//
// Deleting an account ends its sessions (with back-channel logout to its
// apps), deletes the account row, and the database's foreign keys take
// everything that belongs to it: addresses, password, factors, keys,
// remembered browsers, known devices, linked identities, app grants. The
// audit log's entries about the account stay, pseudonymised: the account
// ID becomes a random pseudonym (the same for all of its entries) and the
// personal fields are emptied (store.PseudonymiseAuditEvents). Every
// verified address, read before the deletion, gets a last mail.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Store is what the lifecycle needs of the database.
type Store interface {
	store.Lifecycles
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListEmails(ctx context.Context, accountID string) ([]store.Email, error)
	DeleteStaleDevices(ctx context.Context, before time.Time) (int, error)
	PseudonymiseAuditEvents(ctx context.Context, accountID, pseudonym string) (int, error)
}

// Mailer sends a templated mail (notify.Mailer).
type Mailer interface {
	Send(ctx context.Context, to, lang, template string, data map[string]any) error
}

// Config is the lifecycle's configuration (config.Lifecycle).
type Config struct {
	// InactiveAfter is how long after its last activity an account is
	// deleted; 0 never deletes for inactivity.
	InactiveAfter time.Duration
	// WarnBefore are the warnings, longest first.
	WarnBefore []time.Duration
}

// Runner runs the lifecycle. Store, Mailer and PublicURL are required.
type Runner struct {
	Store  Store
	Mailer Mailer
	Config Config
	// PublicURL is the base of the sign-in link in the warnings.
	PublicURL string
	// DefaultLanguage is the mails' language for accounts without one.
	DefaultLanguage string
	// EndSessions ends an account's sessions before it is deleted, so
	// its apps hear of it (session.Manager.RevokeOthers); nil leaves them
	// to the database's cascade.
	EndSessions func(ctx context.Context, accountID string) error
	// Audit records warnings and deletions; nil records nothing.
	Audit *audit.Recorder
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Action kinds.
const (
	ActWarn            = "warn"
	ActDeleteInactive  = "delete-inactive"
	ActDeleteRequested = "delete-requested"
)

// Action is one thing a run did, or in a dry run would do.
type Action struct {
	Kind      string
	AccountID string
	// Warning is the number of the warning sent (1 is the first), for
	// ActWarn.
	Warning int
	// LastActive is the account's last activity; DeleteAt when it is (or
	// was) to be deleted.
	LastActive time.Time
	DeleteAt   time.Time
	// Done is false when the account changed under the run (a sign-in)
	// and nothing happened.
	Done bool
}

// MaxPerRun bounds how many accounts one run looks at; the next run goes on.
const MaxPerRun = 10_000

// DevicesKept is how long a known device not seen is remembered (the
// browser's marker cookie lives about as long).
const DevicesKept = 400 * 24 * time.Hour

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run does what is due now: requested deletions, inactivity warnings and
// deletions, and forgetting stale devices. With dryRun it changes nothing
// and sends nothing, and returns what it would do.
func (r *Runner) Run(ctx context.Context, dryRun bool) ([]Action, error) {
	now := r.now()
	var acts []Action
	requested, err := r.requested(ctx, now, dryRun)
	acts = append(acts, requested...)
	if err != nil {
		return acts, err
	}
	inactive, err := r.inactive(ctx, now, dryRun)
	acts = append(acts, inactive...)
	if err != nil {
		return acts, err
	}
	if !dryRun {
		if n, err := r.Store.DeleteStaleDevices(ctx, now.Add(-DevicesKept)); err != nil {
			return acts, err
		} else if n > 0 {
			r.log().Info("lifecycle: stale devices forgotten", "count", n)
		}
	}
	return acts, nil
}

// requested deletes the accounts whose requested deletion is due.
func (r *Runner) requested(ctx context.Context, now time.Time, dryRun bool) ([]Action, error) {
	var acts []Action
	after := ""
	for len(acts) < MaxPerRun {
		page, err := r.Store.ListDueDeletions(ctx, now, after, store.MaxLifecycleBatch)
		if err != nil {
			return acts, err
		}
		for _, l := range page {
			a := Action{Kind: ActDeleteRequested, AccountID: l.AccountID, LastActive: l.Active(), DeleteAt: l.DeletionDueAt}
			if !dryRun {
				if a.Done, err = r.delete(ctx, l, "requested"); err != nil {
					return acts, err
				}
			}
			acts = append(acts, a)
		}
		if len(page) < store.MaxLifecycleBatch {
			break
		}
		after = page[len(page)-1].AccountID
	}
	return acts, nil
}

// inactive warns and deletes unused accounts.
func (r *Runner) inactive(ctx context.Context, now time.Time, dryRun bool) ([]Action, error) {
	c := r.Config
	if c.InactiveAfter <= 0 {
		return nil, nil
	}
	var first, last time.Duration // the longest and shortest warning
	if n := len(c.WarnBefore); n > 0 {
		first, last = c.WarnBefore[0], c.WarnBefore[n-1]
	}
	// Accounts whose first warning is due at least.
	activeBefore := now.Add(-c.InactiveAfter + first)
	var acts []Action
	after, seen := "", 0
	for seen < MaxPerRun {
		page, err := r.Store.ListIdleAccounts(ctx, activeBefore, after, store.MaxLifecycleBatch)
		if err != nil {
			return acts, err
		}
		seen += len(page)
		for _, l := range page {
			if !l.DeletionDueAt.IsZero() {
				continue // a requested deletion runs its own course
			}
			deadline := l.Active().Add(c.InactiveAfter)
			due := 0 // how many warnings are due
			for _, w := range c.WarnBefore {
				if !now.Before(deadline.Add(-w)) {
					due++
				}
			}
			switch {
			case l.Warnings < due:
				deleteAt := deadline
				if at := now.Add(last); at.After(deleteAt) {
					deleteAt = at
				}
				a := Action{Kind: ActWarn, AccountID: l.AccountID, Warning: due, LastActive: l.Active(), DeleteAt: deleteAt}
				if !dryRun {
					if a.Done, err = r.warn(ctx, l, due, deleteAt); err != nil {
						return acts, err
					}
				}
				acts = append(acts, a)
			case l.Warnings >= len(c.WarnBefore) && !now.Before(deadline) && (len(c.WarnBefore) == 0 || !now.Before(l.WarnedAt.Add(last))):
				a := Action{Kind: ActDeleteInactive, AccountID: l.AccountID, LastActive: l.Active(), DeleteAt: now}
				if !dryRun {
					if a.Done, err = r.delete(ctx, l, "inactive"); err != nil {
						return acts, err
					}
				}
				acts = append(acts, a)
			}
		}
		if len(page) < store.MaxLifecycleBatch {
			break
		}
		after = page[len(page)-1].AccountID
	}
	return acts, nil
}

// recipients are the account's verified addresses, its name and language.
func (r *Runner) recipients(ctx context.Context, id string) (store.Account, []string, error) {
	acct, err := r.Store.GetAccount(ctx, id)
	if err != nil {
		return store.Account{}, nil, err
	}
	emails, err := r.Store.ListEmails(ctx, id)
	if err != nil {
		return store.Account{}, nil, err
	}
	var to []string
	for _, e := range emails {
		if !e.VerifiedAt.IsZero() {
			to = append(to, e.Address)
		}
	}
	return acct, to, nil
}

func (r *Runner) lang(acct store.Account) string {
	if acct.Locale != "" {
		return acct.Locale
	}
	return r.DefaultLanguage
}

// warn marks warning n as sent and mails it; false if the account
// changed since it was read (another node warned, or the user signed in).
func (r *Runner) warn(ctx context.Context, l store.Lifecycle, n int, deleteAt time.Time) (bool, error) {
	acct, to, err := r.recipients(ctx, l.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := r.now()
	ok, err := r.Store.MarkWarned(ctx, l, n, now)
	if err != nil || !ok {
		return false, err
	}
	data := map[string]any{"name": acct.Name, "date": deleteAt.UTC().Format("2006-01-02"),
		"days": int((deleteAt.Sub(now) + 12*time.Hour) / (24 * time.Hour)), "login_url": r.PublicURL + "/login",
		"last": l.Active().UTC().Format("2006-01-02")}
	for _, addr := range to {
		if err := r.Mailer.Send(ctx, addr, r.lang(acct), "inactivity_warning", data); err != nil {
			r.log().Error("lifecycle: warning not queued", "account", l.AccountID, "err", err)
		}
	}
	r.record(ctx, audit.Event{Kind: audit.InactivityWarned, Actor: audit.System("lifecycle"), Subject: l.AccountID,
		Data: map[string]string{"warning": fmt.Sprint(n), "delete_at": deleteAt.UTC().Format(time.RFC3339)}})
	r.log().Info("lifecycle: inactivity warning", "account", l.AccountID, "warning", n, "delete_at", deleteAt)
	return true, nil
}

// delete deletes the account if it is still as read, pseudonymises its
// audit entries and mails its addresses; false if it changed.
func (r *Runner) delete(ctx context.Context, l store.Lifecycle, reason string) (bool, error) {
	acct, to, err := r.recipients(ctx, l.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Still as read? A sign-in since keeps the account, sessions and all.
	if cur, err := r.Store.GetLifecycle(ctx, l.AccountID); err != nil || !same(cur, l) {
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return false, err
	}
	if r.EndSessions != nil {
		if err := r.EndSessions(ctx, l.AccountID); err != nil {
			return false, err
		}
	}
	ok, err := r.Store.DeleteAccountIf(ctx, l)
	if err != nil || !ok {
		return false, err
	}
	pseudonym := "deleted-" + secret.ID()[:16]
	if _, err := r.Store.PseudonymiseAuditEvents(ctx, l.AccountID, pseudonym); err != nil {
		// The account is gone; its events keep its ID until an operator
		// runs this again. Said loudly.
		r.log().Error("lifecycle: audit entries of a deleted account not pseudonymised", "account", l.AccountID, "err", err)
	}
	r.record(ctx, audit.Event{Kind: audit.AccountDeleted, Actor: audit.System("lifecycle"), Subject: pseudonym,
		Reason: "lifecycle: " + reason, Data: map[string]string{"reason": reason}})
	for _, addr := range to {
		if err := r.Mailer.Send(ctx, addr, r.lang(acct), "account_deleted", map[string]any{"name": acct.Name, "reason": reason}); err != nil {
			r.log().Error("lifecycle: deletion mail not queued", "err", err)
		}
	}
	r.log().Warn("lifecycle: account deleted", "account", l.AccountID, "pseudonym", pseudonym, "reason", reason)
	return true, nil
}

func (r *Runner) record(ctx context.Context, e audit.Event) {
	if r.Audit == nil {
		return
	}
	if err := r.Audit.Record(ctx, e); err != nil {
		r.log().Error("lifecycle: audit event not written", "kind", e.Kind, "err", err)
	}
}

// same reports whether two reads of an account's lifecycle agree on what
// the conditional delete compares.
func same(a, b store.Lifecycle) bool {
	return a.LastActiveAt.Equal(b.LastActiveAt) && a.Warnings == b.Warnings && a.DeletionDueAt.Equal(b.DeletionDueAt)
}
