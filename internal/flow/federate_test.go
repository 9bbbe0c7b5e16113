package flow_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/connectors"
	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
)

var testIDKey = []byte("0123456789abcdef0123456789abcdef")

// withUpstreams gives the service one real OpenID Provider per config
// (upstreamtest over HTTP), keyed by provider ID.
func withUpstreams(t *testing.T, e *env, cfgs ...upstream.Config) map[string]*upstreamtest.Server {
	t.Helper()
	if e.svc.Sealer == nil {
		s, err := secret.NewSealer(make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Sealer = s
	}
	ups := &flow.Upstreams{Identities: e.db, IDKey: testIDKey}
	servers := map[string]*upstreamtest.Server{}
	for _, cfg := range cfgs {
		srv := upstreamtest.New(t)
		cfg.Issuer, cfg.ClientID, cfg.ClientSecret = srv.Issuer, srv.ClientID, srv.ClientSecret
		conn, err := connectors.Open(cfg, e.svc.PublicURL, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		ups.List = append(ups.List, flow.Upstream{Config: cfg, Connector: conn})
		servers[cfg.ID] = srv
	}
	e.svc.Upstreams = ups
	return servers
}

var idporten = upstream.Config{ID: "idporten", Preset: upstream.PresetIDPorten, ACRValues: []string{"idporten-loa-high"},
	AcceptACR: []string{"idporten-loa-high"}, FirstLogin: upstream.FirstCreate,
	ACRRefusal: map[string]string{"nb": "MinID gir ikke høyt nok sikkerhetsnivå for Min side. Bruk BankID, Buypass eller Commfides."}}

func bankID(pid string) upstreamtest.User {
	return upstreamtest.User{Subject: "pairwise-" + pid, PID: pid, ACR: "idporten-loa-high", AMR: []string{"BankID"}, Name: "Kari Nordmann"}
}

// answer starts a federated sign-in and returns the provider's answer as
// the browser would bring it back.
func answer(t *testing.T, e *env, c flow.Client, provider string, o flow.FederateOptions) upstream.Response {
	t.Helper()
	u, err := e.svc.StartFederated(t.Context(), c, provider, o)
	if err != nil {
		t.Fatalf("StartFederated(%s): %v", provider, err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	return upstream.Response{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss"), Error: q.Get("error")}
}

func federate(t *testing.T, e *env, c flow.Client, provider string, o flow.FederateOptions) (flow.Federated, error) {
	t.Helper()
	return e.svc.FederatedCallback(t.Context(), c, provider, answer(t, e, c, provider, o))
}

// identityOf returns where a national ID is linked, or ErrNotFound.
func identityOf(t *testing.T, e *env, provider, pid string) (store.FederatedIdentity, error) {
	t.Helper()
	m := hmac.New(sha256.New, testIDKey)
	m.Write([]byte("national-id\x00" + provider + "\x00" + pid))
	return e.db.GetIdentity(t.Context(), provider, "nid:"+hex.EncodeToString(m.Sum(nil)))
}

// TestFederated_IDPortenAtHigh is UDI: ID-porten at high makes an account
// of its own, whose session records via; a second sign-in finds it again.
func TestFederated_IDPortenAtHigh(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		srv := withUpstreams(t, e, idporten)["idporten"]
		srv.SignInAs(bankID("01017012345"))
		out, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Locales: []string{"nb"}})
		if err != nil {
			t.Fatalf("first ID-porten sign-in: %v", err)
		}
		if out.Token == "" || out.Next != flow.NextNone {
			t.Fatalf("first sign-in = %+v, want a session", out)
		}
		s := out.Session
		want := store.Via{Upstream: "idporten", ACR: "idporten-loa-high", AMR: []string{"BankID"}}
		if s.Via.Upstream != want.Upstream || s.Via.ACR != want.ACR || !slices.Equal(s.Via.AMR, want.AMR) || s.Level != 1 || !slices.Equal(s.AMR, []string{"fed"}) {
			t.Errorf("session = via %+v level %d amr %v; want via %+v, level 1, amr [fed]", s.Via, s.Level, s.AMR, want)
		}
		id, err := identityOf(t, e, "idporten", "01017012345")
		if err != nil || id.AccountID != out.Account.ID || id.NationalIDMasked != "******12345" || len(id.NationalIDSealed) == 0 {
			t.Fatalf("identity = %+v, %v", id, err)
		}
		e.clock.Advance(time.Hour)
		again, err := federate(t, e, browserB, "idporten", flow.FederateOptions{})
		if err != nil || again.Account.ID != out.Account.ID {
			t.Fatalf("second sign-in = %+v, %v; want account %s", again.Account, err, out.Account.ID)
		}
		if got := srv.Authorizations()[0].Query; got.Get("acr_values") != "idporten-loa-high" || got.Get("ui_locales") != "nb" {
			t.Errorf("ID-porten was asked acr_values %q, ui_locales %q", got.Get("acr_values"), got.Get("ui_locales"))
		}
	})
}

// TestFederated_MinIDRefusedByName: ID-porten lets the user pick MinID,
// which answers at substantial; UDI refuses it by name and stores nothing.
func TestFederated_MinIDRefusedByName(t *testing.T) {
	e := newEnv(t)
	srv := withUpstreams(t, e, idporten)["idporten"]
	srv.SignInAs(upstreamtest.User{Subject: "p", PID: "02027012345", ACR: "idporten-loa-substantial", AMR: []string{"MinID"}})
	_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
	p := wantProblem(t, err, "federate.acr_refused")
	if p.Details[0].Args["method"] != "MinID" || p.Details[0].Args["reason"] != idporten.ACRRefusal["nb"] {
		t.Errorf("refusal args = %v, want MinID and UDI's reason", p.Details[0].Args)
	}
	if _, err := identityOf(t, e, "idporten", "02027012345"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the refusal the identity is %v; want nothing stored", err)
	}
}

// TestFederated_AnswerChecks plays the attacker's browser and upstream:
// each answer is refused with a clear problem and nothing is stored.
func TestFederated_AnswerChecks(t *testing.T) {
	const pid = "03037012345"
	for _, tc := range []struct {
		name string
		// run returns the error of the callback under attack.
		run  func(t *testing.T, e *env, srv *upstreamtest.Server) error
		want string
	}{
		{"a replayed state", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			resp := answer(t, e, browserA, "idporten", flow.FederateOptions{})
			if _, err := e.svc.FederatedCallback(t.Context(), browserA, "idporten", resp); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.FederatedCallback(t.Context(), browserA, "idporten", resp)
			return err
		}, "federate.state"},
		{"a state from another browser", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			resp := answer(t, e, browserA, "idporten", flow.FederateOptions{})
			_, err := e.svc.FederatedCallback(t.Context(), browserB, "idporten", resp)
			return err
		}, "flow.other_browser"},
		{"an unknown state", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			resp := answer(t, e, browserA, "idporten", flow.FederateOptions{})
			resp.State = secret.Token()
			_, err := e.svc.FederatedCallback(t.Context(), browserA, "idporten", resp)
			return err
		}, "federate.state"},
		{"a state for one provider brought to another's callback", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			resp := answer(t, e, browserA, "idporten", flow.FederateOptions{})
			_, err := e.svc.FederatedCallback(t.Context(), browserA, "google", resp)
			return err
		}, "federate.state"},
		{"a wrong nonce", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SetTamper(upstreamtest.Tamper{Nonce: "the attacker's"})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.refused"},
		{"an ID token from another issuer (mix-up)", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SetTamper(upstreamtest.Tamper{Issuer: "https://evil.example"})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.refused"},
		{"an iss parameter naming another issuer (mix-up)", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SetTamper(upstreamtest.Tamper{ISS: "https://evil.example"})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.refused"},
		{"alg none", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SetTamper(upstreamtest.Tamper{AlgNone: true})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.refused"},
		{"an expired token", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SetTamper(upstreamtest.Tamper{Expired: true})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.refused"},
		{"a token for another client", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SetTamper(upstreamtest.Tamper{Audience: "another-client"})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.refused"},
		{"the user cancelled at the provider", func(t *testing.T, e *env, srv *upstreamtest.Server) error {
			srv.SignInAs(upstreamtest.User{})
			_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
			return err
		}, "federate.cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			google := upstream.Config{ID: "google", Preset: upstream.PresetGoogle, FirstLogin: upstream.FirstAsk}
			srv := withUpstreams(t, e, idporten, google)["idporten"]
			srv.SignInAs(bankID(pid))
			err := tc.run(t, e, srv)
			wantProblem(t, err, tc.want)
			if tc.name == "a replayed state" {
				return // the first answer signed in, as it should
			}
			if _, err := identityOf(t, e, "idporten", pid); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("identity after %s: %v; want nothing stored", tc.name, err)
			}
		})
	}
}

// TestFederated_NeverByAddress: a provider's address, verified or not,
// never signs in to or links with the account that has it (SECURITY.md
// §5.7: classic-federated merge and the non-verifying IdP).
func TestFederated_NeverByAddress(t *testing.T) {
	for _, verified := range []bool{true, false} {
		t.Run(map[bool]string{true: "verified", false: "unverified"}[verified], func(t *testing.T) {
			e := newEnv(t)
			existing := signUp(t, e, "kari@example.no")
			google := upstream.Config{ID: "google", Preset: upstream.PresetGoogle, FirstLogin: upstream.FirstCreate}
			srv := withUpstreams(t, e, google)["google"]
			srv.SignInAs(upstreamtest.User{Subject: "g-1", Email: "kari@example.no", EmailVerified: verified, Name: "Kari"})
			out, err := federate(t, e, browserB, "google", flow.FederateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Account.ID == existing.Account.ID {
				t.Fatalf("a Google sign-in asserting %s (verified %v) signed in to the account that has it", "kari@example.no", verified)
			}
			emails, err := e.db.ListEmails(t.Context(), out.Account.ID)
			if err != nil || len(emails) != 0 {
				t.Errorf("new account's addresses = %v, %v; want none (the address belongs to another account)", emails, err)
			}
			list, err := e.svc.LinkedIdentities(t.Context(), existing.Account.ID, "en")
			if err != nil || len(list) != 0 {
				t.Errorf("identities linked to the existing account = %v, %v; want none", list, err)
			}
		})
	}
	t.Run("an unverified address is not copied to a new account", func(t *testing.T) {
		e := newEnv(t)
		gh := upstream.Config{ID: "google", Preset: upstream.PresetGoogle, FirstLogin: upstream.FirstCreate}
		withUpstreams(t, e, gh)["google"].SignInAs(upstreamtest.User{Subject: "g-2", Email: "ola@example.no", EmailVerified: false})
		out, err := federate(t, e, browserA, "google", flow.FederateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if emails, _ := e.db.ListEmails(t.Context(), out.Account.ID); len(emails) != 0 {
			t.Errorf("addresses = %v; an unverified upstream address must not be kept", emails)
		}
	})
}

// TestFederated_LinkNeedsTheSecondFactor: first_login link attaches a
// Google identity to an existing account only once the user has signed in
// to it with the password and the authenticator; whoever holds only the
// password (and the owner's remembered browser) links nothing.
func TestFederated_LinkNeedsTheSecondFactor(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		withMFA(t, e, flow.MFAOptional, 20)
		res := signUp(t, e, "visma@example.no")
		seed, _ := enrolTOTP(t, e, res)
		google := upstream.Config{ID: "google", Preset: upstream.PresetGoogle, FirstLogin: upstream.FirstLink}
		withUpstreams(t, e, google)["google"].SignInAs(upstreamtest.User{Subject: "g-1", Email: "visma@gmail.com", EmailVerified: true})

		// The attacker: the password, in a browser the owner made remembered.
		e.clock.Advance(30 * time.Second)
		p := passwordStep(t, e, browserA, "visma@example.no")
		done, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, keyOf(t, e, browserA, p.Pending, authn.TOTP), totpCode(t, e, seed, 0), true)
		if err != nil || done.TrustToken == "" {
			t.Fatalf("remembered sign-in: %+v, %v", done, err)
		}
		trusted := browserA
		trusted.Trust = secret.Hash(done.TrustToken)
		pwOnly := passwordStep(t, e, trusted, "visma@example.no")
		if pwOnly.Token == "" {
			t.Fatalf("remembered browser + password: %+v, want a session", pwOnly)
		}
		out, err := federate(t, e, trusted, "google", flow.FederateOptions{})
		if err != nil || out.Next != flow.NextLink {
			t.Fatalf("new Google identity with first_login link = %+v, %v; want NextLink", out, err)
		}
		err = e.svc.CompleteLink(t.Context(), trusted, flow.Who{Account: pwOnly.Account, Session: pwOnly.Session}, out.Flow)
		wantProblem(t, err, "reauth.required")
		if list, _ := e.svc.LinkedIdentities(t.Context(), res.Account.ID, "en"); len(list) != 0 {
			t.Fatalf("linked with the password alone: %+v", list)
		}

		// The owner: password and authenticator.
		who := freshWho(t, e, browserA, "visma@example.no", seed)
		if err := e.svc.CompleteLink(t.Context(), trusted, who, out.Flow); err != nil {
			t.Fatalf("CompleteLink at full level: %v", err)
		}
		if m := e.mail.last(t, "visma@example.no"); m.Template != "factor_added" {
			t.Errorf("last mail = %s, want factor_added", m.Template)
		}
		if err := e.svc.CompleteLink(t.Context(), trusted, who, out.Flow); err == nil {
			t.Error("a second CompleteLink of one flow succeeded")
		}

		// Google now signs in to the account, and its authenticator is
		// still asked: the upstream does not skip the account's second step.
		in, err := federate(t, e, browserB, "google", flow.FederateOptions{})
		if err != nil || in.Pending == "" {
			t.Fatalf("Google sign-in = %+v, %v; want the second step", in, err)
		}
		e.clock.Advance(30 * time.Second)
		fin, err := e.svc.VerifyFactor(t.Context(), browserB, in.Pending, keyOf(t, e, browserB, in.Pending, authn.TOTP), totpCode(t, e, seed, 0), false)
		if err != nil {
			t.Fatal(err)
		}
		if fin.Account.ID != res.Account.ID || fin.Session.Via.Upstream != "google" || fin.Session.Level != 3 || !slices.Equal(fin.Session.AMR, []string{"fed", "otp", "mfa"}) {
			t.Errorf("session = account %s via %+v level %d amr %v", fin.Account.ID, fin.Session.Via, fin.Session.Level, fin.Session.AMR)
		}
	})
}

// TestFederated_ConflictMovedHere is Visma Connect: the national ID is
// already linked to another (private) account. The page names it masked;
// signed in to that account in the same browser, the user moves the link;
// both accounts are mailed, and ID-porten then signs in to the new one.
func TestFederated_ConflictMovedHere(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		const pid = "04047012345"
		visma := idporten
		visma.AcceptACR, visma.ACRValues, visma.FirstLogin = nil, nil, upstream.FirstAsk
		withUpstreams(t, e, visma)["idporten"].SignInAs(bankID(pid))
		private := signUp(t, e, "hanne.hansen@gmail.com")
		work := signUp(t, e, "hanne@visma.no")
		if _, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &flow.Who{Account: private.Account, Session: private.Session}}); err != nil {
			t.Fatal(err)
		}

		e.clock.Advance(time.Minute)
		workWho := flow.Who{Account: work.Account, Session: work.Session}
		out, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &workWho})
		if err != nil {
			t.Fatal(err)
		}
		if out.Next != flow.NextConflict || out.Holder != "ha…en@gm…om" || out.MaskedID != "******12345" {
			t.Fatalf("conflict = %+v; want the holder and the national ID masked", out)
		}
		// The work account cannot move it: the holder must be proven.
		wantProblem(t, e.svc.MoveHere(t.Context(), browserA, workWho, out.Flow), "federate.move_sign_in_holder")
		// Another browser cannot use the flow.
		holder := signInAgain(t, e, "hanne.hansen@gmail.com")
		_ = holder
		sess, err := e.svc.Sessions.Load(t.Context(), holder)
		if err != nil {
			t.Fatal(err)
		}
		acct, _ := e.db.GetAccount(t.Context(), sess.AccountID)
		holderWho := flow.Who{Account: acct, Session: sess}
		wantProblem(t, e.svc.MoveHere(t.Context(), browserB, holderWho, out.Flow), "flow.other_browser")
		if err := e.svc.MoveHere(t.Context(), browserA, holderWho, out.Flow); err != nil {
			t.Fatalf("MoveHere signed in to the holder: %v", err)
		}
		if err := e.svc.MoveHere(t.Context(), browserA, holderWho, out.Flow); err == nil {
			t.Error("a second MoveHere of one flow succeeded")
		}
		id, err := identityOf(t, e, "idporten", pid)
		if err != nil || id.AccountID != work.Account.ID {
			t.Fatalf("after the move the identity is on %q, %v; want the work account", id.AccountID, err)
		}
		if m := e.mail.last(t, "hanne.hansen@gmail.com"); m.Template != "factor_removed" {
			t.Errorf("holder's last mail = %s, want factor_removed", m.Template)
		}
		if m := e.mail.last(t, "hanne@visma.no"); m.Template != "factor_added" {
			t.Errorf("new account's last mail = %s, want factor_added", m.Template)
		}
		in, err := federate(t, e, browserB, "idporten", flow.FederateOptions{})
		if err != nil || in.Account.ID != work.Account.ID {
			t.Fatalf("ID-porten after the move = %+v, %v; want the work account", in.Account, err)
		}
	})
}

