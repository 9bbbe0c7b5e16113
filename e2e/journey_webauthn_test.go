package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/portvakt/portvakt/internal/authn/webauthn/webauthntest"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/session"
)

// Security keys and passkeys, walked in Chromium with a virtual
// authenticator standing in for the user's key or device: a YubiKey as
// the second step after the password, a passkey that signs in without a
// password (by the button and by autofill) until it is removed, and the
// Swedish sign-in page. The server runs on http://localhost (see
// waStartServer).

// Kari adds her YubiKey on the security page, then signs in with her
// password and the key.
func TestJourney_WebAuthn_SecurityKey(t *testing.T) {
	t.Parallel()
	srv := waStartServer(t)
	const email, pw = "kari.nordmann@example.com", "fjord-kayak-lighthouse-42"
	mfaAccount(t, srv, flow.NewAccount{Name: "Kari Nordmann", Email: email, Password: pw})
	mail := mfaMail(srv, email)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en-GB,en;q=0.9"))
	yubikey := waSecurityKey(t, p)

	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/account")
	p.Open(srv.URL + "/account/security")
	if got := waKeys(p); len(got) != 0 {
		t.Fatalf("a new account lists keys %+v", got)
	}
	if got := p.Text("#keys ul.keys"); got != "None yet." {
		t.Errorf("the key list of a new account reads %q", got)
	}

	waAddKey(t, p, false, "YubiKey", "Add a security key")
	if got, want := p.Text(".notice"), "The key is added. We have emailed you a confirmation."; got != want {
		t.Errorf("notice after adding the key = %q, want %q", got, want)
	}
	keys := waKeys(p)
	if len(keys) != 1 || keys[0].Name != "YubiKey" || keys[0].Kind != "Security key (second step)" {
		t.Fatalf("the security page lists %+v, want the YubiKey as a security key", keys)
	}
	if !strings.Contains(keys[0].Info, "last used never") {
		t.Errorf("a key never used says %q", keys[0].Info)
	}
	creds := yubikey.credentials(t)
	if len(creds) != 1 || creds[0].RpID != "localhost" || creds[0].IsResidentCredential {
		t.Fatalf("the key holds %+v, want one non-resident credential for localhost", creds)
	}
	added := mail.next(t, "A sign-in method was added")
	if !strings.Contains(added.Text, "YubiKey") {
		t.Errorf("the confirmation does not name the key:\n%s", added.Text)
	}
	mfaSignOut(t, p)

	// The password is no longer enough: the second step asks for the key.
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/login/factor")
	if got := p.Text("#factor-title"); got != "Security key or passkey" {
		t.Fatalf("the second step asks for %q, want the security key", got)
	}
	button := `form[data-webauthn="factor"] button[type="submit"]`
	if got := p.Text(button); got != "Use my security key or passkey" {
		t.Errorf("the second step's button reads %q", got)
	}
	if p.Exists(`form[action="/logout"]`) {
		t.Fatal("signed in before the second step")
	}
	waCeremony(t, p, button)
	mfaAt(t, p, "/account")

	level := waSessionLevel(t, srv, p)
	if amr := waAMR(level); !strings.HasPrefix(level, "Strength 4,") || !slices.Contains(amr, "hwk") || !slices.Contains(amr, "pwd") {
		t.Errorf("after password and key the sign-in is %q, want strength 4 with pwd and hwk", level)
	}
	keys = waKeys(p)
	if len(keys) != 1 || strings.Contains(keys[0].Info, "last used never") {
		t.Errorf("after using the key the security page lists %+v, want it used", keys)
	}

	// A new name, so she can tell it from the spare key.
	rename := `#keys li.key form[action="/account/security/keys/rename"]`
	p.Fill(rename+` input[name="name"]`, "YubiKey 5C (keyring)")
	p.Submit(rename + ` button[type="submit"]`)
	mfaAt(t, p, "/account/security")
	if got, want := p.Text(".notice"), "The key is renamed."; got != want {
		t.Errorf("notice after renaming = %q, want %q", got, want)
	}
	if keys = waKeys(p); len(keys) != 1 || keys[0].Name != "YubiKey 5C (keyring)" {
		t.Errorf("after renaming the security page lists %+v", keys)
	}
	if got := mail.unread(t); len(got) != 0 {
		t.Errorf("unexpected mail: %q", got)
	}
}

