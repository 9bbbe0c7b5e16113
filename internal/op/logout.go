package op

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and
// back-channel logout (OpenID Connect Back-Channel Logout 1.0).
//
// /end_session with a valid, unexpired id_token_hint whose sid names a
// live session of its subject ends that session at once: the hint shows the request
// comes from the relying party the user signed in to. Without one the
// browser goes to Deps.LogoutURL, a page that asks the user and then calls
// EndSession, so that a link on another site cannot sign anybody out
// (ASVS 10.6.2). A post_logout_redirect_uri must be registered for the
// client, exactly; it is never followed otherwise.

// logoutState is what /end_session hands the confirmation page, sealed.
type logoutState struct {
	Redirect string    `json:"r,omitempty"`
	Expires  time.Time `json:"e"`
}

const logoutAD = "oidc-logout-request"

// EndSession serves /end_session.
func (s *server) EndSession(ctx context.Context, r *zop.Request[oidc.EndSessionRequest]) (*zop.Redirect, error) {
	p := s.p
	req := r.Data
	var claims *oidc.IDTokenClaims
	// fresh: the hint verified and has not expired. Only a fresh hint
	// ends a session at once; an expired one still names its client (its
	// signature verified), and one that does not verify is ignored: both
	// go to the page that asks (issue 10, finding 11).
	fresh := false
	if req.IdTokenHint != "" {
		c, err := zop.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, req.IdTokenHint, p.zp.IDTokenHintVerifier(ctx))
		var expired zop.IDTokenHintExpiredError
		switch {
		case err == nil:
			// Expiry by the provider's clock too (the verifier reads the
			// system's).
			claims, fresh = c, p.now().Before(c.GetExpiration())
		case errors.As(err, &expired) && c != nil:
			claims = c
		}
	}
	if claims != nil {
		azp := claims.AuthorizedParty
		if azp == "" && len(claims.Audience) == 1 {
			azp = claims.Audience[0]
		}
		if req.ClientID != "" && req.ClientID != azp {
			return nil, oidc.ErrInvalidRequest().WithDescription("client_id is not the id_token_hint's client")
		}
		req.ClientID = azp
	}
	redirect := ""
	if req.PostLogoutRedirectURI != "" {
		if req.ClientID == "" {
			return nil, oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri needs client_id or id_token_hint")
		}
		c, err := p.client(ctx, req.ClientID)
		if errors.Is(err, ErrUnknownClient) {
			return nil, oidc.ErrInvalidRequest().WithDescription("client_id names no client")
		}
		if err != nil {
			return nil, err
		}
		if !matchURI(c.c.PostLogoutRedirectURIs, c.c.Public, req.PostLogoutRedirectURI) {
			return nil, oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri is not registered for the client (compared exactly)")
		}
		u, _ := url.Parse(req.PostLogoutRedirectURI)
		if req.State != "" {
			q := u.Query()
			q.Set("state", req.State)
			u.RawQuery = q.Encode()
		}
		redirect = u.String()
	}
	if fresh && claims.SessionID != "" {
		sess, err := p.st.GetSession(ctx, claims.SessionID)
		switch {
		case err == nil && sess.AccountID == claims.Subject:
			if err := p.endBrowserSession(ctx, sess.ID); err != nil {
				return nil, err
			}
			if redirect == "" {
				redirect = p.logoutURL("")
			}
			return zop.NewRedirect(redirect), nil
		case errors.Is(err, store.ErrNotFound):
			// Signed out already; say so, and go where the client wants.
			if redirect == "" {
				redirect = p.logoutURL("")
			}
			return zop.NewRedirect(redirect), nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("op: %w", err)
		}
	}
	token, err := p.sealLogout(logoutState{Redirect: redirect, Expires: p.now().Add(p.cfg.AuthRequestTTL)})
	if err != nil {
		return nil, err
	}
	return zop.NewRedirect(p.logoutURL(token)), nil
}

