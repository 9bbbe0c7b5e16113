package webauthn

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	wa "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// maxUserHandle is the longest user handle WebAuthn allows, in bytes.
const maxUserHandle = 64

// User is an account as a WebAuthn ceremony sees it.
type User struct {
	// ID is the account ID. It is the WebAuthn user handle: the
	// authenticator stores it with a passkey and hands it back at a
	// passwordless login. 1 to 64 bytes; it is not shown to the user.
	ID string
	// Name is what the authenticator's account picker shows ("kari" or
	// "kari@example.no"); empty means ID.
	Name string
	// DisplayName is the person's name ("Kari Nordmann"); empty means Name.
	DisplayName string
	// Credentials are the account's registered credentials (from
	// store.WebAuthnCredentials.ListWebAuthnCredentials). Any whose
	// AccountID is not ID is ignored.
	Credentials []store.WebAuthnCredential
}

// own returns the credentials that belong to u.
func (u User) own() []store.WebAuthnCredential {
	var list []store.WebAuthnCredential
	for _, c := range u.Credentials {
		if c.AccountID == u.ID && len(c.ID) > 0 {
			list = append(list, c)
		}
	}
	return list
}

// find returns u's credential with the given ID.
func (u User) find(id []byte) (store.WebAuthnCredential, bool) {
	for _, c := range u.own() {
		if bytes.Equal(c.ID, id) {
			return c, true
		}
	}
	return store.WebAuthnCredential{}, false
}

func (u User) check() error {
	if u.ID == "" || len(u.ID) > maxUserHandle {
		return fmt.Errorf("webauthn: account ID %q is not 1 to %d bytes long", u.ID, maxUserHandle)
	}
	return nil
}

// libraryUser returns u as go-webauthn wants it, with the given
// credentials.
func (u User) libraryUser(creds []store.WebAuthnCredential) *libUser {
	lu := &libUser{id: []byte(u.ID), name: u.Name, displayName: u.DisplayName}
	if lu.name == "" {
		lu.name = u.ID
	}
	if lu.displayName == "" {
		lu.displayName = lu.name
	}
	for _, c := range creds {
		lu.creds = append(lu.creds, libraryCredential(c))
	}
	return lu
}

// libUser implements go-webauthn's User.
type libUser struct {
	id                []byte
	name, displayName string
	creds             []wa.Credential
}

func (u *libUser) WebAuthnID() []byte                   { return u.id }
func (u *libUser) WebAuthnName() string                 { return u.name }
func (u *libUser) WebAuthnDisplayName() string          { return u.displayName }
func (u *libUser) WebAuthnCredentials() []wa.Credential { return u.creds }

// libraryCredential converts a stored credential to go-webauthn's form.
func libraryCredential(c store.WebAuthnCredential) wa.Credential {
	var flags protocol.AuthenticatorFlags
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	return wa.Credential{
		ID:              c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		Transport:       transports(c.Transports),
		Flags:           wa.NewCredentialFlags(flags),
		Authenticator: wa.Authenticator{
			AAGUID:       c.AAGUID,
			SignCount:    c.SignCount,
			CloneWarning: c.CloneWarning,
		},
	}
}

func transports(list []string) []protocol.AuthenticatorTransport {
	var out []protocol.AuthenticatorTransport
	for _, t := range list {
		out = append(out, protocol.AuthenticatorTransport(t))
	}
	return out
}

// Flags are what the authenticator reported about the user in an
// assertion.
type Flags struct {
	// UserPresent is set when the user touched or confirmed on the
	// authenticator; the service refuses an assertion without it.
	UserPresent bool
	// UserVerified is set when the authenticator checked a PIN or
	// biometric: the credential then counts as two factors (possession
	// and knowledge or inherence), and the session's amr gets "user".
	UserVerified bool
}

// Service runs WebAuthn ceremonies for one relying party. It keeps no
// state of its own beyond a memory of finished challenges (see the
// package documentation); the caller stores sessions and credentials. It
// is safe for concurrent use.
type Service struct {
	// Now returns the current time; Begin calls use it to start a
	// session's timeout. Nil means time.Now. Finish calls take the time
	// as an argument instead.
	Now func() time.Time

	cfg  Config
	rp   *wa.WebAuthn
	used usedChallenges
}

