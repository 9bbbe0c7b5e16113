package flow

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Security keys and passkeys (WebAuthn).
//
// Every ceremony keeps its server half (the challenge and what it was
// for) in a flow, consumed exactly once when the browser's answer comes
// back, so a challenge cannot be replayed on this node or another.

// Flow kinds of WebAuthn ceremonies.
const (
	FlowKeyRegister = "webauthn_register"
	FlowPasskey     = "passkey"
)

// keyData is a ceremony's server half.
type keyData struct {
	Session []byte `json:"session"`
	Passkey bool   `json:"passkey,omitempty"`
}

var errKeysOff = problem.New(problem.Forbidden, "", "webauthn.unavailable", nil)

// maxKeyName bounds a key's label.
const maxKeyName = 60

func (s *Service) webauthnUser(ctx context.Context, acct store.Account) (webauthn.User, error) {
	creds, err := s.Store.ListWebAuthnCredentials(ctx, acct.ID)
	if err != nil {
		return webauthn.User{}, err
	}
	name := acct.Username
	if e, err := s.primaryEmail(ctx, acct.ID); err == nil {
		name = e
	} else if !errors.Is(err, store.ErrNotFound) {
		return webauthn.User{}, err
	}
	if name == "" {
		name = acct.ID
	}
	display := acct.Name
	if display == "" {
		display = name
	}
	return webauthn.User{ID: acct.ID, Name: name, DisplayName: display, Credentials: creds}, nil
}

// Keys lists the account's security keys and passkeys.
func (s *Service) Keys(ctx context.Context, accountID string) ([]store.WebAuthnCredential, error) {
	return s.Store.ListWebAuthnCredentials(ctx, accountID)
}

// BeginKeyRegistration starts registering a security key (second factor)
// or a passkey (passwordless sign-in). It returns the flow to finish in
// and the options for navigator.credentials.create.
func (s *Service) BeginKeyRegistration(ctx context.Context, c Client, who Who, passkey bool) (string, []byte, error) {
	if s.WebAuthn == nil {
		return "", nil, errKeysOff
	}
	if err := s.requireFresh(ctx, who); err != nil {
		return "", nil, err
	}
	u, err := s.webauthnUser(ctx, who.Account)
	if err != nil {
		return "", nil, err
	}
	opts, session, err := s.WebAuthn.BeginRegistration(u, passkey)
	if err != nil {
		return "", nil, err
	}
	f := s.newFlow(FlowKeyRegister, c, "")
	f.AccountID = who.Account.ID
	f.Data = encodeJSON(keyData{Session: session, Passkey: passkey})
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return "", nil, err
	}
	return f.ID, opts, nil
}

// FinishKeyRegistration checks the browser's answer and stores the key
// under the given name; a mail confirms it. When the key is the account's
// first strong factor and it has no recovery codes, a set is made and
// returned, to be shown once: a lost key must not lock the user out.
func (s *Service) FinishKeyRegistration(ctx context.Context, c Client, who Who, flowID string, response []byte, name string) (store.WebAuthnCredential, []string, error) {
	cred, err := s.finishKeyRegistration(ctx, c, who, flowID, response, name)
	if err != nil {
		return cred, nil, err
	}
	if unused, _, err := s.Store.CountRecoveryCodes(ctx, who.Account.ID); err != nil {
		return cred, nil, err
	} else if unused == 0 && s.mfa().allowed(authn.Recovery) {
		codes, err := s.newRecoveryCodes(ctx, who.Account.ID)
		return cred, codes, err
	}
	return cred, nil, nil
}

