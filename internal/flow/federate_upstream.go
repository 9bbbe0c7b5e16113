package flow

import (
	"context"
	"slices"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/upstream"
)

// What an upstream means after sign-in: logging out at the provider, and the
// services that need a sign-in through one.

// UpstreamLogoutURL returns where to send the browser after sess was
// signed out, so that the upstream it came through (ID-porten) ends its
// session too, and comes back to postLogout; "" when the session came
// through none, or the upstream has no logout endpoint.
func (s *Service) UpstreamLogoutURL(ctx context.Context, sess store.Session, postLogout string) (string, error) {
	up, ok := s.Upstreams.Find(sess.Via.Upstream)
	if !ok || len(sess.Via.IDTokenSealed) == 0 || s.Sealer == nil {
		return "", nil
	}
	lo, ok := up.Connector.(upstream.Logouter)
	if !ok {
		return "", nil
	}
	idToken, err := s.Sealer.Open(sess.Via.IDTokenSealed, []byte("upstream-id-token:"+up.Config.ID))
	if err != nil {
		return "", nil // a token sealed under an old key: sign out here only
	}
	u, err := lo.LogoutURL(ctx, string(idToken), postLogout, "")
	if err != nil {
		s.log().Warn("upstream logout unavailable", "provider", up.Config.ID, "err", err)
		return "", nil
	}
	return u, nil
}

// ServiceNeeds says what the named service (services: in the
// configuration) needs of a browser with session sess (nil when signed
// out): nil when the session came through the service's upstream at its
// level or higher; otherwise the upstream to sign in with and the acr
// values to ask it for. An unknown service is a NotFound problem.
func (s *Service) ServiceNeeds(name string, sess *store.Session) (*Upstream, []string, error) {
	var svc upstream.Service
	ok := s.Upstreams != nil
	if ok {
		svc, ok = s.Upstreams.Services[name]
	}
	up, found := s.Upstreams.Find(svc.Via)
	if !ok || !found {
		return nil, nil, problem.New(problem.NotFound, "", "federate.unknown_service", nil)
	}
	if sess != nil && svc.Accepts(up.Config, sess.Via.Upstream, sess.Via.ACR) {
		return nil, nil, nil
	}
	var acr []string
	if svc.MinACR != "" {
		ladder := up.Config.ACRLadder()
		acr = ladder[slices.Index(ladder, svc.MinACR):]
	}
	return &up, acr, nil
}