// New returns a service for cfg. A configuration that fails Validate is an
// error listing every mistake.
func New(cfg Config) (*Service, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("webauthn: invalid configuration:\n%s", strings.Join(errs, "\n"))
	}
	cfg = cfg.withDefaults()
	timeout := wa.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	rp, err := wa.New(&wa.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             cfg.Origins,
		AttestationPreference: protocol.ConveyancePreference(cfg.Attestation),
		// The timeout is enforced by the service against the time the
		// caller passes, not by the library against the wall clock.
		Timeouts: wa.TimeoutsConfig{Login: timeout, Registration: timeout},
		// Some clients (password managers in particular) add extension
		// outputs nobody asked for. The service requests no extensions
		// and reads none, so an unsolicited output can change nothing;
		// refusing it would only lock those users out.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &Service{cfg: cfg, rp: rp}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Ceremonies, as recorded in a session.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
	ceremonyPasskey  = "passkey"
)

// sessionVersion is the format of the session JSON.
const sessionVersion = 1

// sessionState is what the caller keeps between Begin and Finish: the
// library's session data and what the service needs besides.
type sessionState struct {
	Version  int    `json:"v"`
	Ceremony string `json:"ceremony"`
	// Account is the account ID; empty for a passwordless login.
	Account string `json:"account,omitempty"`
	// Passkey is set when a registration asked for a passkey.
	Passkey bool `json:"passkey,omitempty"`
	// Expires is the end of the session, in Unix milliseconds.
	Expires int64          `json:"expires"`
	Data    wa.SessionData `json:"data"`
}

// seal returns the options (JSON) for the browser and the session (JSON)
// for the caller to keep.
func (s *Service) seal(options any, st sessionState) (opts, session []byte, err error) {
	st.Version = sessionVersion
	st.Expires = s.now().Add(s.cfg.Timeout).UnixMilli()
	if opts, err = json.Marshal(options); err != nil {
		return nil, nil, fmt.Errorf("webauthn: encode options: %w", err)
	}
	if session, err = json.Marshal(st); err != nil {
		return nil, nil, fmt.Errorf("webauthn: encode session: %w", err)
	}
	return opts, session, nil
}

// open decodes a session for a Finish call and checks that it is for this
// ceremony and account, unexpired and not finished already.
func (s *Service) open(raw []byte, ceremony, account string, now time.Time) (sessionState, error) {
	var st sessionState
	if len(raw) == 0 {
		// No session: the caller lost it or never had one.
		return st, errChallenge()
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("webauthn: read session: %w", err)
	}
	if st.Version != sessionVersion {
		return st, fmt.Errorf("webauthn: read session: version %d, want %d", st.Version, sessionVersion)
	}
	if st.Ceremony != ceremony || st.Account != account {
		return st, errChallenge()
	}
	if !now.Before(time.UnixMilli(st.Expires)) {
		return st, s.errExpired()
	}
	if s.used.seen(st.Data.Challenge) {
		return st, errChallenge()
	}
	return st, nil
}

// precheck makes the checks whose failure has a problem of its own,
// before the library verifies everything (these included): the challenge,
// the origin, the RP ID hash and, where the session requires it, user
// verification.
func (s *Service) precheck(st sessionState, cd protocol.CollectedClientData, ad protocol.AuthenticatorData) error {
	if subtle.ConstantTimeCompare([]byte(cd.Challenge), []byte(st.Data.Challenge)) != 1 {
		return errChallenge()
	}
	if !protocol.IsOriginInHaystack(cd.Origin, st.Data.GetOrigins(s.cfg.Origins)) {
		return s.errOrigin()
	}
	rpIDHash := sha256.Sum256([]byte(st.Data.GetRelyingPartyID(s.cfg.RPID)))
	if subtle.ConstantTimeCompare(ad.RPIDHash, rpIDHash[:]) != 1 {
		return s.errRPID()
	}
	if st.Data.UserVerification == protocol.VerificationRequired && !ad.Flags.HasUserVerified() {
		return errUserVerification()
	}
	return nil
}

