package flow_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/authn/webauthn/webauthntest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// The attack matrix of docs/security/assurance.md: each cell is what an
// attacker holding the row's secrets reaches on an account set up as the
// column says. The expected values are read from the document, so the
// model and the test cannot drift apart.

const (
	ownerEmail = "owner@example.no"
	ownerPhone = "+4791234567"
	// attackerPassword is what an attacker who resets the password sets.
	attackerPassword = "the attacker's own long passphrase"
)

// attacker is the browser an attacker uses: never the owner's.
var attacker = flow.Client{Browser: secret.Hash("attacker's browser"), IP: "203.0.113.66", UserAgent: "curl/8", Lang: "en"}

// readMatrix returns the table between the matrix markers as
// row → column → cell.
func readMatrix(t *testing.T) (rows, cols []string, cells map[string]map[string]string) {
	t.Helper()
	f, err := os.Open("../../docs/security/assurance.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells = map[string]map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "<!-- matrix:begin -->":
			in = true
			continue
		case line == "<!-- matrix:end -->":
			in = false
		}
		if !in || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		parts := strings.Split(strings.Trim(line, "|"), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if cols == nil {
			cols = parts[1:]
			continue
		}
		rows = append(rows, parts[0])
		cells[parts[0]] = map[string]string{}
		for i, c := range parts[1:] {
			cells[parts[0]][cols[i]] = c
		}
	}
	if len(rows) != 6 || len(cols) != 6 {
		t.Fatalf("the matrix in docs/security/assurance.md has %d rows and %d columns, want 6 and 6", len(rows), len(cols))
	}
	return rows, cols, cells
}

// reach is what an attacker got: the best session level (0: none) and
// whether that session could change factors and addresses.
type reach struct {
	level   int
	changes bool
}

var cellRE = regexp.MustCompile(`^(?:—|L([1-4])( \+ changes)?)$`)

func parseCell(t *testing.T, s string) reach {
	t.Helper()
	m := cellRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("matrix cell %q is not —, L<n> or L<n> + changes", s)
	}
	if m[1] == "" {
		return reach{}
	}
	return reach{level: int(m[1][0] - '0'), changes: m[2] != ""}
}

func (r reach) String() string {
	switch {
	case r.level == 0:
		return "—"
	case r.changes:
		return "L" + string(rune('0'+r.level)) + " + changes"
	default:
		return "L" + string(rune('0'+r.level))
	}
}

// account is one column's account with what its owner holds.
type account struct {
	e        *env
	ph       *phone
	id       string
	username string // IDEP signs in by username
	password string // "" for a passkey-only account
	// ownerSession signs the owner in fully (the column's normal sign-in),
	// with "remember this browser" when asked.
	ownerSession func(t *testing.T, remember bool) flow.Result
}

func newMatrixEnv(t *testing.T, dialect string) *env {
	if dialect == "postgres" {
		return newEnvWith(t, "postgres", pgtest.Shared(t).NewDatabase(t), fastHasher(t))
	}
	return newEnv(t)
}

func withKeys(t *testing.T, e *env) {
	t.Helper()
	w, err := webauthn.New(webauthn.Config{RPID: "localhost", RPName: "Portvakt", Origins: []string{"http://localhost:8080"}})
	if err != nil {
		t.Fatal(err)
	}
	w.Now = e.clock.Now
	e.svc.WebAuthn = w
	e.svc.MFA.Methods = append(e.svc.MFA.Methods, authn.WebAuthn)
}

var rp = virtualwebauthn.RelyingParty{ID: "localhost", Name: "Portvakt", Origin: "http://localhost:8080"}