func (s *Service) finishKeyRegistration(ctx context.Context, c Client, who Who, flowID string, response []byte, name string) (store.WebAuthnCredential, error) {
	if s.WebAuthn == nil {
		return store.WebAuthnCredential{}, errKeysOff
	}
	if err := s.requireFresh(ctx, who); err != nil {
		return store.WebAuthnCredential{}, err
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxKeyName {
		return store.WebAuthnCredential{}, problem.New(problem.Invalid, "name", "webauthn.name_invalid", problem.Args{"max": maxKeyName})
	}
	if _, err := account.ParseName("name", name, maxKeyName); err != nil {
		return store.WebAuthnCredential{}, err // a key's name reaches mails
	}
	f, err := s.consume(ctx, c, flowID, FlowKeyRegister, func(f *store.Flow) error {
		if f.AccountID != who.Account.ID {
			return errFlowGone
		}
		return nil
	})
	if err != nil {
		return store.WebAuthnCredential{}, err
	}
	var d keyData
	decodeJSON(f.Data, &d)
	u, err := s.webauthnUser(ctx, who.Account)
	if err != nil {
		return store.WebAuthnCredential{}, err
	}
	if name == "" {
		name = s.Texts.Lang(s.lang(who.Account, c)).T("security.keys.default_name")
	}
	cred, err := s.WebAuthn.FinishRegistration(u, d.Session, response, name, s.now())
	if err != nil {
		return store.WebAuthnCredential{}, err
	}
	cred.AccountID = who.Account.ID
	if err := s.Store.CreateWebAuthnCredential(ctx, cred); errors.Is(err, store.ErrConflict) {
		return store.WebAuthnCredential{}, problem.New(problem.Conflict, "", "webauthn.already_registered", nil)
	} else if err != nil {
		return store.WebAuthnCredential{}, err
	}
	if err := s.contain(ctx, who); err != nil {
		return store.WebAuthnCredential{}, err
	}
	s.notify(ctx, c, who.Account, "factor_added", map[string]any{"factor": name, "security_url": s.link("/account/security")})
	s.log().Info("factor added", "account", who.Account.ID, "kind", "webauthn", "passkey", cred.Discoverable)
	return cred, nil
}

// RenameKey changes a key's label.
func (s *Service) RenameKey(ctx context.Context, who Who, id []byte, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxKeyName {
		return problem.New(problem.Invalid, "name", "webauthn.name_invalid", problem.Args{"max": maxKeyName})
	}
	if _, err := account.ParseName("name", name, maxKeyName); err != nil {
		return err
	}
	_, err := s.Store.UpdateWebAuthnCredential(ctx, id, func(k store.WebAuthnCredential) (store.WebAuthnCredential, error) {
		if k.AccountID != who.Account.ID {
			return k, store.ErrNotFound
		}
		k.Name = name
		return k, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "", "security.factor_gone", nil)
	}
	if err != nil {
		return err
	}
	// A label is no credential: settings.changed, with the key as target.
	s.record(ctx, audit.Event{Kind: audit.SettingsChanged, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Target: "webauthn:" + base64.RawURLEncoding.EncodeToString(id), Data: map[string]string{"action": "key.renamed"}})
	return nil
}

// RemoveKey removes a key; a mail confirms it.
func (s *Service) RemoveKey(ctx context.Context, c Client, who Who, id []byte) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	k, err := s.Store.GetWebAuthnCredential(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.AccountID != who.Account.ID) {
		return problem.New(problem.NotFound, "", "security.factor_gone", nil)
	}
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWebAuthnCredential(ctx, who.Account.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	s.notify(ctx, c, who.Account, "factor_removed", map[string]any{"factor": k.Name, "security_url": s.link("/account/security")})
	s.log().Info("factor removed", "account", who.Account.ID, "kind", "webauthn")
	return nil
}

// recordUse stores what a successful assertion learned: the larger
// counter, a clone warning (never cleared), the backup state, the time.
// Merging, rather than overwriting, keeps a concurrent sign-in from moving
// the counter back.
func (s *Service) recordUse(ctx context.Context, updated store.WebAuthnCredential) error {
	_, err := s.Store.UpdateWebAuthnCredential(ctx, updated.ID, func(k store.WebAuthnCredential) (store.WebAuthnCredential, error) {
		k.SignCount = max(k.SignCount, updated.SignCount)
		k.CloneWarning = k.CloneWarning || updated.CloneWarning
		k.BackupState = updated.BackupState
		k.LastUsedAt = s.now()
		return k, nil
	})
	if updated.CloneWarning {
		s.log().Warn("webauthn counter went backwards", "account", updated.AccountID)
	}
	return err
}

// hasKeys reports whether the account has a security key or passkey.
func (s *Service) hasKeys(ctx context.Context, accountID string) (bool, error) {
	if kinds, ok := memoKinds(ctx, accountID); ok {
		return slices.Contains(kinds, store.EnrolledWebAuthn), nil
	}
	creds, err := s.listKeys(ctx, accountID)
	return len(creds) > 0, err
}

// BeginFactorKey starts a security-key assertion in a second-factor flow
// and returns the options for navigator.credentials.get.
func (s *Service) BeginFactorKey(ctx context.Context, c Client, flowID string) ([]byte, error) {
	if s.WebAuthn == nil {
		return nil, errKeysOff
	}
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(pf.Options, func(o Option) bool { return o.Method == authn.WebAuthn }) {
		return nil, problem.New(problem.Invalid, "method", "mfa.choose", nil)
	}
	u, err := s.webauthnUser(ctx, pf.Account)
	if err != nil {
		return nil, err
	}
	opts, session, err := s.WebAuthn.BeginLogin(u)
	if err != nil {
		return nil, err
	}
	if err := s.updateMFA(ctx, c, flowID, func(d *mfaData) { d.Key = session }); err != nil {
		return nil, err
	}
	return opts, nil
}

// VerifyFactorKey finishes a security-key assertion in a second-factor
// flow and completes it.
func (s *Service) VerifyFactorKey(ctx context.Context, c Client, flowID string, response []byte, remember bool) (Result, error) {
	if s.WebAuthn == nil {
		return Result{}, errKeysOff
	}
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return Result{}, err
	}
	d := decodeMFA(pf.Flow)
	if len(d.Key) == 0 {
		return Result{}, problem.New(problem.Forbidden, "", "webauthn.challenge", nil)
	}
	u, err := s.webauthnUser(ctx, pf.Account)
	if err != nil {
		return Result{}, err
	}
	updated, flags, err := s.WebAuthn.FinishLogin(u, d.Key, response, s.now())
	if err != nil {
		return Result{}, err
	}
	if err := s.recordUse(ctx, updated); err != nil {
		return Result{}, err
	}
	return s.completeFactorWith(ctx, c, flowID, remember, keyMethods(flags)...)
}