// BeginRegistration starts registering a credential for u. With passkey
// set it asks for a passkey: a discoverable credential (resident key
// required) with user verification required, which can later sign in
// without a username or password. Without it, it asks for a security key
// as a second factor: resident key discouraged, user verification
// preferred. Either way the authenticator is told to refuse if it holds
// one of u's credentials already.
//
// options is the JSON of PublicKeyCredentialCreationOptions (the
// publicKey member of navigator.credentials.create's argument, in the
// WebAuthn JSON encoding with base64url binary fields); session is
// opaque JSON for the caller to keep server-side and hand to
// FinishRegistration. The session expires after Config.Timeout.
//
// The only errors are internal ones, such as an account ID longer than
// 64 bytes.
func (s *Service) BeginRegistration(u User, passkey bool) (options, session []byte, err error) {
	if err := u.check(); err != nil {
		return nil, nil, err
	}
	sel := protocol.AuthenticatorSelection{
		ResidentKey:        protocol.ResidentKeyRequirementDiscouraged,
		RequireResidentKey: protocol.ResidentKeyNotRequired(),
		UserVerification:   protocol.VerificationPreferred,
	}
	if passkey {
		sel = protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		}
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.own() {
		lc := libraryCredential(c)
		exclude = append(exclude, lc.Descriptor())
	}
	creation, data, err := s.rp.BeginRegistration(u.libraryUser(nil),
		wa.WithAuthenticatorSelection(sel), wa.WithExclusions(exclude))
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin registration for %q: %w", u.ID, err)
	}
	return s.seal(creation.Response, sessionState{
		Ceremony: ceremonyRegister, Account: u.ID, Passkey: passkey, Data: *data,
	})
}

// FinishRegistration checks the browser's answer to BeginRegistration
// and returns the credential to store (with CreateWebAuthnCredential),
// named name, created at now. Discoverable is what BeginRegistration
// asked for (passkey). The label is stored as given; the caller
// validates it.
//
// response is the JSON of the PublicKeyCredential that
// navigator.credentials.create resolved to (its toJSON()). A response
// the server refuses is a *problem.Problem: webauthn.expired,
// webauthn.challenge (not this session's challenge, or the session was
// finished already, or it was begun for another account),
// webauthn.origin, webauthn.rp_id, webauthn.user_verification (a passkey
// without user verification), webauthn.already_registered (u has this
// credential already), or webauthn.failed (anything else: a cancelled,
// malformed or badly signed response). Other errors are internal.
//
// A session can be finished once: after a success, the same session gets
// webauthn.challenge. Storing the credential may still fail with
// store.ErrConflict if another account registered the same credential ID
// meanwhile; the caller should show webauthn.already_registered then too.
func (s *Service) FinishRegistration(u User, session, response []byte, name string, now time.Time) (store.WebAuthnCredential, error) {
	st, err := s.open(session, ceremonyRegister, u.ID, now)
	if err != nil {
		return store.WebAuthnCredential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return store.WebAuthnCredential{}, errFailed()
	}
	att := parsed.Response
	if err := s.precheck(st, att.CollectedClientData, att.AttestationObject.AuthData); err != nil {
		return store.WebAuthnCredential{}, err
	}
	if _, ok := u.find(parsed.RawID); ok {
		return store.WebAuthnCredential{}, errAlreadyRegistered()
	}
	cred, err := s.rp.CreateCredential(u.libraryUser(nil), st.Data, parsed)
	if err != nil {
		return store.WebAuthnCredential{}, s.refusal(err)
	}
	if !s.used.consume(st.Data.Challenge, time.UnixMilli(st.Expires), now) {
		return store.WebAuthnCredential{}, errChallenge()
	}
	var ts []string
	for _, t := range cred.Transport {
		if t != "" && !strings.ContainsAny(string(t), " \t\r\n") && !slices.Contains(ts, string(t)) {
			ts = append(ts, string(t))
		}
	}
	return store.WebAuthnCredential{
		ID:              cred.ID,
		AccountID:       u.ID,
		Name:            name,
		PublicKey:       cred.PublicKey,
		AttestationType: cred.AttestationType,
		AAGUID:          cred.Authenticator.AAGUID,
		SignCount:       cred.Authenticator.SignCount,
		Transports:      ts,
		Discoverable:    st.Passkey,
		BackupEligible:  cred.Flags.BackupEligible,
		BackupState:     cred.Flags.BackupState,
		CreatedAt:       now,
	}, nil
}

