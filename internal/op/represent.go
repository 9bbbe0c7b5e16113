package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Acting on behalf of someone (docs/representation.md).
//
// A person who represents others chooses, after signing in, whom they act
// for; the browser session keeps the choice (store.Session.ActingFor).
// An app that asks for the scope "represent" gets the choice in its
// grant (store.Grant.ActingFor) when it redeems the code, and then:
//
//   - ID token, userinfo, JWT access token and introspection carry
//     "act": {"sub": <the person>} and "represented": {…} (the party);
//     "sub" stays the person who signed in. OpenID Connect's sub is the
//     End-User who authenticated, and an app keys its session on it: a
//     guardian acting for a child is still the guardian, and must not
//     become "the child" in the app's user table.
//   - RFC 8693 token exchange (grant type GrantTokenExchange, for clients
//     allowed it) turns such an access token into one for the party:
//     "sub" is the represented party and "act" the person, as RFC 8693
//     §4.1 puts delegation, with the scope limited to the delegation's
//     rights. This is the token for a service that acts on the party's
//     records (the application for the child).
//
// The delegation is checked on every use: a token whose delegation was
// revoked or expired, or whose agent no longer holds it, introspects
// inactive, gets invalid_token at userinfo, and its refresh token and
// token exchange are refused.

// ScopeRepresent asks for the represented party in tokens.
const ScopeRepresent = "represent"

// GrantTokenExchange is RFC 8693's grant type.
const GrantTokenExchange = string(oidc.GrantTypeTokenExchange)

// Representation is what the provider asks about delegations
// (account.Delegations).
type Representation interface {
	// ActiveFor returns the delegation if agentID may act under it now,
	// or an error (problem NotFound) if not.
	ActiveFor(ctx context.Context, agentID, id string) (store.Delegation, error)
	// NationalID opens a person principal's national identity number, or
	// "".
	NationalID(d store.Delegation) string
}

// SetRepresentation makes the provider put the represented party in the
// tokens of apps that ask for ScopeRepresent. Without it no token
// represents anyone. Call it before serving.
func (p *Provider) SetRepresentation(r Representation) { p.rep = r }

// errRepresentationEnded: the grant acts for a party it may no longer
// act for.
var errRepresentationEnded = errors.New("the representation has ended")