// Ola creates a passkey on his laptop and signs in with it, by the button
// and by autofill, without his password; he removes it, and the laptop's
// passkey no longer signs in.
func TestJourney_WebAuthn_Passkey(t *testing.T) {
	t.Parallel()
	srv := waStartServer(t)
	const email, pw = "ola.nordmann@example.com", "harbour-spruce-moose-77"
	mfaAccount(t, srv, flow.NewAccount{Name: "Ola Nordmann", Email: email, Password: pw})
	mail := mfaMail(srv, email)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en-GB,en;q=0.9"))
	laptop := waPlatform(t, p)

	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/account")
	p.Open(srv.URL + "/account/security")
	waAddKey(t, p, true, "Work laptop", "Create a passkey")
	keys := waKeys(p)
	if len(keys) != 1 || keys[0].Name != "Work laptop" || keys[0].Kind != "Passkey (signs in without a password)" {
		t.Fatalf("the security page lists %+v, want the work laptop as a passkey", keys)
	}
	creds := laptop.credentials(t)
	if len(creds) != 1 || creds[0].RpID != "localhost" || !creds[0].IsResidentCredential {
		t.Fatalf("the laptop holds %+v, want one passkey (resident credential) for localhost", creds)
	}
	mail.next(t, "A sign-in method was added")
	mfaSignOut(t, p)

	// The button. Ola ignores the autofill offer in the email field and
	// presses "Sign in with a passkey"; he types nothing.
	undo := waIgnoreAutofill(t, p)
	p.Open(srv.URL + "/login")
	waAutofillOffered(t, p)
	button := `form[data-webauthn="passkey"] button[type="submit"]`
	if got := p.Text(button); got != "Sign in with a passkey" {
		t.Errorf("the sign-in page's passkey button reads %q", got)
	}
	if got := p.Value("#email"); got != "" {
		t.Errorf("the email field holds %q before pressing the passkey button", got)
	}
	waCeremony(t, p, button)
	mfaAt(t, p, "/account")
	if got := p.Text("main"); !strings.Contains(got, email) {
		t.Errorf("the account page does not show Ola's address:\n%s", got)
	}
	level := waSessionLevel(t, srv, p)
	amr := waAMR(level)
	if !strings.HasPrefix(level, "Strength 4,") || !slices.Contains(amr, "hwk") || !slices.Contains(amr, "user") || slices.Contains(amr, "pwd") {
		t.Errorf("after the passkey the sign-in is %q, want strength 4 with hwk and user and no password", level)
	}
	keys = waKeys(p)
	if len(keys) != 1 || keys[0].Kind != "Passkey (signs in without a password)" || strings.Contains(keys[0].Info, "last used never") {
		t.Errorf("after signing in with it the security page lists %+v, want the passkey, used", keys)
	}
	mfaSignOut(t, p)

	// Autofill: the sign-in page offers the passkey in the email field,
	// and picking it (the virtual authenticator picks at once) signs in.
	undo()
	p.Open(srv.URL + "/login")
	p.WaitVisible(`form[action="/logout"]`)
	mfaAt(t, p, "/account")
	if amr := waAMR(waSessionLevel(t, srv, p)); !slices.Contains(amr, "hwk") || slices.Contains(amr, "pwd") {
		t.Errorf("after passkey autofill the methods are %q, want hwk without pwd", amr)
	}

	// Removing it: the sign-in is fresh, so no re-authentication.
	p.Submit(`#keys li.key form[action="/account/security/keys/remove"] button`)
	mfaAt(t, p, "/account/security")
	if got, want := p.Text(".notice"), "The sign-in method is removed. We have emailed you a confirmation."; got != want {
		t.Errorf("notice after removing the passkey = %q, want %q", got, want)
	}
	if got := waKeys(p); len(got) != 0 {
		t.Errorf("after removing it the security page lists %+v", got)
	}
	removed := mail.next(t, "A sign-in method was removed")
	if !strings.Contains(removed.Text, "Work laptop") {
		t.Errorf("the removal mail does not name the passkey:\n%s", removed.Text)
	}
	mfaSignOut(t, p)

	// The laptop still holds the passkey, but the server no longer knows it.
	if got := laptop.credentials(t); len(got) != 1 {
		t.Fatalf("the laptop holds %d credentials, want the removed passkey still", len(got))
	}
	waIgnoreAutofill(t, p)
	p.Open(srv.URL + "/login")
	waAutofillOffered(t, p)
	waCeremony(t, p, button)
	if p.Exists(`form[action="/logout"]`) {
		t.Fatal("a removed passkey signed in")
	}
	if got, want := p.Text("main p"), "This security key or passkey is not registered to this account. Use another one, or sign in another way."; got != want {
		t.Errorf("signing in with the removed passkey says %q, want %q", got, want)
	}
	if got := mfaStatus(p); got != 403 {
		t.Errorf("the refusal's status is %d, want 403", got)
	}
	if href, _ := p.Attr(`main a[href="/login"]`, "href"); href != "/login" {
		t.Errorf("the refusal offers no way back to the sign-in page")
	}
}