// BeginPasskey starts a passwordless sign-in: the browser offers the
// user's passkeys for this site. It returns the flow and the options for
// navigator.credentials.get (also usable with mediation "conditional",
// the autofill in the email field).
func (s *Service) BeginPasskey(ctx context.Context, c Client) (string, []byte, error) {
	if s.WebAuthn == nil {
		return "", nil, errKeysOff
	}
	opts, session, err := s.WebAuthn.BeginPasskeyLogin()
	if err != nil {
		return "", nil, err
	}
	f := s.newFlow(FlowPasskey, c, "")
	f.Data = encodeJSON(keyData{Session: session, Passkey: true})
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return "", nil, err
	}
	return f.ID, opts, nil
}

// FinishPasskey signs in with a passkey. A passkey with user verification
// is two factors in one (something you have, and your fingerprint, face or
// PIN), so the session opens at the passkey's level with amr hwk, user and
// mfa (authn.Assess); no second step follows.
func (s *Service) FinishPasskey(ctx context.Context, c Client, flowID string, response []byte) (Result, error) {
	if s.WebAuthn == nil {
		return Result{}, errKeysOff
	}
	f, err := s.consume(ctx, c, flowID, FlowPasskey, func(*store.Flow) error { return nil })
	if err != nil {
		return Result{}, err
	}
	var d keyData
	decodeJSON(f.Data, &d)
	accountID, updated, flags, err := s.WebAuthn.FinishPasskeyLogin(d.Session, response, func(userHandle, credentialID []byte) (webauthn.User, error) {
		acct, err := s.Store.GetAccount(ctx, string(userHandle))
		if err != nil {
			return webauthn.User{}, err
		}
		return s.webauthnUser(ctx, acct)
	}, s.now())
	if err != nil {
		return Result{}, err
	}
	if err := s.recordUse(ctx, updated); err != nil {
		return Result{}, err
	}
	acct, err := s.Store.GetAccount(ctx, accountID)
	if err != nil {
		return Result{}, err
	}
	if acct.Disabled {
		return Result{}, problem.New(problem.Forbidden, "", "login.disabled", nil)
	}
	return s.finishLogin(ctx, c, acct, keyMethods(flags))
}
