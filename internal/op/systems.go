package op

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Tokens issued through end-user systems (issue 14, docs/systems.md).
//
// A person signed in through a system (flow.Systems) gets a grant whose
// ClientID is the system's ID ("sys-…"): its access token has sub = the
// person, scope = the rights granted, and introspection adds the RFC 8693
// actor claim act = {"sub": <system ID>}. Revoking the system revokes
// the grants (store.Systems.RevokeSystem), and a system that expired or
// was revoked makes its tokens introspect inactive however they were
// issued. Such tokens are always opaque: a resource server introspects
// them, so a revocation takes effect at once.

// systemIDPrefix is flow's prefix of system IDs (flow.IsSystemID); op
// does not import flow.
const systemIDPrefix = "sys-"

// SystemIssuer mints tokens for sign-ins through systems.
type SystemIssuer struct {
	P *Provider
	// Audience are the resource servers' client IDs whose introspection
	// sees the tokens.
	Audience []string
	// AccessTTL is the access token's lifetime; RefreshTTL, when
	// Refresh is set, the grant's.
	AccessTTL     time.Duration
	RefreshTokens bool
	RefreshTTL    time.Duration
	// MayUse, when set, is asked at every refresh whether the person may
	// still be signed in through the system (their switch, membership,
	// rights, account not locked); a problem ends the grant.
	MayUse func(ctx context.Context, systemID, accountID string) error
}

// SystemGrant is a finished sign-in through a system.
type SystemGrant struct {
	AccountID string
	SystemID  string
	Rights    []string
	AMR       []string
	AuthTime  time.Time
}

// SystemTokens is the token response (RFC 6749 §5.1 fields).
type SystemTokens struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	// AccountID is the person the tokens are for, for the audit log;
	// never sent.
	AccountID string `json:"-"`
}

func (si *SystemIssuer) accessTTL() time.Duration {
	if si.AccessTTL > 0 {
		return si.AccessTTL
	}
	return 10 * time.Minute
}

// Issue stores a grant through the system and returns its tokens. It
// fails (wrapping store.ErrNotFound) if the system was revoked meanwhile.
func (si *SystemIssuer) Issue(ctx context.Context, g SystemGrant) (SystemTokens, error) {
	p := si.P
	now := p.now()
	grant := store.Grant{
		ID: secret.ID(), ClientID: g.SystemID, AccountID: g.AccountID, SessionID: "",
		Scopes: slices.Clone(g.Rights), AuthTime: g.AuthTime, AMR: g.AMR, CreatedAt: now,
		ExpiresAt: now.Add(si.accessTTL()),
	}
	token := secret.Token()
	at := store.AccessToken{
		ID: tokenKey(token), GrantID: grant.ID, ClientID: g.SystemID, Subject: g.AccountID,
		Scopes: grant.Scopes, Audience: slices.Clone(si.Audience), CreatedAt: now, ExpiresAt: now.Add(si.accessTTL()),
	}
	out := SystemTokens{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(si.accessTTL() / time.Second),
		Scope: strings.Join(grant.Scopes, " "), IssuedTokenType: "urn:ietf:params:oauth:token-type:access_token"}
	var rt *store.RefreshToken
	if si.RefreshTokens && si.RefreshTTL > 0 {
		grant.ExpiresAt = now.Add(si.RefreshTTL)
		out.RefreshToken = secret.Token()
		rt = &store.RefreshToken{Hash: secret.Hash(out.RefreshToken), GrantID: grant.ID, Scopes: grant.Scopes,
			CreatedAt: now, ExpiresAt: grant.ExpiresAt}
	}
	if err := p.st.CreateSystemGrant(ctx, grant, at, rt); err != nil {
		return SystemTokens{}, fmt.Errorf("op: issue through system: %w", err)
	}
	return out, nil
}

// ErrRefreshInvalid is the answer to a refresh token that is unknown,
// used, expired, revoked, or not of the calling system.
var ErrRefreshInvalid = errors.New("op: the refresh token is invalid")