// TestFederated_SignInHolderInstead: the other way out of the conflict.
func TestFederated_SignInHolderInstead(t *testing.T) {
	e := newEnv(t)
	withUpstreams(t, e, idporten)["idporten"].SignInAs(bankID("05057012345"))
	first, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := signUp(t, e, "ola@example.no")
	out, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &flow.Who{Account: other.Account, Session: other.Session}})
	if err != nil || out.Next != flow.NextConflict {
		t.Fatalf("link = %+v, %v; want a conflict", out, err)
	}
	res, err := e.svc.SignInHolder(t.Context(), browserA, out.Flow)
	if err != nil || res.Account.ID != first.Account.ID || res.Session.Via.ACR != "idporten-loa-high" {
		t.Fatalf("SignInHolder = %+v, %v; want the ID-porten account via high", res, err)
	}
}

// TestUnlink: removing needs a recent sign-in at full level, and the last
// way to sign in cannot be removed.
func TestUnlink(t *testing.T) {
	e := newEnv(t)
	withUpstreams(t, e, idporten)["idporten"].SignInAs(bankID("06067012345"))
	only, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	who := flow.Who{Account: only.Account, Session: only.Session}
	list, err := e.svc.LinkedIdentities(t.Context(), only.Account.ID, "nb")
	if err != nil || len(list) != 1 || list[0].Label != "ID-porten" || list[0].Shown != "******12345" {
		t.Fatalf("LinkedIdentities = %+v, %v", list, err)
	}
	wantProblem(t, e.svc.Unlink(t.Context(), browserA, who, "idporten", list[0].Subject), "federate.last_method")

	pw := signUp(t, e, "kari@example.no")
	pwWho := flow.Who{Account: pw.Account, Session: pw.Session}
	withUpstreams(t, e, idporten)["idporten"].SignInAs(bankID("07077012345"))
	if out, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &pwWho}); err != nil || out.Next != flow.NextLinked {
		t.Fatalf("link = %+v, %v", out, err)
	}
	list, _ = e.svc.LinkedIdentities(t.Context(), pw.Account.ID, "en")
	e.clock.Advance(11 * time.Minute) // past mfa.reauth_after
	wantProblem(t, e.svc.Unlink(t.Context(), browserA, pwWho, "idporten", list[0].Subject), "reauth.required")
	sess, err := e.svc.Sessions.Load(t.Context(), signInAgain(t, e, "kari@example.no"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unlink(t.Context(), browserA, flow.Who{Account: pw.Account, Session: sess}, "idporten", list[0].Subject); err != nil {
		t.Fatalf("Unlink with a recent sign-in: %v", err)
	}
	if m := e.mail.last(t, "kari@example.no"); m.Template != "factor_removed" {
		t.Errorf("last mail = %s, want factor_removed", m.Template)
	}
	if list, _ := e.svc.LinkedIdentities(t.Context(), pw.Account.ID, "en"); len(list) != 0 {
		t.Errorf("after Unlink: %+v", list)
	}
}

// TestFederated_LinkNeedsAFreshSession: "link another" starts only from a
// session recent at the account's full level.
func TestFederated_LinkNeedsAFreshSession(t *testing.T) {
	e := newEnv(t)
	withUpstreams(t, e, idporten)
	res := signUp(t, e, "kari@example.no")
	e.clock.Advance(11 * time.Minute)
	_, err := e.svc.StartFederated(t.Context(), browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &flow.Who{Account: res.Account, Session: res.Session}})
	wantProblem(t, err, "reauth.required")
}

