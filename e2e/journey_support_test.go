package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
)

// The support console in Norwegian (issue 15, the Visma case): Kari has
// lost her authenticator app and calls support. A support user (with the
// support role and an authenticator, so a level-3 session) finds her by
// email, opens her account with a reason, and sends her a one-time code
// with a reason; Kari signs in with it once, and a second time it is
// refused. The audit log shows both. Then support locks the account: Kari
// is refused with a clear page; support unlocks it and she is in again.
func TestJourney_SupportConsole(t *testing.T) {
	t.Parallel()
	srv, clock := startServerWithClock(t)
	b := browsertest.Shared(t)
	const supPW, kariPW = "support desk passphrase 7714", "kari's own passphrase 2290"
	mfaAccount(t, srv, flow.NewAccount{Name: "Siri Støtte", Email: "siri@example.no", Password: supPW})
	mfaAccount(t, srv, flow.NewAccount{Name: "Kari Nordmann", Email: "kari@example.no", Password: kariPW, Lang: "nb"})
	sup, err := srv.App.DB.GetEmail(t.Context(), "siri@example.no")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.DB.GrantRole(t.Context(), sup.AccountID, "support", clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Both set up an authenticator app.
	seeds := map[string]string{}
	for _, who := range []struct{ email, pw string }{{"siri@example.no", supPW}, {"kari@example.no", kariPW}} {
		p := b.NewPage(t, browsertest.AcceptLanguage("en"))
		mfaSignInEmail(t, srv, p, who.email, who.pw)
		p.Open(srv.URL + "/account/security")
		// Kari's pages are in Norwegian (her account's language): the
		// set-up is driven by its form, not its English heading.
		p.Submit(`form[action="/account/security/totp"] button`)
		secret := strings.ReplaceAll(p.Text("#totp-secret"), " ", "")
		p.Fill("#code", mfaTOTP(t, clock, secret))
		p.Submit(`form[action="/account/security/totp/confirm"] button[type="submit"]`)
		seeds[who.email] = secret
		clock.Advance(31 * time.Second)
	}

	// Siri signs in with her authenticator (level 3) and opens the console.
	siri := b.NewPage(t, browsertest.AcceptLanguage("nb"))
	mfaSignInEmail(t, srv, siri, "siri@example.no", supPW)
	mfaAt(t, siri, "/login/factor")
	mfaEnterCode(t, siri, mfaTOTP(t, clock, seeds["siri@example.no"]))
	clock.Advance(31 * time.Second)
	siri.Open(srv.URL + "/admin")
	if got := siri.Text("h1"); got != "Brukerstøtte" {
		t.Fatalf("console heading = %q at %s", got, siri.URL())
	}
	siri.Fill("#q", "kari@example.no")
	siri.Submit(`form[action="/admin"] button[type="submit"]`)
	if got := siri.Text("li.admin-match"); !strings.Contains(got, "K. N.") || strings.Contains(got, "kari@example.no") {
		t.Errorf("the search result reads %q, want it masked", got)
	}
	saveScreenshot(t, siri, "admin-search-nb.png")
	siri.Submit(`li.admin-match a`)
	siri.Fill("#reason", "sak 4711: Kari ringte, identitet sjekket med BankID")
	siri.Submit(`form[action^="/admin/accounts/"] button[type="submit"]`)
	if !strings.Contains(siri.Text("#emails-title + ul"), "kari@example.no") {
		t.Fatalf("the opened account does not show Kari's address:\n%s", siri.Text("main"))
	}
	saveScreenshot(t, siri, "admin-account-nb.png")

	// A support code, with a reason; Siri never sees it.
	siri.Fill("#reason-support-code", "sak 4711: mistet telefonen med autentiseringsappen")
	siri.Submit(`form[action$="/support-code"] button[type="submit"]`)
	if got := siri.Text("#admin-done"); !strings.Contains(got, "engangskode") || !strings.Contains(got, "30 minutter") {
		t.Errorf("notice after sending = %q", got)
	}
	m := mfaMail(srv, "kari@example.no").next(t, "Engangskode fra brukerstøtte")
	code := regexp.MustCompile(`\b[a-z0-9]{4}(?:-[a-z0-9]{4}){2,}\b`).FindString(m.Text)
	if code == "" {
		t.Fatalf("no code in the support mail:\n%s", m.Text)
	}
	if strings.Contains(siri.HTML(), code) {
		t.Error("the console shows the support code")
	}

	// Kari signs in with it, once.
	kari := b.NewPage(t, browsertest.AcceptLanguage("nb"))
	mfaSignInEmail(t, srv, kari, "kari@example.no", kariPW)
	mfaAt(t, kari, "/login/factor")
	kari.Submit(`a[href$="method=support"]`)
	mfaEnterCode(t, kari, code)
	mfaAt(t, kari, "/account")
	mfaSignOut(t, kari)
	// Used once, it is no longer offered.
	mfaSignInEmail(t, srv, kari, "kari@example.no", kariPW)
	mfaAt(t, kari, "/login/factor")
	if kari.Exists(`a[href$="method=support"]`) {
		t.Error("the used support code is still offered as a choice")
	}

	// The audit log shows both: Siri's code with her reason, Kari's sign-in.
	siri.Open(srv.URL + "/admin/audit?account=kari%40example.no")
	issued := siri.Text(`tr[data-kind="support.code_issued"]`)
	if !strings.Contains(issued, "sak 4711: mistet telefonen") || !strings.Contains(issued, "support "+sup.AccountID) {
		t.Errorf("the support code's audit row reads %q", issued)
	}
	if !siri.Exists(`tr[data-kind="login.succeeded"]`) {
		t.Errorf("the audit log lacks Kari's sign-in or the refused second use:\n%s", siri.Text("main"))
	}
	saveScreenshot(t, siri, "admin-audit-nb.png")

	// Lock: Kari is refused with a clear page.
	siri.Open(srv.URL + "/admin?q=kari%40example.no")
	siri.Submit(`li.admin-match a`)
	siri.Fill("#reason", "sak 4712: kontoen meldt stjålet")
	siri.Submit(`form[action^="/admin/accounts/"] button[type="submit"]`)
	siri.Fill("#reason-lock", "sak 4712: kontoen meldt stjålet")
	siri.Submit(`form[action$="/lock"] button[type="submit"]`)
	if got := siri.Text("#account-state"); !strings.Contains(got, "Sperret") {
		t.Errorf("state after locking = %q", got)
	}
	kari.Open(srv.URL + "/account")
	mfaAt(t, kari, "/login")
	mfaSignInEmail(t, srv, kari, "kari@example.no", kariPW)
	if body := kari.Text("main"); !strings.Contains(body, "Denne kontoen er deaktivert") {
		t.Errorf("a locked account's sign-in shows:\n%s", body)
	}
	saveScreenshot(t, kari, "locked-nb.png")

	// Unlock: in again, with her authenticator.
	siri.Fill("#reason-unlock", "sak 4712: eieren bekreftet i skranken")
	siri.Submit(`form[action$="/unlock"] button[type="submit"]`)
	if got := siri.Text("#account-state"); strings.Contains(got, "Sperret") {
		t.Errorf("state after unlocking = %q", got)
	}
	mfaSignInEmail(t, srv, kari, "kari@example.no", kariPW)
	mfaAt(t, kari, "/login/factor")
	mfaEnterCode(t, kari, mfaTOTP(t, clock, seeds["kari@example.no"]))
	mfaAt(t, kari, "/account")
}