// registerKey registers a key (a passkey when passkey is set) for who.
func registerKey(t *testing.T, e *env, who flow.Who, auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential, passkey bool) {
	t.Helper()
	id, opts, err := e.svc.BeginKeyRegistration(t.Context(), browserA, who, passkey)
	if err != nil {
		t.Fatal(err)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(opts))
	if err != nil {
		t.Fatal(err)
	}
	att := virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *ao)
	if _, _, err := e.svc.FinishKeyRegistration(t.Context(), browserA, who, id, []byte(att), "Key"); err != nil {
		t.Fatal(err)
	}
}

func setUp(t *testing.T, dialect, column string) *account {
	t.Helper()
	e := newMatrixEnv(t, dialect)
	ph := withMFA(t, e, flow.MFAOptional, 20)
	a := &account{e: e, ph: ph, password: goodPassword}
	passwordStep := func(t *testing.T, c flow.Client) flow.Result {
		t.Helper()
		var res flow.Result
		var err error
		if a.username != "" {
			res, err = e.svc.LoginUsername(t.Context(), c, a.username, a.password)
		} else {
			var f store.Flow
			if f, err = e.svc.StartLogin(t.Context(), c, ownerEmail, false); err == nil {
				res, err = e.svc.LoginPassword(t.Context(), c, f.ID, a.password)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	second := func(t *testing.T, p flow.Result, m authn.Method, code func() string, remember bool) flow.Result {
		t.Helper()
		key := keyOf(t, e, browserA, p.Pending, m)
		if m == authn.SMS || m == authn.Email {
			if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
				t.Fatal(err)
			}
		}
		out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, key, code(), remember)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	switch column {
	case "password only":
		a.id = signUp(t, e, ownerEmail).Account.ID
		a.ownerSession = func(t *testing.T, _ bool) flow.Result { return passwordStep(t, browserA) }
	case "password + email (IDEP)":
		e.svc.MFA.Mode, e.svc.MFA.Methods = flow.MFARequired, []authn.Method{authn.Email}
		acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "10042", Name: "Maria", Email: ownerEmail, Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		a.id, a.username = acct.ID, "10042"
		a.ownerSession = func(t *testing.T, remember bool) flow.Result {
			return second(t, passwordStep(t, browserA), authn.Email, func() string { return e.mail.last(t, ownerEmail).Data["code"].(string) }, remember)
		}
	case "password + SMS":
		res := signUp(t, e, ownerEmail)
		a.id = res.Account.ID
		who := flow.Who{Account: res.Account, Session: res.Session}
		f, err := e.svc.StartAddPhone(t.Context(), browserA, who, ownerPhone)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ConfirmPhone(t.Context(), browserA, who, f.ID, ph.lastCode(t, ownerPhone)); err != nil {
			t.Fatal(err)
		}
		a.ownerSession = func(t *testing.T, remember bool) flow.Result {
			return second(t, passwordStep(t, browserA), authn.SMS, func() string { return ph.lastCode(t, ownerPhone) }, remember)
		}
	case "password + TOTP":
		res := signUp(t, e, ownerEmail)
		a.id = res.Account.ID
		seed, _ := enrolTOTP(t, e, res)
		a.ownerSession = func(t *testing.T, remember bool) flow.Result {
			e.clock.Advance(30 * time.Second)
			return second(t, passwordStep(t, browserA), authn.TOTP, func() string { return totpCode(t, e, seed, 0) }, remember)
		}
	case "password + security key":
		withKeys(t, e)
		res := signUp(t, e, ownerEmail)
		a.id = res.Account.ID
		yubikey := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
		cred := webauthntest.NewEC2Credential()
		registerKey(t, e, flow.Who{Account: res.Account, Session: res.Session}, yubikey, cred, false)
		yubikey.AddCredential(cred)
		a.ownerSession = func(t *testing.T, remember bool) flow.Result {
			p := passwordStep(t, browserA)
			opts, err := e.svc.BeginFactorKey(t.Context(), browserA, p.Pending)
			if err != nil {
				t.Fatal(err)
			}
			ao, _ := virtualwebauthn.ParseAssertionOptions(string(opts))
			asr := virtualwebauthn.CreateAssertionResponse(rp, yubikey, cred, *ao)
			out, err := e.svc.VerifyFactorKey(t.Context(), browserA, p.Pending, []byte(asr), remember)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	case "passkey only":
		withKeys(t, e)
		acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Name: "Passe", Email: ownerEmail})
		if err != nil {
			t.Fatal(err)
		}
		a.id, a.password = acct.ID, ""
		// The owner proved the mailbox (an invitation) and adds a passkey.
		_, sess, err := e.svc.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"mca"}, Level: 1, Methods: []string{"email"}}, session.Client{})
		if err != nil {
			t.Fatal(err)
		}
		platform := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(acct.ID)})
		cred := webauthntest.NewEC2Credential()
		registerKey(t, e, flow.Who{Account: acct, Session: sess}, platform, cred, true)
		platform.AddCredential(cred)
		a.ownerSession = func(t *testing.T, _ bool) flow.Result {
			id, opts, err := e.svc.BeginPasskey(t.Context(), browserA)
			if err != nil {
				t.Fatal(err)
			}
			ao, _ := virtualwebauthn.ParseAssertionOptions(string(opts))
			asr := virtualwebauthn.CreateAssertionResponse(rp, platform, cred, *ao)
			out, err := e.svc.FinishPasskey(t.Context(), browserA, id, []byte(asr))
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	default:
		t.Fatalf("unknown column %q", column)
	}
	return a
}