// TestFederated_AskingForLessDoesNotLoosenAcceptACR: acr_values chosen by
// whoever starts the sign-in (an app, or someone editing the URL) may
// narrow what is accepted, never widen UDI's accept_acr.
func TestFederated_AskingForLessDoesNotLoosenAcceptACR(t *testing.T) {
	e := newEnv(t)
	srv := withUpstreams(t, e, idporten)["idporten"]
	srv.SignInAs(upstreamtest.User{Subject: "p", PID: "09097012345", ACR: "idporten-loa-substantial", AMR: []string{"MinID"}})
	_, err := federate(t, e, browserA, "idporten", flow.FederateOptions{ACRValues: []string{"idporten-loa-substantial"}})
	wantProblem(t, err, "federate.acr_refused")
}

// TestFederated_ResetMailListsLinkedIdentities: after a password reset the
// mail lists every way in, linked identities included, so one an intruder
// linked before the owner took the account back stands out (§5.7 TID).
func TestFederated_ResetMailListsLinkedIdentities(t *testing.T) {
	e := newEnv(t)
	withUpstreams(t, e, idporten)["idporten"].SignInAs(bankID("10107012345"))
	res := signUp(t, e, "kari@example.no")
	if _, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &flow.Who{Account: res.Account, Session: res.Session}}); err != nil {
		t.Fatal(err)
	}
	if _, err := resetTo(t, e, browserA, "kari@example.no", "a brand new passphrase for kari"); err != nil {
		t.Fatal(err)
	}
	m := e.mail.last(t, "kari@example.no")
	methods, _ := m.Data["methods"].([]string)
	if m.Template != "password_changed" || !slices.ContainsFunc(methods, func(s string) bool { return strings.Contains(s, "ID-porten") && strings.Contains(s, "******12345") }) {
		t.Errorf("reset mail %s lists %q; want the linked ID-porten identity", m.Template, methods)
	}
}

