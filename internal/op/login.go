package op

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/portvakt/portvakt/internal/store"
)

// The login page's side of an authorization request: /authorize sends
// the browser to Deps.LoginURL(id); the page reads the request with
// AuthRequest, signs the user in (or steps up, or asks for consent) and
// calls Complete, which says what is still missing or returns where to
// send the browser next.

// ErrUnknownRequest is returned (wrapped) for an authorization request
// that does not exist, has expired or has been answered already.
var ErrUnknownRequest = errors.New("op: unknown, expired or answered authorization request")

// Need is what the user must do before an authorization request can be
// completed.
type Need int

const (
	// NeedLogin: sign in (there is no session, prompt=login or max_age
	// wants a fresh sign-in, or id_token_hint names another account).
	NeedLogin Need = iota + 1
	// NeedStepUp: authenticate with a stronger factor, to NeedError.Level.
	NeedStepUp
	// NeedConsent: allow the client the requested scopes (Consent).
	NeedConsent
	// NeedUpstream: sign in through the upstream NeedError.Upstream at
	// one of NeedError.ACRValues (an app asked for ID-porten at high).
	NeedUpstream
)

func (n Need) String() string {
	switch n {
	case NeedLogin:
		return "login"
	case NeedStepUp:
		return "step-up"
	case NeedConsent:
		return "consent"
	case NeedUpstream:
		return "upstream"
	}
	return fmt.Sprintf("Need(%d)", int(n))
}

// NeedError is Complete's answer when the session does not satisfy the
// request yet.
type NeedError struct {
	Need Need
	// Level is the level to step up to, for NeedStepUp.
	Level int
	// Upstream and ACRValues are the upstream and the acr values (any of
	// them) to sign in at, for NeedUpstream.
	Upstream  string
	ACRValues []string
}

func (e *NeedError) Error() string {
	if e.Need == NeedStepUp {
		return fmt.Sprintf("op: authorization request needs a step-up to level %d", e.Level)
	}
	return "op: authorization request needs " + e.Need.String()
}

// AuthRequestInfo is what the login page needs to know about an
// authorization request.
type AuthRequestInfo struct {
	ID         string
	ClientID   string
	ClientName string
	// ThirdParty clients get a consent page.
	ThirdParty bool
	Scopes     []string
	// The prompt values.
	PromptNone, PromptLogin, PromptConsent, SelectAccount bool
	// MaxAge is the max_age parameter, -1 if none.
	MaxAge time.Duration
	// RequiredLevel is the level the requested ACR values demand (0 for
	// none); a session below it must step up.
	RequiredLevel int
	ACRValues     []string
	UILocales     []string
	LoginHint     string
	// HintSubject is the account ID an id_token_hint named.
	HintSubject string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// AuthRequest returns the authorization request with the ID for the login
// page, or an error wrapping ErrUnknownRequest.
func (p *Provider) AuthRequest(ctx context.Context, id string) (AuthRequestInfo, error) {
	ar, c, err := p.liveRequest(ctx, id)
	if err != nil {
		return AuthRequestInfo{}, err
	}
	level, _ := p.acr.required(ar.ACRValues)
	info := AuthRequestInfo{
		ID:            ar.ID,
		ClientID:      c.c.ID,
		ClientName:    c.c.Name,
		ThirdParty:    c.c.ThirdParty,
		Scopes:        ar.Scopes,
		PromptNone:    slices.Contains(ar.Prompt, oidc.PromptNone),
		PromptLogin:   slices.Contains(ar.Prompt, oidc.PromptLogin),
		PromptConsent: slices.Contains(ar.Prompt, oidc.PromptConsent),
		SelectAccount: slices.Contains(ar.Prompt, oidc.PromptSelectAccount),
		MaxAge:        -1,
		RequiredLevel: level,
		ACRValues:     ar.ACRValues,
		UILocales:     ar.UILocales,
		LoginHint:     ar.LoginHint,
		HintSubject:   ar.HintSubject,
		CreatedAt:     ar.CreatedAt,
		ExpiresAt:     ar.ExpiresAt,
	}
	if ar.MaxAge >= 0 {
		info.MaxAge = time.Duration(ar.MaxAge) * time.Second
	}
	return info, nil
}

// liveRequest loads a request still waiting at the login page, and its
// client.
func (p *Provider) liveRequest(ctx context.Context, id string) (store.AuthRequest, *client, error) {
	ar, err := p.st.GetAuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ar, nil, fmt.Errorf("%w %q", ErrUnknownRequest, id)
	}
	if err != nil {
		return ar, nil, fmt.Errorf("op: %w", err)
	}
	if !p.now().Before(ar.ExpiresAt) || len(ar.CodeHash) > 0 || ar.Error != "" || ar.GrantID != "" {
		return ar, nil, fmt.Errorf("%w %q", ErrUnknownRequest, id)
	}
	c, err := p.client(ctx, ar.ClientID)
	if errors.Is(err, ErrUnknownClient) {
		return ar, nil, fmt.Errorf("%w %q (its client is gone)", ErrUnknownRequest, id)
	}
	if err != nil {
		return ar, nil, err
	}
	return ar, c, nil
}