// holdings are the secrets of a row.
type holdings struct {
	password, mailbox, phone, trust, session bool
}

var rowHoldings = map[string]holdings{
	"mailbox":                       {mailbox: true},
	"password":                      {password: true},
	"password + mailbox":            {password: true, mailbox: true},
	"phone (SIM swap)":              {phone: true},
	"remembered browser + password": {password: true, trust: true},
	"session cookie":                {session: true},
}

// attack tries every path open to someone with h and returns the best it
// reached.
func attack(t *testing.T, a *account, h holdings) reach {
	t.Helper()
	e := a.e
	best := reach{}
	consider := func(r reach) {
		if r.level > best.level || (r.level == best.level && r.changes) {
			best = r
		}
	}
	c := attacker
	if h.trust {
		out := a.ownerSession(t, true)
		if out.TrustToken != "" {
			c.Trust = secret.Hash(out.TrustToken)
		}
	}
	if h.session {
		out := a.ownerSession(t, false)
		acct, err := e.db.GetAccount(t.Context(), a.id)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(e.svc.MFA.ReauthAfter + 11*time.Minute)
		consider(probe(t, a, c, flow.Who{Account: acct, Session: out.Session}))
	}
	// finish takes a sign-in as far as the attacker's channels allow.
	// Bounded: a second step either opens a session or fails; steps
	// inside it are at most a few.
	steps := 0
	var finish func(res flow.Result, err error)
	finish = func(res flow.Result, err error) {
		if steps++; err != nil || steps > 20 {
			return
		}
		if res.Token != "" {
			consider(probe(t, a, c, flow.Who{Account: res.Account, Session: res.Session}))
			return
		}
		if res.Pending == "" {
			return
		}
		pf, err := e.svc.Factor(t.Context(), c, res.Pending)
		if err != nil {
			return
		}
		for _, o := range pf.Options {
			var code func() string
			switch {
			case o.Method == authn.Email && h.mailbox:
				code = func() string { return e.mail.last(t, o.Target).Data["code"].(string) }
			case o.Method == authn.SMS && h.phone:
				code = func() string { return a.ph.lastCode(t, ownerPhone) }
			default:
				continue
			}
			e.clock.Advance(2 * time.Minute) // past any resend cool-down
			if err := e.svc.SendFactorCode(t.Context(), c, res.Pending, o.Key()); err != nil {
				continue
			}
			finish(e.svc.VerifyFactor(t.Context(), c, res.Pending, o.Key(), code(), false))
		}
	}
	if h.password && a.password != "" {
		if a.username != "" {
			finish(e.svc.LoginUsername(t.Context(), c, a.username, a.password))
		} else if f, err := e.svc.StartLogin(t.Context(), c, ownerEmail, false); err == nil {
			finish(e.svc.LoginPassword(t.Context(), c, f.ID, a.password))
		}
	}
	if h.mailbox {
		// A reset by code, then whatever second step follows.
		if f, err := e.svc.StartRecovery(t.Context(), c, ownerEmail, flow.MethodCode); err == nil {
			code := e.mail.last(t, ownerEmail).Data["code"].(string)
			if _, err := e.svc.VerifyRecoveryCode(t.Context(), c, f.ID, code); err == nil {
				finish(e.svc.CompleteRecovery(t.Context(), c, f.ID, attackerPassword))
			}
		}
		// A magic link, opened in the attacker's own browser.
		e.clock.Advance(2 * time.Minute)
		if _, err := e.svc.StartRecovery(t.Context(), c, ownerEmail, flow.MethodMagic); err == nil {
			link := e.mail.last(t, ownerEmail).Data["link"].(string)
			token := link[strings.LastIndex(link, "/")+1:]
			if _, res, err := e.svc.UseLink(t.Context(), c, token); err == nil && res != nil {
				finish(*res, nil)
			}
		}
	}
	return best
}