// TestFederated_ReauthDropsTheUpstreamLevel: a session that came through
// ID-porten at high and then re-authenticated with the password no longer
// says idporten-loa-high: its last full sign-in was not ID-porten's.
func TestFederated_ReauthDropsTheUpstreamLevel(t *testing.T) {
	e := newEnv(t)
	visma := idporten
	visma.FirstLogin = upstream.FirstAsk
	withUpstreams(t, e, visma)["idporten"].SignInAs(bankID("14147012345"))
	res := signUp(t, e, "kari@example.no")
	if _, err := federate(t, e, browserA, "idporten", flow.FederateOptions{Purpose: flow.PurposeLink, Who: &flow.Who{Account: res.Account, Session: res.Session}}); err != nil {
		t.Fatal(err)
	}
	in, err := federate(t, e, browserA, "idporten", flow.FederateOptions{})
	if err != nil || in.Session.Via.ACR != "idporten-loa-high" {
		t.Fatalf("ID-porten sign-in = %+v, %v", in.Session.Via, err)
	}
	again, err := e.svc.Reauth(t.Context(), browserA, flow.Who{Account: in.Account, Session: in.Session}, goodPassword, "/")
	if err != nil {
		t.Fatal(err)
	}
	if v := again.Session.Via; v.ACR != "" || v.AMR != nil || v.Upstream != "idporten" || len(v.IDTokenSealed) == 0 {
		t.Errorf("after a password re-authentication via = %+v; want the upstream kept for sign-out, its acr and amr gone", v)
	}
}