// Complete finishes the authorization request with the browser's session
// sess (nil if the browser has none) and returns the URL to send the
// browser to: the provider's callback, which gives the client its code.
//
// If sess does not satisfy the request yet, Complete returns a *NeedError:
// NeedLogin when there is no session (or an expired one, of a disabled
// account, of another account than id_token_hint's), or when prompt=login
// or max_age needs a sign-in newer than the session's; NeedStepUp when the
// session's level is below the one the ACR values demand; NeedConsent when
// a third-party client (or prompt=consent) needs the user's consent to
// the scopes. The login page does that and calls Complete again. With
// prompt=none the page must not show anything: Complete then ends the
// request itself and returns the callback URL, which sends the client
// login_required or consent_required.
//
// The error wraps ErrUnknownRequest if the request is unknown, expired or
// answered.
func (p *Provider) Complete(ctx context.Context, id string, sess *store.Session) (string, error) {
	ar, c, err := p.liveRequest(ctx, id)
	if err != nil {
		return "", err
	}
	need, err := p.check(ctx, ar, c, sess)
	if err != nil {
		return "", err
	}
	if need != nil {
		if !slices.Contains(ar.Prompt, oidc.PromptNone) {
			return "", need
		}
		reason := "login_required"
		if need.Need == NeedConsent {
			reason = "consent_required"
		}
		return p.end(ctx, id, reason)
	}
	level := sess.Level
	_, err = p.st.UpdateAuthRequest(ctx, id, func(ar store.AuthRequest) (store.AuthRequest, error) {
		// A request completed by one session is not taken over by another
		// that learned its id (a login swap); completing it again from the
		// same session (a reload) is fine.
		if len(ar.CodeHash) > 0 || ar.Error != "" || (ar.Done && ar.SessionID != sess.ID) {
			return ar, ErrUnknownRequest
		}
		ar.Done, ar.AccountID, ar.SessionID = true, sess.AccountID, sess.ID
		ar.AuthTime, ar.AMR = sess.AuthTime, sess.AMR
		ar.ACR = p.acr.acr(level, ar.ACRValues)
		if amr := p.acr.amr[ar.ACR]; len(amr) > 0 {
			// The deployment's names for how this level is reached.
			ar.AMR = slices.Clone(amr)
		}
		if p.up.satisfied(sess.Via, ar.ACRValues) {
			// What the upstream said, copied: the app asked for it and the
			// session really came through there at that level.
			ar.ACR = sess.Via.ACR
		}
		return ar, nil
	})
	if errors.Is(err, ErrUnknownRequest) || errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w %q", ErrUnknownRequest, id)
	}
	if err != nil {
		return "", fmt.Errorf("op: complete authorization request: %w", err)
	}
	return p.absolute(PathCallback, url.Values{"id": {id}, "t": {p.callbackToken(id, sess.ID)}}), nil
}