// probe is what a session reaches: its level, and whether it can change
// the account's addresses and factors. Both changes must agree with
// flow.Recent: either all go through or all are refused as
// reauth.required.
func probe(t *testing.T, a *account, c flow.Client, who flow.Who) reach {
	t.Helper()
	e := a.e
	recent, err := e.svc.Recent(t.Context(), who)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]error{
		"make the main address main again": e.svc.SetPrimaryEmail(t.Context(), c, who, ownerEmail),
	}
	if slices.Contains(e.svc.MFA.Methods, authn.Recovery) {
		_, err := e.svc.RegenerateRecoveryCodes(t.Context(), c, who)
		results["regenerate recovery codes"] = err
	}
	for what, err := range results {
		switch {
		case recent && err != nil:
			t.Errorf("a recent session could not %s: %v", what, err)
		case !recent && err == nil:
			t.Errorf("a session that is not recent could %s", what)
		case !recent:
			if p, ok := problem.As(err); !ok || p.Details[0].Key != "reauth.required" {
				t.Errorf("%s in a session that is not recent: %v, want reauth.required", what, err)
			}
		}
	}
	return reach{level: who.Session.Level, changes: recent}
}

func TestAttackMatrix(t *testing.T) {
	rows, cols, cells := readMatrix(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			for _, col := range cols {
				for _, row := range rows {
					t.Run(col+"/"+row, func(t *testing.T) {
						h, ok := rowHoldings[row]
						if !ok {
							t.Fatalf("unknown row %q", row)
						}
						want := parseCell(t, cells[row][col])
						got := attack(t, setUp(t, dialect, col), h)
						if got != want {
							t.Errorf("attacker holding %s, account with %s: reached %s, the model says %s", row, col, got, want)
						}
					})
				}
			}
		})
	}
}