// The sign-in page in Swedish offers "Logga in med nyckel".
func TestJourney_WebAuthn_Swedish(t *testing.T) {
	t.Parallel()
	srv := waStartServer(t)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("sv-SE,sv;q=0.9"))
	p.Open(srv.URL + "/login")
	if got := p.Text(`form[data-webauthn="passkey"] button[type="submit"]`); got != "Logga in med nyckel" {
		t.Errorf("the Swedish passkey button reads %q, want %q", got, "Logga in med nyckel")
	}
	if got := p.Text(`form[data-webauthn="passkey"] p.hint:not([hidden])`); got != "Inget lösenord behövs: enheten ber om fingeravtryck, ansikte eller pinkod." {
		t.Errorf("the Swedish passkey hint reads %q", got)
	}
}

// A passkey-only user (no password) without her passkey at hand gets back
// in, in Norwegian, with a recovery code: "Glemt passordet?", the code from
// the mail, a new password, and then, because the account has a passkey,
// the second step of the reset, where "another way" is the recovery code
// she saved when she made the passkey. The mailbox alone would not do.
func TestJourney_PasskeyOnlyRecoversWithARecoveryCode(t *testing.T) {
	t.Parallel()
	srv := waStartServer(t)
	const email = "passe.nokkel@example.no"
	const newPassword = "nordlys over lofoten i januar"
	acct, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Passe Nøkkel", Email: email, Lang: "nb"})
	if err != nil {
		t.Fatal(err)
	}
	// She accepted the invitation (her mailbox) and made a passkey on her
	// phone; Portvakt gave her recovery codes with it.
	_, sess, err := srv.App.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"mca"}, Level: 1, Methods: []string{"email"}}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	who := flow.Who{Account: acct, Session: sess}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Portvakt", Origin: srv.URL}
	phoneKey := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(acct.ID)})
	cred := webauthntest.NewEC2Credential()
	id, opts, err := srv.App.Flows.BeginKeyRegistration(t.Context(), flow.Client{Lang: "nb"}, who, true)
	if err != nil {
		t.Fatal(err)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(opts))
	if err != nil {
		t.Fatal(err)
	}
	att := virtualwebauthn.CreateAttestationResponse(rp, phoneKey, cred, *ao)
	_, codes, err := srv.App.Flows.FinishKeyRegistration(t.Context(), flow.Client{Lang: "nb"}, who, id, []byte(att), "Mobilen")
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("a first passkey came with %d recovery codes, want 10", len(codes))
	}
	mail := openInbox(srv, email)

	// On a borrowed laptop, without the phone.
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9"))
	startRecovery(t, srv, p, email, "code")
	wantPath(t, p, "/recover/code")
	enterCode(t, p, readCode(t, mail.next(t, "Kode for nytt passord")))
	wantPath(t, p, "/recover/password")
	p.Fill("#password", newPassword)
	p.Submit(`form[action="/recover/password"] button[type="submit"]`)

	// The reset waits for the second step, and says so.
	wantPath(t, p, "/login/factor")
	if got := p.Text("h1"); got != "Bekreft at det er deg før det nye passordet gjelder" {
		t.Errorf("the reset's second step is headed %q", got)
	}
	if got := p.Text("main > p"); !strings.Contains(got, "det gamle passordet virker fortsatt") && !strings.Contains(got, "ingenting er endret") {
		t.Errorf("the step's lead = %q, want it to say nothing has changed yet", got)
	}
	if strings.Contains(p.HTML(), "method=email") {
		t.Error("the mailbox is offered as the second step of a reset")
	}
	if got := p.Text("#support-hint"); !strings.Contains(got, "brukerstøtten") {
		t.Errorf("the step does not say how to ask support: %q", got)
	}
	p.Submit(`#others-title ~ ul a[href*="method=recovery"]`)
	enterCode(t, p, codes[3])
	wantPath(t, p, "/account")

	changed := mail.next(t, "Passordet ditt hos Portvakt er endret")
	if !strings.Contains(changed.Text, "alle veiene inn til kontoen din") || !strings.Contains(changed.Text, "Mobilen") {
		t.Errorf("the mail after the reset does not list her ways in:\n%s", changed.Text)
	}
}