// callbackToken binds the callback of a completed request to the browser
// that completed it. The request id is no secret: whoever started the
// request saw it in /authorize's redirect, and could otherwise have a
// signed-in victim complete it and collect the code at the callback
// first. The token seals the completing session's id to the request id;
// only the completing browser is sent it.
func (p *Provider) callbackToken(id, sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(p.sealer.Seal([]byte(sessionID), []byte(callbackAD+id)))
}

// validCallbackToken reports whether t is callbackToken(id, sessionID).
func (p *Provider) validCallbackToken(t, id, sessionID string) bool {
	sealed, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || t == "" {
		return false
	}
	got, err := p.sealer.Open(sealed, []byte(callbackAD+id))
	return err == nil && sessionID != "" && string(got) == sessionID
}

const callbackAD = "portvakt oidc callback "

// check returns what sess still lacks for ar, or nil.
func (p *Provider) check(ctx context.Context, ar store.AuthRequest, c *client, sess *store.Session) (*NeedError, error) {
	now := p.now()
	if sess == nil || sess.AccountID == "" || !now.Before(sess.ExpiresAt) {
		return &NeedError{Need: NeedLogin}, nil
	}
	acct, err := p.st.GetAccount(ctx, sess.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return &NeedError{Need: NeedLogin}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	if acct.Disabled || (ar.HintSubject != "" && ar.HintSubject != sess.AccountID) {
		return &NeedError{Need: NeedLogin}, nil
	}
	// prompt=login and max_age=0 want a sign-in made for this request;
	// max_age=n one at most n seconds old (OIDC Core §3.1.2.1).
	freshForRequest := !sess.AuthTime.Before(ar.CreatedAt)
	if slices.Contains(ar.Prompt, oidc.PromptLogin) && !freshForRequest {
		return &NeedError{Need: NeedLogin}, nil
	}
	if ar.MaxAge >= 0 && !freshForRequest && now.Sub(sess.AuthTime) > time.Duration(ar.MaxAge)*time.Second {
		return &NeedError{Need: NeedLogin}, nil
	}
	// An upstream's acr (ID-porten at high) is met only by a session that
	// came through that upstream at that level, or else by a local level
	// the request also named; no local level turns into an upstream one.
	if want := p.up.wanted(ar.ACRValues); len(want) > 0 && !p.up.satisfied(sess.Via, want) {
		if level, known := p.acr.required(ar.ACRValues); !known || sess.Level < level {
			return &NeedError{Need: NeedUpstream, Upstream: p.up.upstreamOf(want), ACRValues: want}, nil
		}
	}
	if level, _ := p.acr.required(ar.ACRValues); sess.Level < level && !p.up.satisfied(sess.Via, ar.ACRValues) {
		return &NeedError{Need: NeedStepUp, Level: level}, nil
	}
	if c.c.ThirdParty || slices.Contains(ar.Prompt, oidc.PromptConsent) {
		consent, err := p.st.GetConsent(ctx, sess.AccountID, c.c.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return &NeedError{Need: NeedConsent}, nil
		case err != nil:
			return nil, fmt.Errorf("op: %w", err)
		case !containsAll(consent.Scopes, ar.Scopes):
			return &NeedError{Need: NeedConsent}, nil
		case slices.Contains(ar.Prompt, oidc.PromptConsent) && consent.GrantedAt.Before(ar.CreatedAt):
			return &NeedError{Need: NeedConsent}, nil
		}
	}
	return nil, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Reasons for Abort.
const (
	// AbortDenied: the user declined (consent page "No", or cancelled
	// the sign-in). The client gets access_denied.
	AbortDenied = "access_denied"
	// AbortLoginRequired, AbortConsentRequired,
	// AbortAccountSelectionRequired and AbortInteractionRequired are for
	// the login page's own prompt=none decisions.
	AbortLoginRequired            = "login_required"
	AbortConsentRequired          = "consent_required"
	AbortAccountSelectionRequired = "account_selection_required"
	AbortInteractionRequired      = "interaction_required"
)

var errorDescriptions = map[string]string{
	AbortDenied:                   "The user declined.",
	AbortLoginRequired:            "The user must sign in.",
	AbortConsentRequired:          "The user must consent.",
	AbortAccountSelectionRequired: "The user must choose an account.",
	AbortInteractionRequired:      "The user must interact with the login page.",
}

// Abort ends the authorization request with an error for the client and
// returns the URL to send the browser to (the callback, which delivers
// it). reason is one of the Abort constants. The error wraps
// ErrUnknownRequest if the request is unknown, expired or answered.
func (p *Provider) Abort(ctx context.Context, id, reason string) (string, error) {
	if _, ok := errorDescriptions[reason]; !ok {
		return "", fmt.Errorf("op: abort: unknown reason %q", reason)
	}
	if _, _, err := p.liveRequest(ctx, id); err != nil {
		return "", err
	}
	return p.end(ctx, id, reason)
}

// end marks the request as ended with an error and returns the callback
// URL that delivers it.
func (p *Provider) end(ctx context.Context, id, reason string) (string, error) {
	_, err := p.st.UpdateAuthRequest(ctx, id, func(ar store.AuthRequest) (store.AuthRequest, error) {
		if len(ar.CodeHash) > 0 || ar.Error != "" {
			return ar, ErrUnknownRequest
		}
		ar.Done, ar.Error = true, reason
		return ar, nil
	})
	if errors.Is(err, ErrUnknownRequest) || errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w %q", ErrUnknownRequest, id)
	}
	if err != nil {
		return "", fmt.Errorf("op: end authorization request: %w", err)
	}
	return p.absolute(PathCallback, url.Values{"id": {id}}), nil
}

// Consent records that the account allows the client scopes, adding them
// to what it allowed before. The consent page calls it when the user says
// yes, then calls Complete again.
func (p *Provider) Consent(ctx context.Context, accountID, clientID string, scopes []string) error {
	prev, err := p.st.GetConsent(ctx, accountID, clientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("op: consent: %w", err)
	}
	all := slices.Clone(prev.Scopes)
	for _, s := range scopes {
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	err = p.st.SetConsent(ctx, store.Consent{AccountID: accountID, ClientID: clientID, Scopes: all, GrantedAt: p.now()})
	if err != nil {
		return fmt.Errorf("op: consent: %w", err)
	}
	return nil
}

// Consents lists what the account has allowed which clients (ASVS 10.7.3).
func (p *Provider) Consents(ctx context.Context, accountID string) ([]store.Consent, error) {
	list, err := p.st.ListConsents(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	return list, nil
}

// RevokeConsent withdraws the account's consent for the client and
// revokes every grant (and so every token) the client holds for the
// account (ASVS 10.4.9, 10.7.3). Revoking a consent that does not exist
// still revokes the grants and is not an error.
func (p *Provider) RevokeConsent(ctx context.Context, accountID, clientID string) error {
	if err := p.st.DeleteConsent(ctx, accountID, clientID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("op: revoke consent: %w", err)
	}
	if _, err := p.st.RevokeGrants(ctx, store.GrantFilter{AccountID: accountID, ClientID: clientID}, p.now()); err != nil {
		return fmt.Errorf("op: revoke consent: %w", err)
	}
	return nil
}

// RevokeAccount revokes every grant of the account, and with them every
// access and refresh token any client holds for it: for a password
// change, a disabled account or "sign out everywhere" (ASVS 7.4.1).
func (p *Provider) RevokeAccount(ctx context.Context, accountID string) error {
	if _, err := p.st.RevokeGrants(ctx, store.GrantFilter{AccountID: accountID}, p.now()); err != nil {
		return fmt.Errorf("op: revoke grants of %q: %w", accountID, err)
	}
	return nil
}