// TestFederated_KeyIsProviderAndSubject (SECURITY.md 6.8.1, 10.5.2): two
// providers asserting the same sub are two identities; a provider that
// changes the person's address still signs in to the same account.
func TestFederated_KeyIsProviderAndSubject(t *testing.T) {
	e := newEnv(t)
	a := upstream.Config{ID: "google", Preset: upstream.PresetGoogle, FirstLogin: upstream.FirstCreate}
	b := upstream.Config{ID: "partner", Type: upstream.TypeOIDC, FirstLogin: upstream.FirstCreate}
	srv := withUpstreams(t, e, a, b)
	srv["google"].SignInAs(upstreamtest.User{Subject: "123", Email: "kari@example.no", EmailVerified: true})
	srv["partner"].SignInAs(upstreamtest.User{Subject: "123", Email: "ola@example.no", EmailVerified: true})
	fromA, err := federate(t, e, browserA, "google", flow.FederateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fromB, err := federate(t, e, browserB, "partner", flow.FederateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fromA.Account.ID == fromB.Account.ID {
		t.Fatal("two providers asserting sub 123 signed in to one account")
	}
	srv["google"].SignInAs(upstreamtest.User{Subject: "123", Email: "kari.new@example.no", EmailVerified: true})
	again, err := federate(t, e, browserA, "google", flow.FederateOptions{})
	if err != nil || again.Account.ID != fromA.Account.ID {
		t.Fatalf("after Google changed the address: account %s, %v; want %s", again.Account.ID, err, fromA.Account.ID)
	}
}