// Finding 1 of the assurance issue, replayed: with only the mailbox of an
// account that has an authenticator, reset the password by emailed code,
// then pick "email" in the second step. It stops where email is refused,
// the old password still works, and the authenticator survives.
func TestMailboxAloneCannotBeatAnAuthenticator(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		withMFA(t, e, flow.MFAOptional, 0)
		res := signUp(t, e, ownerEmail)
		enrolTOTP(t, e, res)
		f, err := e.svc.StartRecovery(t.Context(), attacker, ownerEmail, flow.MethodCode)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.VerifyRecoveryCode(t.Context(), attacker, f.ID, e.mail.last(t, ownerEmail).Data["code"].(string)); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.CompleteRecovery(t.Context(), attacker, f.ID, attackerPassword)
		if err != nil || out.Pending == "" || out.Token != "" {
			t.Fatalf("CompleteRecovery on an account with TOTP = %+v, %v; want a pending second step", out, err)
		}
		pf, err := e.svc.Factor(t.Context(), attacker, out.Pending)
		if err != nil {
			t.Fatal(err)
		}
		if pf.Purpose != "recovery" {
			t.Errorf("the step's purpose = %q, want recovery", pf.Purpose)
		}
		for _, o := range pf.Options {
			if o.Method == authn.Email {
				t.Fatalf("the mailbox is offered as the second step: %+v", pf.Options)
			}
		}
		// The email option's key, as it would be on an account without
		// TOTP, is refused.
		emailKey := "email:" + strings.Repeat("0", 20)
		wantProblem(t, e.svc.SendFactorCode(t.Context(), attacker, out.Pending, emailKey), "mfa.choose")
		// Nothing changed: the new password does not sign in, the old does.
		lf, _ := e.svc.StartLogin(t.Context(), attacker, ownerEmail, false)
		_, err = e.svc.LoginPassword(t.Context(), attacker, lf.ID, attackerPassword)
		wantProblem(t, err, "login.wrong_credentials")
		lf, _ = e.svc.StartLogin(t.Context(), browserA, ownerEmail, false)
		if p, err := e.svc.LoginPassword(t.Context(), browserA, lf.ID, goodPassword); err != nil || p.Pending == "" {
			t.Errorf("the owner's password after the attempt = %+v, %v; want it to work, with the TOTP step", p, err)
		}
		sec, err := e.svc.SecurityOverview(t.Context(), res.Account.ID)
		if err != nil || len(sec.TOTP) != 1 {
			t.Errorf("authenticators after the attempt = %d, %v; want 1", len(sec.TOTP), err)
		}
	})
}

// The reset goes through once the second factor is proven: the page's
// promise "until then nothing has changed" holds, and afterwards it has.
func TestResetWithTheSecondFactor(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	res := signUp(t, e, ownerEmail)
	_, codes := enrolTOTP(t, e, res)
	f, _ := e.svc.StartRecovery(t.Context(), browserA, ownerEmail, flow.MethodCode)
	e.svc.VerifyRecoveryCode(t.Context(), browserA, f.ID, e.mail.last(t, ownerEmail).Data["code"].(string))
	const next = "a new and long enough passphrase"
	out, err := e.svc.CompleteRecovery(t.Context(), browserA, f.ID, next)
	if err != nil || out.Pending == "" {
		t.Fatalf("CompleteRecovery = %+v, %v", out, err)
	}
	done, err := e.svc.VerifyFactor(t.Context(), browserA, out.Pending, "recovery", codes[0], false)
	if err != nil || done.Token == "" || !done.CredentialsChanged {
		t.Fatalf("the recovery code after the reset = %+v, %v; want a session and changed credentials", done, err)
	}
	// Mailbox + recovery code are two possessions: one factor, level 1.
	if done.Session.Level != 1 || slices.Contains(done.Session.AMR, "mfa") {
		t.Errorf("session after the reset: level %d amr %v, want level 1 without mfa", done.Session.Level, done.Session.AMR)
	}
	m := e.mail.last(t, ownerEmail)
	methods, _ := m.Data["methods"].([]string)
	if m.Template != "password_changed" || len(methods) < 3 {
		t.Errorf("mail after the reset = %s with methods %v, want password_changed listing password, address, authenticator and codes", m.Template, methods)
	}
	lf, _ := e.svc.StartLogin(t.Context(), browserA, ownerEmail, false)
	if _, err := e.svc.LoginPassword(t.Context(), browserA, lf.ID, next); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}
}

