package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

func newClient(id string) store.Client {
	return store.Client{
		ID:                     id,
		SecretHash:             hash("secret of " + id),
		Name:                   "Client " + id,
		RedirectURIs:           []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		PostLogoutRedirectURIs: []string{"https://" + id + ".example/"},
		ThirdParty:             true,
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"api:read"},
		SigningAlg:             store.AlgES256,
		AccessTokenFormat:      store.TokenJWT,
		AccessTokenTTL:         5 * time.Minute,
		RefreshTokenTTL:        24 * time.Hour,
		BackChannelLogoutURI:   "https://" + id + ".example/logout",
		CreatedAt:              T0,
	}
}

func mustCreateClient(tb testing.TB, s store.Store, c store.Client) store.Client {
	tb.Helper()
	must(tb, "CreateClient("+c.ID+")", s.CreateClient(tb.Context(), c))
	return c
}

// newAuthRequest returns a done request of acct-1 for client-1 whose code
// is "code of <id>".
func newAuthRequest(id string) store.AuthRequest {
	return store.AuthRequest{
		ID:                  id,
		ClientID:            "client-1",
		RedirectURI:         "https://client-1.example/cb",
		Scopes:              []string{"openid", "profile", "offline_access"},
		State:               "state with spaces & symbols",
		Nonce:               "n-0S6_WzA2Mj",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		ResponseMode:        "query",
		Prompt:              []string{"login", "consent"},
		MaxAge:              -1,
		ACRValues:           []string{"urn:portvakt:level:3"},
		ACREssential:        true,
		UILocales:           []string{"nb", "en"},
		LoginHint:           "kari@example.no",
		HintSubject:         "acct-1",
		Done:                true,
		AccountID:           "acct-1",
		SessionID:           "sess-1",
		AuthTime:            T0.Add(-time.Minute),
		AMR:                 []string{"pwd", "otp", "mfa"},
		ACR:                 "urn:portvakt:level:3",
		CodeHash:            hash("code of " + id),
		CodeExpiresAt:       T0.Add(time.Minute),
		CreatedAt:           T0.Add(-2 * time.Minute),
		ExpiresAt:           T0.Add(time.Hour),
	}
}

func newGrant(id, accountID string) store.Grant {
	return store.Grant{
		ID:        id,
		ClientID:  "client-1",
		AccountID: accountID,
		SessionID: "sess-1",
		Scopes:    []string{"openid", "offline_access"},
		AuthTime:  T0.Add(-time.Minute),
		AMR:       []string{"pwd"},
		ACR:       "urn:portvakt:level:1",
		CreatedAt: T0,
		ExpiresAt: T0.Add(30 * 24 * time.Hour),
	}
}

func newAccessToken(id, grantID string) store.AccessToken {
	return store.AccessToken{
		ID:        id,
		GrantID:   grantID,
		ClientID:  "client-1",
		Subject:   "acct-1",
		Scopes:    []string{"openid"},
		Audience:  []string{"client-1"},
		CreatedAt: T0,
		ExpiresAt: T0.Add(10 * time.Minute),
	}
}

func newRefreshToken(name, grantID string) store.RefreshToken {
	return store.RefreshToken{
		Hash:      hash("refresh token " + name),
		GrantID:   grantID,
		Scopes:    []string{"openid", "offline_access"},
		CreatedAt: T0,
		ExpiresAt: T0.Add(24 * time.Hour),
	}
}

// redeemed sets up acct-1 with a done request "req-1" whose code was
// redeemed into grant "grant-1", and returns the grant.
func redeemed(tb testing.TB, s store.Store) store.Grant {
	tb.Helper()
	mustCreateAccount(tb, s, newAccount("acct-1", ""))
	must(tb, "CreateAuthRequest(req-1)", s.CreateAuthRequest(tb.Context(), newAuthRequest("req-1")))
	g := newGrant("grant-1", "acct-1")
	_, err := s.RedeemAuthCode(tb.Context(), hash("code of req-1"), g)
	must(tb, "RedeemAuthCode(code of req-1)", err)
	return g
}

func wantGrantRevoked(tb testing.TB, s store.Store, id string, revoked bool) {
	tb.Helper()
	g, err := s.GetGrant(tb.Context(), id)
	must(tb, "GetGrant("+id+")", err)
	if got := !g.RevokedAt.IsZero(); got != revoked {
		tb.Errorf("GetGrant(%s) revoked = %v (RevokedAt %v), want %v", id, got, g.RevokedAt, revoked)
	}
}