func (p *Provider) sealLogout(lr logoutState) (string, error) {
	b, err := json.Marshal(lr)
	if err != nil {
		return "", fmt.Errorf("op: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(p.sealer.Seal(b, []byte(logoutAD))), nil
}

// ErrBadLogoutRequest is returned (wrapped) by EndSession for a logout
// request that is not one of this provider's, or has expired.
var ErrBadLogoutRequest = errors.New("op: invalid or expired logout request")

// EndSession is the logout confirmation page's call once the user said
// yes: it ends the browser's session sess (nil if it has none; the page
// also clears its cookie), sends back-channel logout tokens to the
// clients of that session, and returns where to send the browser: the
// client's post_logout_redirect_uri from logoutRequest (as /end_session
// checked it), or "" for the page's own "you are signed out". An empty
// logoutRequest is fine (a plain "sign out" button). The error wraps
// ErrBadLogoutRequest if logoutRequest is forged or expired; the session
// is not ended then.
func (p *Provider) EndSession(ctx context.Context, logoutRequest string, sess *store.Session) (string, error) {
	var lr logoutState
	if logoutRequest != "" {
		sealed, err := base64.RawURLEncoding.DecodeString(logoutRequest)
		if err != nil {
			return "", ErrBadLogoutRequest
		}
		b, err := p.sealer.Open(sealed, []byte(logoutAD))
		if err != nil || json.Unmarshal(b, &lr) != nil || !p.now().Before(lr.Expires) {
			return "", ErrBadLogoutRequest
		}
	}
	if sess != nil {
		if err := p.endBrowserSession(ctx, sess.ID); err != nil {
			return "", err
		}
	}
	return lr.Redirect, nil
}

// endBrowserSession deletes the session and logs its clients out.
func (p *Provider) endBrowserSession(ctx context.Context, sessionID string) error {
	if err := p.st.DeleteSession(ctx, sessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("op: end session: %w", err)
	}
	if err := p.BackChannelLogout(ctx, sessionID); err != nil {
		p.log.Warn("back-channel logout", "err", err)
	}
	return nil
}

// BackChannelLogout tells the clients the user signed in to in the
// session that it has ended: it revokes the session's grants that were
// not for offline access (offline_access outlives the session, OIDC Core
// §11), and posts a logout token (typ logout+jwt, with sub, sid and the
// back-channel logout event, no nonce) to every such client that has a
// BackChannelLogoutURI: through the outbox, with retries, when
// Deps.LogoutQueued is set, else at once, in parallel, each bounded by
// BackChannelLogoutTimeout. Call it whenever a browser session ends other
// than through EndSession (sign-out button, "sign out this device",
// expiry sweep). The error joins the deliveries that failed; the others
// went out regardless.
func (p *Provider) BackChannelLogout(ctx context.Context, sessionID string) error {
	grants, err := p.st.ListGrants(ctx, store.GrantFilter{SessionID: sessionID})
	if err != nil {
		return fmt.Errorf("op: back-channel logout: %w", err)
	}
	now := p.now()
	type target struct{ clientID, subject string }
	var targets []target
	for _, g := range grants {
		if g.RevokedAt.IsZero() && !slices.Contains(g.Scopes, oidc.ScopeOfflineAccess) {
			if _, err := p.st.RevokeGrants(ctx, store.GrantFilter{ID: g.ID}, now); err != nil {
				return fmt.Errorf("op: back-channel logout: %w", err)
			}
		}
		t := target{g.ClientID, g.AccountID}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	if p.logoutQueued != nil {
		var errs []error
		for _, t := range targets {
			if err := p.queueLogout(ctx, t.clientID, t.subject, sessionID); err != nil {
				errs = append(errs, fmt.Errorf("client %q: %w", t.clientID, err))
			}
		}
		p.logoutQueued()
		return errors.Join(errs...)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, t := range targets {
		c, err := p.client(ctx, t.clientID)
		if err != nil || c.c.BackChannelLogoutURI == "" {
			continue
		}
		wg.Go(func() {
			if err := p.sendLogoutToken(ctx, c, t.subject, sessionID); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("client %q: %w", c.c.ID, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendLogoutToken posts one logout token.
func (p *Provider) sendLogoutToken(ctx context.Context, c *client, subject, sessionID string) error {
	k := p.ring.Load().signer(c.c.SigningAlg, p.now())
	if k == nil {
		return fmt.Errorf("no %s signing key", c.c.SigningAlg)
	}
	now := p.now()
	claims := oidc.NewLogoutTokenClaims(p.cfg.Issuer, subject, oidc.Audience{c.c.ID}, now.Add(2*time.Minute),
		secret.ID(), sessionID, 0)
	claims.IssuedAt = oidc.FromTime(now)
	payload, err := json.Marshal(claims)
	if err != nil {
		return err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return err
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.BackChannelLogoutTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.c.BackChannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s answered %s", c.c.BackChannelLogoutURI, resp.Status)
	}
	return nil
}

// LogoutGiveUp is how long a queued back-channel logout is retried: a
// client that has not taken it within a day has long since timed the
// session out itself, and the token would be stale.
const LogoutGiveUp = 24 * time.Hour

// queueLogout puts a back-channel logout for the client in the outbox.
func (p *Provider) queueLogout(ctx context.Context, clientID, subject, sessionID string) error {
	c, err := p.client(ctx, clientID)
	if err != nil || c.c.BackChannelLogoutURI == "" {
		return nil
	}
	body, err := json.Marshal(store.Logout{Subject: subject, SessionID: sessionID})
	if err != nil {
		return err
	}
	now := p.now()
	return p.st.EnqueueMessage(ctx, store.Message{
		ID: strings.ToLower(rand.Text()), Channel: store.ChannelLogout, To: clientID, Text: string(body),
		CreatedAt: now, NextAttemptAt: now,
	})
}

// DeliverLogout delivers a store.ChannelLogout message from the outbox
// (a notify.Transport for that channel): it signs a fresh logout token and
// posts it to the client's BackChannelLogoutURI. An error makes the worker
// retry with backoff. A message for a client that is gone or has no
// back-channel URI any more, or older than LogoutGiveUp, is dropped
// (logged) rather than retried.
func (p *Provider) DeliverLogout(ctx context.Context, m store.Message) error {
	if m.Channel != store.ChannelLogout {
		return fmt.Errorf("op: not a back-channel logout message (channel %q)", m.Channel)
	}
	var l store.Logout
	if err := json.Unmarshal([]byte(m.Text), &l); err != nil || l.Subject == "" || l.SessionID == "" {
		p.log.Warn("back-channel logout dropped: unreadable message", "message_id", m.ID)
		return nil
	}
	if p.now().Sub(m.CreatedAt) > LogoutGiveUp {
		p.log.Warn("back-channel logout dropped: not delivered in time", "message_id", m.ID, "client", m.To,
			"attempts", m.Attempts, "last_error", m.LastError)
		return nil
	}
	c, err := p.client(ctx, m.To)
	if errors.Is(err, ErrUnknownClient) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("op: back-channel logout: %w", err)
	}
	if c.c.BackChannelLogoutURI == "" {
		return nil
	}
	if err := p.sendLogoutToken(ctx, c, l.Subject, l.SessionID); err != nil {
		return fmt.Errorf("op: back-channel logout to %q: %w", m.To, err)
	}
	return nil
}