// actingFor returns the delegation a grant acts under, nil if it acts for
// the person themselves, or errRepresentationEnded.
func (p *Provider) actingFor(ctx context.Context, g *store.Grant) (*store.Delegation, error) {
	if g == nil || g.ActingFor == "" || g.ActingFor == store.ActingSelf {
		return nil, nil
	}
	if p.rep == nil {
		return nil, errRepresentationEnded
	}
	d, err := p.rep.ActiveFor(ctx, g.AccountID, g.ActingFor)
	if _, ok := problem.As(err); ok {
		return nil, errRepresentationEnded
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	return &d, nil
}

// PrincipalSubject is the subject of a represented party: the account ID
// of an account, else the delegation's principal reference (a keyed hash
// for a person: stable, and no national identity number).
func PrincipalSubject(d store.Delegation) string {
	if d.PrincipalAccountID != "" {
		return d.PrincipalAccountID
	}
	return d.PrincipalRef
}

// representedClaim is the "represented" claim.
func (p *Provider) representedClaim(d store.Delegation) map[string]any {
	typ := "person"
	if d.PrincipalKind == store.PrincipalOrganisation {
		typ = "organisation"
	}
	c := map[string]any{"sub": PrincipalSubject(d), "type": typ, "delegation": d.ID}
	if d.PrincipalName != "" {
		c["name"] = d.PrincipalName
	}
	if typ == "organisation" {
		c["orgno"] = d.PrincipalMasked
	} else if pid := p.rep.NationalID(d); pid != "" {
		c["pid"] = pid
	} else if d.PrincipalKind == store.PrincipalPerson && d.PrincipalMasked != "" {
		c["birthdate"] = d.PrincipalMasked
	}
	if len(d.Rights) > 0 {
		c["rights"] = slices.Clone(d.Rights)
	}
	if !d.ExpiresAt.IsZero() {
		c["exp"] = d.ExpiresAt.Unix()
	}
	return c
}

// representClaims returns "act" and "represented" for a grant with scopes
// that acts for someone, none otherwise, or errRepresentationEnded.
func (p *Provider) representClaims(ctx context.Context, g *store.Grant, scopes []string) (map[string]any, error) {
	if g == nil || !slices.Contains(scopes, ScopeRepresent) {
		return nil, nil
	}
	d, err := p.actingFor(ctx, g)
	if err != nil || d == nil {
		return nil, err
	}
	return map[string]any{"act": map[string]any{"sub": g.AccountID}, "represented": p.representedClaim(*d)}, nil
}

// grantActingFor is what a new grant records: the session's choice, if
// the app asked for ScopeRepresent and the delegation is in force.
func (p *Provider) grantActingFor(ctx context.Context, ar store.AuthRequest) (string, error) {
	if !slices.Contains(ar.Scopes, ScopeRepresent) || p.rep == nil {
		return "", nil
	}
	sess, err := p.st.GetSession(ctx, ar.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("op: %w", err)
	}
	g := &store.Grant{AccountID: ar.AccountID, ActingFor: sess.ActingFor}
	d, err := p.actingFor(ctx, g)
	if err != nil || d == nil {
		return "", err
	}
	return d.ID, nil
}

// --- RFC 8693 token exchange ----------------------------------------------

// exchangeClaims are the claims of an exchanged access token.
type exchangeClaims struct {
	Issuer      string         `json:"iss"`
	Subject     string         `json:"sub"`
	Audience    oidc.Audience  `json:"aud"`
	Expiry      int64          `json:"exp"`
	IssuedAt    int64          `json:"iat"`
	NotBefore   int64          `json:"nbf"`
	ID          string         `json:"jti"`
	ClientID    string         `json:"client_id"`
	Scope       string         `json:"scope"`
	Act         map[string]any `json:"act"`
	Represented map[string]any `json:"represented"`
}

// TokenExchange answers RFC 8693 token exchange for a confidential client
// allowed GrantTokenExchange: the subject token is a live access token of
// a user that acts for someone (issued to this client or naming it in
// its audience, with the scope represent); the answer is a JWT access
// token whose sub is the represented party and whose act is the person,
// with a scope within the delegation's rights. The token is recorded
// under the user's grant, so revoking the grant, or the delegation,
// ends it too.
func (s *server) TokenExchange(ctx context.Context, r *zop.ClientRequest[oidc.TokenExchangeRequest]) (*zop.Response, error) {
	p := s.p
	c := clientOf(r.Client)
	if c == nil || c.c.Public || !c.hasGrant(GrantTokenExchange) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client may not use token exchange")
	}
	in := r.Data
	if in.SubjectTokenType != oidc.AccessTokenType {
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token_type must be %s", oidc.AccessTokenType)
	}
	if in.ActorToken != "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("actor_token is not accepted: the actor is the subject token's user")
	}
	if in.RequestedTokenType != "" && in.RequestedTokenType != oidc.AccessTokenType && in.RequestedTokenType != oidc.JWTTokenType {
		return nil, oidc.ErrInvalidRequest().WithDescription("only an access token can be issued")
	}
	t, err := p.lookupToken(ctx, in.SubjectToken, kindAccess)
	if err != nil {
		return nil, err
	}
	if t == nil || t.kind != kindAccess || t.grant == nil || (t.clientID != c.c.ID && !slices.Contains(t.audience, c.c.ID)) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the subject token is invalid, expired, or not a user's token for this client")
	}
	if !slices.Contains(t.scopes, ScopeRepresent) || t.grant.ActingFor == "" || t.grant.ActingFor == store.ActingSelf {
		return nil, oidc.ErrInvalidGrant().WithDescription("the subject token's user does not act for anyone")
	}
	if t.subject != t.grant.AccountID {
		return nil, oidc.ErrInvalidGrant().WithDescription("the subject token is already an exchanged token")
	}
	d, err := p.actingFor(ctx, t.grant)
	if errors.Is(err, errRepresentationEnded) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user no longer acts for that party")
	}
	if err != nil {
		return nil, err
	}
	scopes := slices.Clone(d.Rights)
	if len(in.Scopes) > 0 {
		scopes = nil
		for _, sc := range in.Scopes {
			if !slices.Contains(d.Rights, sc) {
				return nil, oidc.ErrInvalidScope().WithDescription("%q is not a right the user holds for that party", sc)
			}
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	audience := []string{c.c.ID}
	for _, a := range in.Audience {
		if a == c.c.ID || slices.Contains(audience, a) {
			continue
		}
		if _, err := p.client(ctx, a); err != nil {
			return nil, &oidc.Error{ErrorType: "invalid_target", Description: fmt.Sprintf("unknown audience %q", a)}
		}
		audience = append(audience, a)
		if len(audience) > 10 {
			return nil, &oidc.Error{ErrorType: "invalid_target", Description: "too many audiences"}
		}
	}
	now := p.now()
	exp := now.Add(c.accessTokenTTL())
	if !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(exp) {
		exp = d.ExpiresAt
	}
	if t.expiresAt.Before(exp) {
		exp = t.expiresAt
	}
	at := store.AccessToken{ID: secret.ID(), GrantID: t.grant.ID, ClientID: c.c.ID, Subject: PrincipalSubject(*d),
		Scopes: scopes, Audience: audience, CreatedAt: now, ExpiresAt: exp}
	token, err := p.signAccessJWT(ctx, c, exchangeClaims{
		Issuer: p.cfg.Issuer, Subject: at.Subject, Audience: audience, Expiry: exp.Unix(), IssuedAt: now.Unix(),
		NotBefore: now.Unix(), ID: at.ID, ClientID: c.c.ID, Scope: strings.Join(scopes, " "),
		Act: map[string]any{"sub": t.grant.AccountID}, Represented: p.representedClaim(*d),
	})
	if err != nil {
		return nil, err
	}
	if err := p.st.CreateAccessToken(ctx, at); err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	p.log.Info("token exchanged for a represented party", "client", c.c.ID, "grant", t.grant.ID, "delegation", d.ID)
	return zop.NewResponse(&oidc.TokenExchangeResponse{
		AccessToken: token, IssuedTokenType: oidc.AccessTokenType, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(max(exp.Sub(now)/time.Second, 0)), Scopes: scopes,
	}), nil
}

// signAccessJWT signs claims as a JWT access token (typ at+jwt, RFC 9068)
// with the client's algorithm.
func (p *Provider) signAccessJWT(_ context.Context, c *client, claims any) (string, error) {
	k := p.ring.Load().signer(c.c.SigningAlg, p.now())
	if k == nil {
		return "", fmt.Errorf("op: no %s signing key", c.c.SigningAlg)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