var oidcTests = []subtest{
	{"a client round-trips and its ID is unique", func(t *testing.T, s store.Store) {
		c := mustCreateClient(t, s, newClient("client-1"))
		got, err := s.GetClient(t.Context(), "client-1")
		must(t, "GetClient(client-1)", err)
		wantEqual(t, "GetClient(client-1)", got, c)
		wantErr(t, "CreateClient(client-1) again", s.CreateClient(t.Context(), newClient("client-1")), store.ErrConflict)
		_, err = s.GetClient(t.Context(), "nobody")
		wantErr(t, "GetClient(nobody)", err, store.ErrNotFound)
	}},
	{"a public client has no secret, and empty lists read back as nil", func(t *testing.T, s store.Store) {
		c := store.Client{ID: "spa", SecretHash: []byte{}, Public: true, RedirectURIs: []string{}, SigningAlg: store.AlgRS256, CreatedAt: T0}
		mustCreateClient(t, s, c)
		got, err := s.GetClient(t.Context(), "spa")
		must(t, "GetClient(spa)", err)
		c.SecretHash, c.RedirectURIs = nil, nil
		wantEqual(t, "GetClient(spa)", got, c)
	}},
	{"a list value with white space is refused", func(t *testing.T, s store.Store) {
		c := newClient("client-1")
		c.RedirectURIs = []string{"https://client-1.example/a b"}
		err := s.CreateClient(t.Context(), c)
		if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateClient(redirect URI with a space) = %v, want a plain error", err)
		}
		_, err = s.GetClient(t.Context(), "client-1")
		wantErr(t, "GetClient(client-1) after the refusal", err, store.ErrNotFound)
	}},
	{"clients are listed by ID and updated through an updater", func(t *testing.T, s store.Store) {
		for _, id := range []string{"b", "c", "a"} {
			mustCreateClient(t, s, newClient(id))
		}
		list, err := s.ListClients(t.Context())
		must(t, "ListClients()", err)
		wantEqual(t, "ListClients() IDs", ids(list, func(c store.Client) string { return c.ID }), []string{"a", "b", "c"})

		_, err = s.UpdateClient(t.Context(), "b", func(c store.Client) (store.Client, error) {
			c.Name = "changed"
			return c, errBoom
		})
		wantErr(t, "UpdateClient(b) with a failing updater", err, errBoom)
		upd, err := s.UpdateClient(t.Context(), "b", func(c store.Client) (store.Client, error) {
			c.Name, c.SecretHash, c.AccessTokenTTL = "renamed", hash("new secret"), 90*time.Second+time.Microsecond
			return c, nil
		})
		must(t, "UpdateClient(b)", err)
		got, err := s.GetClient(t.Context(), "b")
		must(t, "GetClient(b)", err)
		wantEqual(t, "GetClient(b) after the update", got, upd)
		wantEqual(t, "GetClient(b).Name", got.Name, "renamed")
		wantEqual(t, "GetClient(b).AccessTokenTTL", got.AccessTokenTTL, 90*time.Second)
		_, err = s.UpdateClient(t.Context(), "nobody", func(c store.Client) (store.Client, error) { return c, nil })
		wantErr(t, "UpdateClient(nobody)", err, store.ErrNotFound)
	}},
	{"deleting a client deletes its grants, tokens, consents and requests", func(t *testing.T, s store.Store) {
		mustCreateClient(t, s, newClient("client-1"))
		mustCreateClient(t, s, newClient("client-2"))
		g := redeemed(t, s)
		must(t, "CreateAccessToken(at-1)", s.CreateAccessToken(t.Context(), newAccessToken("at-1", g.ID)))
		must(t, "SetConsent", s.SetConsent(t.Context(), store.Consent{AccountID: "acct-1", ClientID: "client-1", Scopes: []string{"openid"}, GrantedAt: T0}))
		must(t, "SetConsent(client-2)", s.SetConsent(t.Context(), store.Consent{AccountID: "acct-1", ClientID: "client-2", GrantedAt: T0}))

		must(t, "DeleteClient(client-1)", s.DeleteClient(t.Context(), "client-1"))
		_, err := s.GetGrant(t.Context(), g.ID)
		wantErr(t, "GetGrant after DeleteClient", err, store.ErrNotFound)
		_, _, err = s.GetAccessToken(t.Context(), "at-1")
		wantErr(t, "GetAccessToken after DeleteClient", err, store.ErrNotFound)
		_, err = s.GetConsent(t.Context(), "acct-1", "client-1")
		wantErr(t, "GetConsent after DeleteClient", err, store.ErrNotFound)
		_, err = s.GetAuthRequest(t.Context(), "req-1")
		wantErr(t, "GetAuthRequest after DeleteClient", err, store.ErrNotFound)
		_, err = s.GetConsent(t.Context(), "acct-1", "client-2")
		must(t, "GetConsent(client-2) after deleting client-1", err)
		wantErr(t, "DeleteClient(client-1) again", s.DeleteClient(t.Context(), "client-1"), store.ErrNotFound)
	}},
	{"an authorization request round-trips and its code finds it", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		r := newAuthRequest("req-1")
		must(t, "CreateAuthRequest(req-1)", s.CreateAuthRequest(t.Context(), r))
		got, err := s.GetAuthRequest(t.Context(), "req-1")
		must(t, "GetAuthRequest(req-1)", err)
		wantEqual(t, "GetAuthRequest(req-1)", got, r)
		got, err = s.GetAuthRequestByCode(t.Context(), hash("code of req-1"))
		must(t, "GetAuthRequestByCode(code of req-1)", err)
		wantEqual(t, "GetAuthRequestByCode(code of req-1)", got, r)
		wantErr(t, "CreateAuthRequest(req-1) again", s.CreateAuthRequest(t.Context(), r), store.ErrConflict)

		// A request still at the login page: no account, no code.
		fresh := store.AuthRequest{ID: "req-2", ClientID: "client-1", MaxAge: 0, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
		must(t, "CreateAuthRequest(req-2)", s.CreateAuthRequest(t.Context(), fresh))
		got, err = s.GetAuthRequest(t.Context(), "req-2")
		must(t, "GetAuthRequest(req-2)", err)
		wantEqual(t, "GetAuthRequest(req-2)", got, fresh)
		for name, h := range map[string][]byte{"nil": nil, "an unknown code": hash("nothing")} {
			_, err = s.GetAuthRequestByCode(t.Context(), h)
			wantErr(t, "GetAuthRequestByCode("+name+")", err, store.ErrNotFound)
		}

		// Issuing req-2 the code of req-1 is a conflict; its own code is not.
		_, err = s.UpdateAuthRequest(t.Context(), "req-2", func(r store.AuthRequest) (store.AuthRequest, error) {
			r.CodeHash = hash("code of req-1")
			return r, nil
		})
		wantErr(t, "UpdateAuthRequest(req-2, the code of req-1)", err, store.ErrConflict)
		upd, err := s.UpdateAuthRequest(t.Context(), "req-2", func(r store.AuthRequest) (store.AuthRequest, error) {
			r.Done, r.AccountID, r.AuthTime, r.AMR, r.Error = true, "acct-1", T0, []string{"pwd"}, "login_required"
			r.CodeHash, r.CodeExpiresAt = hash("code of req-2"), T0.Add(time.Minute)
			return r, nil
		})
		must(t, "UpdateAuthRequest(req-2)", err)
		got, err = s.GetAuthRequestByCode(t.Context(), hash("code of req-2"))
		must(t, "GetAuthRequestByCode(code of req-2)", err)
		wantEqual(t, "GetAuthRequestByCode(code of req-2)", got, upd)
		_, err = s.UpdateAuthRequest(t.Context(), "req-2", func(r store.AuthRequest) (store.AuthRequest, error) {
			r.GrantID = "grant-x"
			return r, nil
		})
		if err == nil {
			t.Errorf("UpdateAuthRequest(req-2) setting GrantID = nil error, want one")
		}
		must(t, "DeleteAuthRequest(req-2)", s.DeleteAuthRequest(t.Context(), "req-2"))
		wantErr(t, "DeleteAuthRequest(req-2) again", s.DeleteAuthRequest(t.Context(), "req-2"), store.ErrNotFound)
	}},
	{"a code is redeemed once, and a replay revokes the grant and its tokens", func(t *testing.T, s store.Store) {
		g := redeemed(t, s)
		r, err := s.GetAuthRequest(t.Context(), "req-1")
		must(t, "GetAuthRequest(req-1)", err)
		wantEqual(t, "GetAuthRequest(req-1).GrantID", r.GrantID, g.ID)
		got, err := s.GetGrant(t.Context(), g.ID)
		must(t, "GetGrant(grant-1)", err)
		wantEqual(t, "GetGrant(grant-1)", got, g)
		must(t, "CreateAccessToken(at-1)", s.CreateAccessToken(t.Context(), newAccessToken("at-1", g.ID)))
		must(t, "CreateRefreshToken(rt-1)", s.CreateRefreshToken(t.Context(), newRefreshToken("rt-1", g.ID), newAccessToken("at-2", g.ID)))

		replay := newGrant("grant-2", "acct-1")
		replay.CreatedAt = T0.Add(time.Second)
		_, err = s.RedeemAuthCode(t.Context(), hash("code of req-1"), replay)
		wantErr(t, "RedeemAuthCode(code of req-1) again", err, store.ErrConflict)
		got, err = s.GetGrant(t.Context(), g.ID)
		must(t, "GetGrant(grant-1) after the replay", err)
		wantEqual(t, "GetGrant(grant-1).RevokedAt after the replay", got.RevokedAt, replay.CreatedAt)
		_, err = s.GetGrant(t.Context(), "grant-2")
		wantErr(t, "GetGrant(grant-2), the replay's grant", err, store.ErrNotFound)
		for _, id := range []string{"at-1", "at-2"} {
			_, _, err = s.GetAccessToken(t.Context(), id)
			wantErr(t, "GetAccessToken("+id+") after the replay", err, store.ErrNotFound)
		}
		_, err = s.RedeemAuthCode(t.Context(), hash("no such code"), newGrant("grant-3", "acct-1"))
		wantErr(t, "RedeemAuthCode(an unknown code)", err, store.ErrNotFound)
	}},
	{"a code redeemed twenty times in parallel is redeemed exactly once", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		must(t, "CreateAuthRequest(req-1)", s.CreateAuthRequest(t.Context(), newAuthRequest("req-1")))
		grantID := func(i int) string { return fmt.Sprintf("grant-%d", i) }
		won, replays := race(t, 20, "RedeemAuthCode", func(err error) bool { return errors.Is(err, store.ErrConflict) }, func(i int) error {
			_, err := s.RedeemAuthCode(t.Context(), hash("code of req-1"), newGrant(grantID(i), "acct-1"))
			return err
		})
		var winners []string
		for _, i := range won {
			winners = append(winners, grantID(i))
		}
		if len(winners) != 1 || replays != 19 {
			t.Fatalf("of 20 parallel redemptions, %d succeeded and %d were replays; want 1 and 19", len(winners), replays)
		}
		// Every later redemption was a replay, so the winner's grant is revoked.
		wantGrantRevoked(t, s, winners[0], true)
		list, err := s.ListGrants(t.Context(), store.GrantFilter{AccountID: "acct-1"})
		must(t, "ListGrants(acct-1)", err)
		wantEqual(t, "ListGrants(acct-1) IDs", ids(list, func(g store.Grant) string { return g.ID }), winners)
	}},
	{"an access token of a revoked grant is not found", func(t *testing.T, s store.Store) {
		g := redeemed(t, s)
		at := newAccessToken("at-1", g.ID)
		must(t, "CreateAccessToken(at-1)", s.CreateAccessToken(t.Context(), at))
		wantErr(t, "CreateAccessToken(at-1) again", s.CreateAccessToken(t.Context(), at), store.ErrConflict)
		wantErr(t, "CreateAccessToken of an unknown grant", s.CreateAccessToken(t.Context(), newAccessToken("at-x", "nogrant")), store.ErrNotFound)
		cc := newAccessToken("cc-1", "")
		cc.Subject, cc.Audience = "client-1", nil
		must(t, "CreateAccessToken(cc-1)", s.CreateAccessToken(t.Context(), cc))

		got, gotG, err := s.GetAccessToken(t.Context(), "at-1")
		must(t, "GetAccessToken(at-1)", err)
		wantEqual(t, "GetAccessToken(at-1)", got, at)
		wantEqual(t, "GetAccessToken(at-1) grant", gotG, g)
		got, gotG, err = s.GetAccessToken(t.Context(), "cc-1")
		must(t, "GetAccessToken(cc-1)", err)
		wantEqual(t, "GetAccessToken(cc-1)", got, cc)
		wantEqual(t, "GetAccessToken(cc-1) grant", gotG, store.Grant{})

		n, err := s.RevokeGrants(t.Context(), store.GrantFilter{ID: g.ID}, T0.Add(time.Minute))
		must(t, "RevokeGrants(grant-1)", err)
		wantEqual(t, "RevokeGrants(grant-1) count", n, 1)
		_, _, err = s.GetAccessToken(t.Context(), "at-1")
		wantErr(t, "GetAccessToken(at-1) after revoking its grant", err, store.ErrNotFound)
		n, err = s.RevokeGrants(t.Context(), store.GrantFilter{ID: g.ID}, T0.Add(2*time.Minute))
		must(t, "RevokeGrants(grant-1) again", err)
		wantEqual(t, "RevokeGrants(grant-1) again count", n, 0)
		gg, err := s.GetGrant(t.Context(), g.ID)
		must(t, "GetGrant(grant-1)", err)
		wantEqual(t, "GetGrant(grant-1).RevokedAt (the first revocation's)", gg.RevokedAt, T0.Add(time.Minute))

		must(t, "DeleteAccessToken(cc-1)", s.DeleteAccessToken(t.Context(), "cc-1"))
		wantErr(t, "DeleteAccessToken(cc-1) again", s.DeleteAccessToken(t.Context(), "cc-1"), store.ErrNotFound)
		_, _, err = s.GetAccessToken(t.Context(), "cc-1")
		wantErr(t, "GetAccessToken(cc-1) after deleting it", err, store.ErrNotFound)
	}},
	{"grants are listed and revoked by account, client and session", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		for i, spec := range []struct{ account, client, session string }{
			{"acct-1", "client-1", "sess-1"}, {"acct-1", "client-2", "sess-1"},
			{"acct-1", "client-1", "sess-2"}, {"acct-2", "client-1", "sess-3"},
		} {
			g := newGrant(fmt.Sprintf("g%d", i), spec.account)
			g.ClientID, g.SessionID, g.CreatedAt = spec.client, spec.session, T0.Add(time.Duration(i)*time.Second)
			r := newAuthRequest(fmt.Sprintf("req-%d", i))
			r.AccountID = spec.account
			must(t, "CreateAuthRequest", s.CreateAuthRequest(t.Context(), r))
			_, err := s.RedeemAuthCode(t.Context(), r.CodeHash, g)
			must(t, "RedeemAuthCode("+g.ID+")", err)
		}
		grantIDs := func(f store.GrantFilter) []string {
			list, err := s.ListGrants(t.Context(), f)
			must(t, "ListGrants", err)
			return ids(list, func(g store.Grant) string { return g.ID })
		}
		wantEqual(t, "ListGrants(acct-1)", grantIDs(store.GrantFilter{AccountID: "acct-1"}), []string{"g2", "g1", "g0"})
		wantEqual(t, "ListGrants(acct-1, client-1)", grantIDs(store.GrantFilter{AccountID: "acct-1", ClientID: "client-1"}), []string{"g2", "g0"})
		wantEqual(t, "ListGrants(sess-1)", grantIDs(store.GrantFilter{SessionID: "sess-1"}), []string{"g1", "g0"})

		_, err := s.RevokeGrants(t.Context(), store.GrantFilter{}, T0)
		if err == nil {
			t.Errorf("RevokeGrants(empty filter) = nil error, want one")
		}
		n, err := s.RevokeGrants(t.Context(), store.GrantFilter{SessionID: "sess-1"}, T0)
		must(t, "RevokeGrants(sess-1)", err)
		wantEqual(t, "RevokeGrants(sess-1) count", n, 2)
		n, err = s.RevokeGrants(t.Context(), store.GrantFilter{ClientID: "client-1"}, T0)
		must(t, "RevokeGrants(client-1)", err)
		wantEqual(t, "RevokeGrants(client-1) count (g0 was revoked already)", n, 2)
		wantGrantRevoked(t, s, "g3", true)

		// A grant goes with its account, and its tokens with it.
		must(t, "CreateAccessToken", s.CreateAccessToken(t.Context(), newAccessToken("at-3", "g3")))
		must(t, "DeleteAccount(acct-2)", s.DeleteAccount(t.Context(), "acct-2"))
		_, err = s.GetGrant(t.Context(), "g3")
		wantErr(t, "GetGrant(g3) after deleting its account", err, store.ErrNotFound)
		wantErr(t, "DeleteAccessToken(at-3) after deleting its account", s.DeleteAccessToken(t.Context(), "at-3"), store.ErrNotFound)
	}},
	{"a refresh token is rotated once, and a replay revokes its family", func(t *testing.T, s store.Store) {
		g := redeemed(t, s)
		rt1 := newRefreshToken("rt-1", g.ID)
		must(t, "CreateRefreshToken(rt-1)", s.CreateRefreshToken(t.Context(), rt1, newAccessToken("at-1", g.ID)))
		wantErr(t, "CreateRefreshToken(rt-1) again", s.CreateRefreshToken(t.Context(), rt1, newAccessToken("at-x", g.ID)), store.ErrConflict)
		_, _, err := s.GetAccessToken(t.Context(), "at-x")
		wantErr(t, "GetAccessToken(at-x) of the failed CreateRefreshToken", err, store.ErrNotFound)
		gotRT, gotG, err := s.GetRefreshToken(t.Context(), rt1.Hash)
		must(t, "GetRefreshToken(rt-1)", err)
		wantEqual(t, "GetRefreshToken(rt-1)", gotRT, rt1)
		wantEqual(t, "GetRefreshToken(rt-1) grant", gotG, g)

		usedAt := T0.Add(time.Hour)
		rt2 := newRefreshToken("rt-2", g.ID)
		must(t, "RotateRefreshToken(rt-1 → rt-2)", s.RotateRefreshToken(t.Context(), rt1.Hash, usedAt, rt2, newAccessToken("at-2", g.ID)))
		gotRT, _, err = s.GetRefreshToken(t.Context(), rt1.Hash)
		must(t, "GetRefreshToken(rt-1) after the rotation", err)
		wantEqual(t, "GetRefreshToken(rt-1).UsedAt", gotRT.UsedAt, usedAt)
		_, _, err = s.GetAccessToken(t.Context(), "at-2")
		must(t, "GetAccessToken(at-2)", err)

		// The old token again: the whole family dies, the newest token too.
		err = s.RotateRefreshToken(t.Context(), rt1.Hash, usedAt.Add(time.Minute), newRefreshToken("rt-3", g.ID), newAccessToken("at-3", g.ID))
		wantErr(t, "RotateRefreshToken(rt-1) again", err, store.ErrConflict)
		wantGrantRevoked(t, s, g.ID, true)
		_, gotG, err = s.GetRefreshToken(t.Context(), rt2.Hash)
		must(t, "GetRefreshToken(rt-2) after the replay", err)
		wantEqual(t, "GetRefreshToken(rt-2) grant RevokedAt", gotG.RevokedAt, usedAt.Add(time.Minute))
		for _, id := range []string{"at-1", "at-2", "at-3"} {
			_, _, err = s.GetAccessToken(t.Context(), id)
			wantErr(t, "GetAccessToken("+id+") after the replay", err, store.ErrNotFound)
		}
		err = s.RotateRefreshToken(t.Context(), rt2.Hash, usedAt, newRefreshToken("rt-4", g.ID), newAccessToken("at-4", g.ID))
		wantErr(t, "RotateRefreshToken(rt-2) of the revoked family", err, store.ErrNotFound)
		_, _, err = s.GetRefreshToken(t.Context(), hash("unknown"))
		wantErr(t, "GetRefreshToken(unknown)", err, store.ErrNotFound)
		err = s.RotateRefreshToken(t.Context(), hash("unknown"), usedAt, newRefreshToken("rt-5", g.ID), newAccessToken("at-5", g.ID))
		wantErr(t, "RotateRefreshToken(unknown)", err, store.ErrNotFound)
	}},
	{"a refresh token rotated twenty times in parallel is rotated exactly once", func(t *testing.T, s store.Store) {
		g := redeemed(t, s)
		rt1 := newRefreshToken("rt-1", g.ID)
		must(t, "CreateRefreshToken(rt-1)", s.CreateRefreshToken(t.Context(), rt1, newAccessToken("at-1", g.ID)))
		// A loser meets a replay, or (once a replay revoked the family) a
		// token of a revoked grant.
		lost := func(err error) bool { return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) }
		winners, replays := race(t, 20, "RotateRefreshToken", lost, func(i int) error {
			next := newRefreshToken(fmt.Sprintf("next %d", i), g.ID)
			return s.RotateRefreshToken(t.Context(), rt1.Hash, T0.Add(time.Minute), next, newAccessToken(fmt.Sprintf("at-next-%d", i), g.ID))
		})
		if len(winners) != 1 || replays != 19 {
			t.Fatalf("of 20 parallel rotations, %d succeeded and %d failed; want 1 and 19", len(winners), replays)
		}
		wantGrantRevoked(t, s, g.ID, true)
		_, _, err := s.GetAccessToken(t.Context(), fmt.Sprintf("at-next-%d", winners[0]))
		wantErr(t, "GetAccessToken(the winner's access token)", err, store.ErrNotFound)
	}},
	{"revoked token IDs are remembered until they expire", func(t *testing.T, s store.Store) {
		must(t, "RevokeTokenID(jti-1)", s.RevokeTokenID(t.Context(), "jti-1", T0.Add(time.Minute)))
		must(t, "RevokeTokenID(jti-1) again", s.RevokeTokenID(t.Context(), "jti-1", T0.Add(time.Hour)))
		for id, want := range map[string]bool{"jti-1": true, "jti-2": false} {
			got, err := s.TokenIDRevoked(t.Context(), id)
			must(t, "TokenIDRevoked("+id+")", err)
			wantEqual(t, "TokenIDRevoked("+id+")", got, want)
		}
		n, err := s.DeleteExpiredOIDC(t.Context(), T0.Add(time.Minute))
		must(t, "DeleteExpiredOIDC(the expiry)", err)
		wantEqual(t, "DeleteExpiredOIDC(the expiry) count", n, 1)
		got, err := s.TokenIDRevoked(t.Context(), "jti-1")
		must(t, "TokenIDRevoked(jti-1) after expiry", err)
		wantEqual(t, "TokenIDRevoked(jti-1) after expiry", got, false)
	}},
	{"expired requests, grants and tokens are deleted", func(t *testing.T, s store.Store) {
		g := redeemed(t, s) // req-1 expires at T0+1h, grant-1 at T0+30d
		at := newAccessToken("at-1", g.ID)
		at.ExpiresAt = T0.Add(10 * time.Minute)
		must(t, "CreateAccessToken(at-1)", s.CreateAccessToken(t.Context(), at))
		rt := newRefreshToken("rt-1", g.ID) // expires at T0+24h
		must(t, "CreateRefreshToken(rt-1)", s.CreateRefreshToken(t.Context(), rt, newAccessToken("at-2", g.ID)))

		n, err := s.DeleteExpiredOIDC(t.Context(), T0.Add(10*time.Minute-time.Millisecond))
		must(t, "DeleteExpiredOIDC(before anything expired)", err)
		wantEqual(t, "DeleteExpiredOIDC(before anything expired) count", n, 0)
		n, err = s.DeleteExpiredOIDC(t.Context(), T0.Add(time.Hour))
		must(t, "DeleteExpiredOIDC(T0+1h)", err)
		wantEqual(t, "DeleteExpiredOIDC(T0+1h) count (req-1, at-1, at-2)", n, 3)
		_, err = s.GetAuthRequest(t.Context(), "req-1")
		wantErr(t, "GetAuthRequest(req-1) after expiry", err, store.ErrNotFound)
		_, _, err = s.GetRefreshToken(t.Context(), rt.Hash)
		must(t, "GetRefreshToken(rt-1) before its expiry", err)
		n, err = s.DeleteExpiredOIDC(t.Context(), T0.Add(30*24*time.Hour))
		must(t, "DeleteExpiredOIDC(T0+30d)", err)
		wantEqual(t, "DeleteExpiredOIDC(T0+30d) count (grant-1; rt-1 went with it)", n, 1)
		_, _, err = s.GetRefreshToken(t.Context(), rt.Hash)
		wantErr(t, "GetRefreshToken(rt-1) after its grant expired", err, store.ErrNotFound)
	}},
	{"signing keys are added, changed and removed as a set", func(t *testing.T, s store.Store) {
		key := func(id string, active time.Time) store.SigningKey {
			return store.SigningKey{ID: id, Alg: store.AlgES256, PrivateKey: []byte("sealed " + id),
				PublicKey: []byte("public " + id), CreatedAt: T0, ActiveFrom: active}
		}
		keys, err := s.UpdateSigningKeys(t.Context(), func(old []store.SigningKey) ([]store.SigningKey, error) {
			if len(old) != 0 {
				t.Errorf("UpdateSigningKeys on an empty store passed %d keys", len(old))
			}
			return []store.SigningKey{key("k2", T0.Add(time.Hour)), key("k1", T0)}, nil
		})
		must(t, "UpdateSigningKeys(add k1, k2)", err)
		wantEqual(t, "UpdateSigningKeys(add k1, k2) IDs", ids(keys, func(k store.SigningKey) string { return k.ID }), []string{"k1", "k2"})
		list, err := s.ListSigningKeys(t.Context())
		must(t, "ListSigningKeys()", err)
		wantEqual(t, "ListSigningKeys()", list, keys)
		wantEqual(t, "ListSigningKeys()[0]", list[0], key("k1", T0))

		_, err = s.UpdateSigningKeys(t.Context(), func(old []store.SigningKey) ([]store.SigningKey, error) {
			return nil, errBoom
		})
		wantErr(t, "UpdateSigningKeys with a failing updater", err, errBoom)
		_, err = s.UpdateSigningKeys(t.Context(), func(old []store.SigningKey) ([]store.SigningKey, error) {
			return append(old, key("k1", T0)), nil
		})
		if err == nil {
			t.Errorf("UpdateSigningKeys repeating k1 = nil error, want one")
		}
		keys, err = s.UpdateSigningKeys(t.Context(), func(old []store.SigningKey) ([]store.SigningKey, error) {
			k1 := old[0]
			k1.RetiredAt, k1.ExpiresAt = T0.Add(time.Hour), T0.Add(25*time.Hour)
			return []store.SigningKey{k1, key("k3", T0.Add(2*time.Hour))}, nil
		})
		must(t, "UpdateSigningKeys(retire k1, drop k2, add k3)", err)
		wantEqual(t, "UpdateSigningKeys(retire k1, drop k2, add k3) IDs", ids(keys, func(k store.SigningKey) string { return k.ID }), []string{"k1", "k3"})
		wantEqual(t, "k1.ExpiresAt", keys[0].ExpiresAt, T0.Add(25*time.Hour))
	}},
	{"parallel key updates that each add a first key add one", func(t *testing.T, s store.Store) {
		parallel(t, 10, func(i int) {
			_, err := s.UpdateSigningKeys(t.Context(), func(old []store.SigningKey) ([]store.SigningKey, error) {
				if len(old) > 0 {
					return old, nil
				}
				return []store.SigningKey{{ID: fmt.Sprintf("k%d", i), Alg: store.AlgES256, PrivateKey: []byte{1},
					PublicKey: []byte{2}, CreatedAt: T0, ActiveFrom: T0}}, nil
			})
			if err != nil {
				t.Errorf("UpdateSigningKeys by call %d: %v", i, err)
			}
		})
		list, err := s.ListSigningKeys(t.Context())
		must(t, "ListSigningKeys()", err)
		if len(list) != 1 {
			t.Errorf("after 10 parallel first-key updates there are %d keys, want 1", len(list))
		}
	}},
	{"a consent is set, replaced, listed and deleted", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		c := store.Consent{AccountID: "acct-1", ClientID: "client-b", Scopes: []string{"openid", "profile"}, GrantedAt: T0}
		must(t, "SetConsent(client-b)", s.SetConsent(t.Context(), c))
		c.Scopes, c.GrantedAt = []string{"openid", "email"}, T0.Add(time.Hour)
		must(t, "SetConsent(client-b) again", s.SetConsent(t.Context(), c))
		got, err := s.GetConsent(t.Context(), "acct-1", "client-b")
		must(t, "GetConsent(client-b)", err)
		wantEqual(t, "GetConsent(client-b)", got, c)
		must(t, "SetConsent(client-a)", s.SetConsent(t.Context(), store.Consent{AccountID: "acct-1", ClientID: "client-a", GrantedAt: T0}))
		list, err := s.ListConsents(t.Context(), "acct-1")
		must(t, "ListConsents(acct-1)", err)
		wantEqual(t, "ListConsents(acct-1) clients", ids(list, func(c store.Consent) string { return c.ClientID }), []string{"client-a", "client-b"})
		wantEqual(t, "ListConsents(acct-1)[0].Scopes", list[0].Scopes, []string(nil))
		wantErr(t, "SetConsent(an unknown account)", s.SetConsent(t.Context(), store.Consent{AccountID: "nobody", ClientID: "client-a"}), store.ErrNotFound)
		must(t, "DeleteConsent(client-b)", s.DeleteConsent(t.Context(), "acct-1", "client-b"))
		wantErr(t, "DeleteConsent(client-b) again", s.DeleteConsent(t.Context(), "acct-1", "client-b"), store.ErrNotFound)
		_, err = s.GetConsent(t.Context(), "acct-1", "client-b")
		wantErr(t, "GetConsent(client-b) after deleting it", err, store.ErrNotFound)
	}},
}
