// Package upstream is what Portvakt knows of an upstream identity provider
// (ID-porten, Google, Microsoft Entra ID or ADFS, LinkedIn, GitHub,
// Facebook, or any OpenID Provider): a Connector builds the URL that sends
// the user there and turns the answer into an Identity. It knows nothing of
// pages, cookies or accounts; package flow keeps the state, nonce and PKCE
// verifier on a flow bound to the browser and decides what an Identity
// may do (docs/security/assurance.md, "Assurance from elsewhere").
//
// One package per kind of provider implements Connector, as dex's
// connectors do: upstream/oidc (generic OpenID Connect on zitadel/oidc's
// rp package, with presets idporten, google, microsoft and linkedin),
// upstream/github (OAuth 2.0 and the REST API) and upstream/facebook
// (OAuth 2.0 and the Graph API). upstream/connectors opens a Config with
// the right one; upstream/upstreamtest is a real OpenID Provider over HTTP
// for tests.
//
// # What an identity is keyed by
//
// An upstream identity is (provider ID, subject): never an email address
// (SECURITY.md §2.8, §5.7). For ID-porten the subject is pairwise per
// client, so the person's national identity number (the pid claim) is the
// key; package flow stores only a keyed hash of it for lookup, the number
// sealed, and a masked form to show.
//
// # Protocol hygiene
//
// Every OpenID connector validates the ID token in full (iss, aud, azp,
// exp, iat, nonce, signature with an algorithm allowlist: RS256 and ES256
// unless configured), sends a PKCE S256 challenge, and checks the RFC 9207
// iss parameter of the authorization response: a mismatch is refused, and
// so is a missing one when the provider advertises
// authorization_response_iss_parameter_supported. An email is reported
// verified only when the provider says so (email_verified true, GitHub's
// verified primary address); an absent claim is false.
package upstream

import (
	"context"
	"errors"
	"strings"
)

// Identity is what an upstream said about the person who signed in there.
type Identity struct {
	// Provider is the configured provider's ID ("idporten").
	Provider string
	// Issuer is the upstream's issuer (OpenID) or API base (OAuth 2.0).
	Issuer string
	// Subject is the upstream's stable identifier for the person.
	Subject string
	// Email is the upstream's address for the person; use it only when
	// EmailVerified is true.
	Email         string
	EmailVerified bool
	Name          string
	// ACR and AMR are the upstream's own acr and amr claims, copied.
	ACR string
	AMR []string
	// NationalID is a national identity number the upstream vouches for
	// (ID-porten's pid); empty when it gives none.
	NationalID string
	// IDToken is the raw ID token, kept only in memory for RP-initiated
	// logout; empty for OAuth 2.0 providers.
	IDToken string
}

// Key is the value an identity is linked by: the national ID where the
// provider gives one (its subject is pairwise), otherwise the subject.
func (id Identity) Key() string {
	if id.NationalID != "" {
		return id.NationalID
	}
	return id.Subject
}

// Request is one sign-in at an upstream, made by package flow and kept on
// a flow bound to the browser until the callback.
type Request struct {
	// State is the OAuth 2.0 state: at least 128 random bits, single use.
	State string
	// Nonce is the OpenID nonce the ID token must carry.
	Nonce string
	// Verifier is the PKCE code verifier (RFC 7636); the URL carries its
	// S256 challenge.
	Verifier string
	// ACRValues are asked for (acr_values); nil means the configured ones.
	ACRValues []string
	// Locales are the user's languages, best first (ui_locales).
	Locales []string
	// RedirectURI is the callback URL at Portvakt.
	RedirectURI string
}

// Response is the authorization response the browser brought back.
type Response struct {
	Code  string
	State string
	// Iss is the RFC 9207 iss parameter, empty when absent.
	Iss string
	// Error and ErrorDescription are the upstream's error, if it sent one
	// (the user cancelled, say).
	Error            string
	ErrorDescription string
}

// Connector is an upstream identity provider. Implementations are safe for
// concurrent use.
type Connector interface {
	// AuthURL returns where to send the browser to sign in.
	AuthURL(ctx context.Context, r Request) (string, error)
	// Exchange redeems the response's code and returns the identity it
	// proves. It checks the response's iss parameter, redeems the code with
	// r.Verifier and validates the ID token against r.Nonce. The caller has
	// already matched resp.State to r.State. Errors wrap ErrRefused when
	// the upstream's answer must not be trusted and ErrCancelled when the
	// upstream reported an error.
	Exchange(ctx context.Context, r Request, resp Response) (Identity, error)
}

// Logouter is a Connector that supports RP-initiated logout.
type Logouter interface {
	// LogoutURL returns where to send the browser to sign out at the
	// upstream, then back to postLogout; "" when it has no such endpoint.
	LogoutURL(ctx context.Context, idToken, postLogout, state string) (string, error)
}

// Checker is a Connector that can check its configuration against the
// provider (discovery) for `portvakt upstream check`.
type Checker interface {
	Check(ctx context.Context) error
}

var (
	// ErrRefused says the upstream's answer failed a check (issuer, nonce,
	// signature, audience, expiry, iss parameter, missing subject): it is
	// treated as an attack or a misconfiguration, and nothing is stored.
	ErrRefused = errors.New("upstream: answer refused")
	// ErrCancelled says the upstream answered with an error, usually
	// because the user cancelled there.
	ErrCancelled = errors.New("upstream: sign-in cancelled or failed at the provider")
)

// MaskNationalID shows the last five digits of a national identity number
// and hides the rest: "******12345" for an 11-digit fødselsnummer.
func MaskNationalID(id string) string {
	r := []rune(strings.TrimSpace(id))
	keep := 5
	if len(r) <= keep {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-keep) + string(r[len(r)-keep:])
}