// BeginLogin starts a login with a security key or passkey as a second
// factor, for u, whom the caller knows already (after the password). The
// browser is offered u's credentials (allowCredentials); user
// verification is preferred, and FinishLogin reports whether it happened.
//
// options is the JSON of PublicKeyCredentialRequestOptions (the publicKey
// member of navigator.credentials.get's argument); session is for
// FinishLogin. A user without credentials gets webauthn.not_registered;
// other errors are internal.
func (s *Service) BeginLogin(u User) (options, session []byte, err error) {
	if err := u.check(); err != nil {
		return nil, nil, err
	}
	own := u.own()
	if len(own) == 0 {
		return nil, nil, errNotRegistered()
	}
	assertion, data, err := s.rp.BeginLogin(u.libraryUser(own), wa.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin login for %q: %w", u.ID, err)
	}
	return s.seal(assertion.Response, sessionState{Ceremony: ceremonyLogin, Account: u.ID, Data: *data})
}

// BeginPasskeyLogin starts a passwordless login: the browser offers
// whatever passkeys it has for the relying party (allowCredentials is
// empty), and user verification is required. options and session are as
// for BeginLogin; the session is for FinishPasskeyLogin. The errors are
// internal.
//
// The same options serve a conditional (autofill) request: the page
// passes them with mediation "conditional".
func (s *Service) BeginPasskeyLogin() (options, session []byte, err error) {
	assertion, data, err := s.rp.BeginDiscoverableLogin(wa.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin passkey login: %w", err)
	}
	return s.seal(assertion.Response, sessionState{Ceremony: ceremonyPasskey, Data: *data})
}

// FinishLogin checks the browser's answer to BeginLogin(u) and returns
// the credential as it is to be stored now (UpdateWebAuthnCredential):
// SignCount advanced, BackupState as reported, LastUsedAt now, and
// CloneWarning set if the counter did not move forward (see the package
// documentation). flags says whether the user was verified.
//
// response is the JSON of the PublicKeyCredential that
// navigator.credentials.get resolved to. A refused response is a
// *problem.Problem: webauthn.expired, webauthn.challenge,
// webauthn.origin, webauthn.rp_id, webauthn.not_registered (a credential
// that is not u's, or not one offered in BeginLogin), or webauthn.failed.
// Other errors are internal. A session can be finished once.
func (s *Service) FinishLogin(u User, session, response []byte, now time.Time) (updated store.WebAuthnCredential, flags Flags, err error) {
	st, err := s.open(session, ceremonyLogin, u.ID, now)
	if err != nil {
		return store.WebAuthnCredential{}, Flags{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return store.WebAuthnCredential{}, Flags{}, errFailed()
	}
	if err := s.precheck(st, parsed.Response.CollectedClientData, parsed.Response.AuthenticatorData); err != nil {
		return store.WebAuthnCredential{}, Flags{}, err
	}
	stored, ok := u.find(parsed.RawID)
	if !ok || !slices.ContainsFunc(st.Data.AllowedCredentialIDs, func(id []byte) bool { return bytes.Equal(id, parsed.RawID) }) {
		return store.WebAuthnCredential{}, Flags{}, errNotRegistered()
	}
	if h := parsed.Response.UserHandle; len(h) > 0 && string(h) != u.ID {
		return store.WebAuthnCredential{}, Flags{}, errNotRegistered()
	}
	return s.verifyAssertion(u, stored, st, parsed, now)
}

// FinishPasskeyLogin checks the browser's answer to BeginPasskeyLogin.
// lookup is called with the user handle (the account ID) and the
// credential ID the authenticator returned, and returns the account with
// its credentials. It should return an error wrapping store.ErrNotFound
// for an unknown (say, deleted) account, which becomes
// webauthn.not_registered; a *problem.Problem it returns (a disabled
// account) is returned as it is; any other error is internal.
//
// It returns the account ID, the credential as it is to be stored now
// (as for FinishLogin) and the flags; user verification is always set.
// Only a credential registered as a passkey (Discoverable) signs in
// this way: a security key registered as a second factor gets
// webauthn.not_registered, even if the authenticator happened to keep it
// as a discoverable credential. The other problems are those of
// FinishLogin, plus webauthn.user_verification.
//
// lookup runs before the signature is checked (the credential's public
// key comes with the account). So that someone who cannot sign learns
// nothing about an account, lookup should return a disabled account like
// any other, and the caller should refuse it after FinishPasskeyLogin
// succeeds.
func (s *Service) FinishPasskeyLogin(session, response []byte, lookup func(userHandle, credentialID []byte) (User, error),
	now time.Time) (accountID string, updated store.WebAuthnCredential, flags Flags, err error) {
	st, err := s.open(session, ceremonyPasskey, "", now)
	if err != nil {
		return "", store.WebAuthnCredential{}, Flags{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return "", store.WebAuthnCredential{}, Flags{}, errFailed()
	}
	if err := s.precheck(st, parsed.Response.CollectedClientData, parsed.Response.AuthenticatorData); err != nil {
		return "", store.WebAuthnCredential{}, Flags{}, err
	}
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		// Not a discoverable credential, or a client that dropped the
		// handle: nothing says whose it is.
		return "", store.WebAuthnCredential{}, Flags{}, errNotRegistered()
	}
	u, err := lookup(slices.Clone(handle), slices.Clone(parsed.RawID))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", store.WebAuthnCredential{}, Flags{}, errNotRegistered()
		}
		if p, ok := problem.As(err); ok {
			return "", store.WebAuthnCredential{}, Flags{}, p
		}
		return "", store.WebAuthnCredential{}, Flags{}, fmt.Errorf("webauthn: look up the account of a passkey: %w", err)
	}
	stored, ok := u.find(parsed.RawID)
	if u.ID != string(handle) || !ok || !stored.Discoverable {
		return "", store.WebAuthnCredential{}, Flags{}, errNotRegistered()
	}
	updated, flags, err = s.verifyAssertion(u, stored, st, parsed, now)
	if err != nil {
		return "", store.WebAuthnCredential{}, Flags{}, err
	}
	return u.ID, updated, flags, nil
}