// Without first-use binding, the password alone binds nothing: an account
// that must have a second step proves its registered address first, and
// one without an address is told to ask for an invitation.
func TestEnrolmentNeedsTheRegisteredAddress(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFARequired, 0)
	e.svc.MFA.Methods = []authn.Method{authn.TOTP, authn.Recovery}
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "4711", Name: "Kari", Email: ownerEmail, Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.LoginUsername(t.Context(), attacker, "4711", goodPassword)
	if err != nil || p.Pending == "" {
		t.Fatalf("first sign-in = %+v, %v", p, err)
	}
	pf, err := e.svc.Factor(t.Context(), attacker, p.Pending)
	if err != nil {
		t.Fatal(err)
	}
	if !pf.Enrol || pf.ConfirmAddress != "ow…er@ex…no" || len(pf.CanEnrol) != 0 {
		t.Fatalf("enrol step = enrol %v confirm %q can %v; want the masked address to prove and nothing to set up yet", pf.Enrol, pf.ConfirmAddress, pf.CanEnrol)
	}
	if _, err := e.svc.EnrolTOTP(t.Context(), attacker, p.Pending); err == nil {
		t.Fatal("an authenticator was bound with the password alone")
	}
	// The code goes to the registered address, whatever is typed.
	if err := e.svc.EnrolEmail(t.Context(), attacker, p.Pending, "attacker@evil.example"); err != nil {
		t.Fatal(err)
	}
	if m := e.mail.last(t, ownerEmail); m.Template != "email_verify" {
		t.Fatalf("the code went as %q to the registered address", m.Template)
	}
	for _, m := range e.mail.sent {
		if m.To == "attacker@evil.example" {
			t.Fatal("a code went to the typed address")
		}
	}
	code := e.mail.last(t, ownerEmail).Data["code"].(string)
	if res, err := e.svc.ConfirmEnrolEmail(t.Context(), attacker, p.Pending, code); err != nil || res.Token != "" {
		t.Fatalf("ConfirmEnrolEmail = %+v, %v; want the step to go on, not a session", res, err)
	}
	pf, _ = e.svc.Factor(t.Context(), attacker, p.Pending)
	if pf.ConfirmAddress != "" || !slices.Equal(pf.CanEnrol, []authn.Method{authn.TOTP}) {
		t.Fatalf("after proving the address: confirm %q can %v, want the authenticator", pf.ConfirmAddress, pf.CanEnrol)
	}
	if _, err := e.svc.EnrolTOTP(t.Context(), attacker, p.Pending); err != nil {
		t.Fatal(err)
	}

	// Without an address: an invitation.
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "4712", Name: "Ola", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	p, err = e.svc.LoginUsername(t.Context(), attacker, "4712", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	pf, _ = e.svc.Factor(t.Context(), attacker, p.Pending)
	if !pf.NeedInvitation || len(pf.CanEnrol) != 0 {
		t.Errorf("an account without an address: invitation %v can %v, want an invitation and nothing to set up", pf.NeedInvitation, pf.CanEnrol)
	}
	if err := e.svc.EnrolEmail(t.Context(), attacker, p.Pending, "attacker@evil.example"); err == nil {
		t.Error("an address was bound to an account without one, with the password alone")
	}
}

// A password history that cannot be checked fails the change closed: it
// is never taken for "not reused".
func TestPasswordHistoryFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.svc.Policy.History = 3
	res := signUp(t, e, ownerEmail)
	pw, err := e.db.GetPassword(t.Context(), res.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	pw.History = []string{"$argon2id$v=19$m=oops"}
	if err := e.db.SetPassword(t.Context(), pw); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ChangePassword(t.Context(), browserA, flow.Who{Account: res.Account, Session: res.Session}, goodPassword, "a perfectly good new passphrase")
	if err == nil {
		t.Fatal("the password changed although its history could not be checked")
	}
	if _, ok := problem.As(err); ok {
		t.Errorf("a broken history is a fault, not the user's mistake: %v", err)
	}
}