// Refresh rotates a refresh token of a grant through systemID: the old
// one is used up exactly once (a replay revokes the grant), and a new
// access and refresh token are returned.
func (si *SystemIssuer) Refresh(ctx context.Context, systemID, refresh string) (SystemTokens, error) {
	p := si.P
	now := p.now()
	old, g, err := p.st.GetRefreshToken(ctx, secret.Hash(refresh))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (g.ClientID != systemID || !g.RevokedAt.IsZero() || !now.Before(old.ExpiresAt))) {
		return SystemTokens{}, ErrRefreshInvalid
	}
	if err != nil {
		return SystemTokens{}, fmt.Errorf("op: %w", err)
	}
	if live, err := p.systemLive(ctx, systemID); err != nil {
		return SystemTokens{}, err
	} else if !live {
		return SystemTokens{}, ErrRefreshInvalid
	}
	if si.MayUse != nil {
		if err := si.MayUse(ctx, systemID, g.AccountID); err != nil {
			if _, ok := problem.As(err); !ok {
				return SystemTokens{}, err
			}
			if _, err := p.st.RevokeGrants(ctx, store.GrantFilter{ID: g.ID}, now); err != nil {
				return SystemTokens{}, fmt.Errorf("op: %w", err)
			}
			return SystemTokens{}, ErrRefreshInvalid
		}
	}
	token, next := secret.Token(), secret.Token()
	at := store.AccessToken{
		ID: tokenKey(token), GrantID: g.ID, ClientID: systemID, Subject: g.AccountID, Scopes: old.Scopes,
		Audience: slices.Clone(si.Audience), CreatedAt: now, ExpiresAt: minTime(now.Add(si.accessTTL()), g.ExpiresAt),
	}
	rt := store.RefreshToken{Hash: secret.Hash(next), GrantID: g.ID, Scopes: old.Scopes, CreatedAt: now, ExpiresAt: g.ExpiresAt}
	err = p.st.RotateRefreshToken(ctx, old.Hash, now, rt, at)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return SystemTokens{}, ErrRefreshInvalid
	}
	if err != nil {
		return SystemTokens{}, fmt.Errorf("op: %w", err)
	}
	return SystemTokens{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(at.ExpiresAt.Sub(now) / time.Second),
		Scope: strings.Join(old.Scopes, " "), RefreshToken: next, AccountID: g.AccountID}, nil
}

// systemLive reports whether the system exists, is not revoked and has
// not expired.
func (p *Provider) systemLive(ctx context.Context, id string) (bool, error) {
	sys, err := p.st.GetSystem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("op: %w", err)
	}
	return sys.Live(p.now()), nil
}

// systemActor returns the act claim of a token issued through a system,
// nil for any other token, and live false when the system is no longer
// live (the token then introspects inactive).
func (p *Provider) systemActor(ctx context.Context, t *tokenInfo) (act map[string]any, live bool, err error) {
	if t.grant == nil || !strings.HasPrefix(t.grant.ClientID, systemIDPrefix) {
		return nil, true, nil
	}
	if _, static := p.statics[t.grant.ClientID]; static {
		return nil, true, nil
	}
	if live, err = p.systemLive(ctx, t.grant.ClientID); err != nil || !live {
		return nil, false, err
	}
	return map[string]any{"sub": t.grant.ClientID}, true, nil
}

// RightsSource says which scopes are the deployment's rights and which of
// them a person holds for themselves (flow.Systems, wired in app).
type RightsSource interface {
	IsRight(name string) bool
	HeldRights(ctx context.Context, accountID string) ([]string, error)
}

// SetRights makes an app's token carry a right as a scope only when the
// person holds it: a code's scope loses the rights the person lacks when
// it is redeemed (the other scopes stay). Call it before serving.
func (p *Provider) SetRights(r RightsSource) { p.rights = r }

// heldScopes is scopes without the rights accountID does not hold.
func (p *Provider) heldScopes(ctx context.Context, accountID string, scopes []string) ([]string, error) {
	if p.rights == nil {
		return scopes, nil
	}
	var held []string
	loaded := false
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if p.rights.IsRight(s) {
			if !loaded {
				var err error
				if held, err = p.rights.HeldRights(ctx, accountID); err != nil {
					return nil, fmt.Errorf("op: rights: %w", err)
				}
				loaded = true
			}
			if !slices.Contains(held, s) {
				continue
			}
		}
		out = append(out, s)
	}
	return out, nil
}