// verifyAssertion has the library verify an assertion made with stored,
// u's credential, then consumes the session's challenge and returns the
// credential as it is to be stored.
func (s *Service) verifyAssertion(u User, stored store.WebAuthnCredential, st sessionState,
	parsed *protocol.ParsedCredentialAssertionData, now time.Time) (store.WebAuthnCredential, Flags, error) {
	// The library is shown the one credential used. For a second-factor
	// login the service has checked that it was offered (the session's
	// allow list); narrowing the list to it keeps a credential deleted
	// since BeginLogin from failing the login of another one.
	lu := u.libraryUser([]store.WebAuthnCredential{stored})
	data := st.Data
	var (
		cred *wa.Credential
		err  error
	)
	if st.Ceremony == ceremonyPasskey {
		_, cred, err = s.rp.ValidatePasskeyLogin(func(_, _ []byte) (wa.User, error) { return lu, nil }, data, parsed)
	} else {
		data.AllowedCredentialIDs = [][]byte{stored.ID}
		cred, err = s.rp.ValidateLogin(lu, data, parsed)
	}
	if err != nil {
		return store.WebAuthnCredential{}, Flags{}, s.refusal(err)
	}
	if !s.used.consume(st.Data.Challenge, time.UnixMilli(st.Expires), now) {
		return store.WebAuthnCredential{}, Flags{}, errChallenge()
	}
	// The library applies the counter rule of WebAuthn §7.2 step 22: a
	// count that is not above the stored one, unless both are zero, sets
	// CloneWarning and leaves SignCount as it was. CloneWarning is never
	// cleared here.
	updated := stored
	updated.SignCount = cred.Authenticator.SignCount
	updated.CloneWarning = stored.CloneWarning || cred.Authenticator.CloneWarning
	updated.BackupState = cred.Flags.BackupState
	updated.LastUsedAt = now
	af := parsed.Response.AuthenticatorData.Flags
	return updated, Flags{UserPresent: af.HasUserPresent(), UserVerified: af.HasUserVerified()}, nil
}

// usedChallenges remembers the challenges of finished sessions until the
// sessions expire, so that a session is finished once at most in this
// process.
type usedChallenges struct {
	mu sync.Mutex
	// m maps a challenge to the end of its session.
	m map[string]time.Time
	// nextPrune is when expired entries are next removed.
	nextPrune time.Time
}

// seen reports whether a session with the challenge was finished.
func (u *usedChallenges) seen(challenge string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.m[challenge]
	return ok
}

// consume records the challenge as finished, and reports false if it was
// already; of concurrent calls with one challenge, one gets true.
func (u *usedChallenges) consume(challenge string, expires, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.m[challenge]; ok {
		return false
	}
	if u.m == nil {
		u.m = make(map[string]time.Time)
	}
	if !now.Before(u.nextPrune) {
		for c, end := range u.m {
			if now.After(end) {
				delete(u.m, c)
			}
		}
		u.nextPrune = now.Add(time.Minute)
	}
	u.m[challenge] = expires
	return true
}
