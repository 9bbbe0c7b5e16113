package flow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/store"
)

// The Altinn profile's password policy (preset altinn: letters and digits,
// 15 characters, or 8 with a second factor) and second factors (SMS and
// recovery codes), from examples/profiles/altinn.yaml. mode overrides the
// profile's "required" where a test needs an account without a factor to
// sign in.
func altinnEnv(t *testing.T, mode string) (*env, *phone) {
	t.Helper()
	cfg, err := config.Load("../../examples/profiles/altinn.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password.Preset != "altinn" || cfg.MFA.Mode != flow.MFARequired {
		t.Fatalf("the altinn profile changed: password %+v, mfa mode %q", cfg.Password, cfg.MFA.Mode)
	}
	e := newEnv(t)
	ph := withMFA(t, e, cfg.MFA.Mode, 0)
	if mode != "" {
		e.svc.MFA.Mode = mode
	}
	e.svc.MFA.Methods = nil
	for _, name := range cfg.MFA.Methods {
		m, ok := authn.Parse(name)
		if !ok {
			t.Fatalf("unknown method %q in the altinn profile", name)
		}
		e.svc.MFA.Methods = append(e.svc.MFA.Methods, m)
	}
	if e.svc.Policy, err = cfg.Password.Policy(); err != nil {
		t.Fatal(err)
	}
	e.svc.ServiceName = cfg.ServiceName
	return e, ph
}

const (
	altinnPassword = "Hemmeligordetmitt42" // 19 characters, the account's first
	password13     = "Fjordbris2026"       // 13: enough with a second factor, not without
)

// smsSignIn signs in by username and password and then with the SMS code
// sent to phone.
func smsSignIn(t *testing.T, e *env, ph *phone, c flow.Client, username, pw, phone string) flow.Result {
	t.Helper()
	res, err := e.svc.LoginUsername(t.Context(), c, username, pw)
	if err != nil {
		t.Fatalf("sign-in with %q: %v", pw, err)
	}
	return passSMS(t, e, ph, c, res, phone)
}

// passSMS finishes a pending second step with the SMS code.
func passSMS(t *testing.T, e *env, ph *phone, c flow.Client, res flow.Result, phone string) flow.Result {
	t.Helper()
	if res.Pending == "" {
		t.Fatalf("no second step asked: %+v", res)
	}
	key := keyOf(t, e, c, res.Pending, authn.SMS)
	if err := e.svc.SendFactorCode(t.Context(), c, res.Pending, key); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.VerifyFactor(t.Context(), c, res.Pending, key, ph.lastCode(t, phone), false)
	if err != nil {
		t.Fatal(err)
	}
	if out.Token == "" {
		t.Fatalf("no session after the SMS code: %+v", out)
	}
	return out
}

// resetTo resets the password by emailed code and returns what the last
// step answered.
func resetTo(t *testing.T, e *env, c flow.Client, email, pw string) (flow.Result, error) {
	t.Helper()
	f, err := e.svc.StartRecovery(t.Context(), c, email, flow.MethodCode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyRecoveryCode(t.Context(), c, f.ID, e.mail.last(t, email).Data["code"].(string)); err != nil {
		t.Fatal(err)
	}
	return e.svc.CompleteRecovery(t.Context(), c, f.ID, pw)
}

// wantTooShort asserts err refuses the password as shorter than min, and
// that the message the user reads (in Bokmål, Altinn's language) names min.
func wantTooShort(t *testing.T, err error, min int) {
	t.Helper()
	p := wantProblem(t, err, "password.too_short")
	cat, cerr := i18n.New(nil)
	if cerr != nil {
		t.Fatal(cerr)
	}
	for _, d := range p.Details {
		if d.Key != "password.too_short" {
			continue
		}
		if d.Args["min"] != min {
			t.Errorf("too_short min = %v, want %d", d.Args["min"], min)
		}
		if msg, want := cat.Lang("nb").T(d.Key, d.Args), fmt.Sprintf("minst %d tegn", min); !strings.Contains(msg, want) {
			t.Errorf("the message = %q, want it to say %q", msg, want)
		}
	}
}

// An Altinn user who signs in with SMS may choose a 13-character password
// (the policy's length with a second factor) when changing it and when
// resetting it; a user without a second factor is held to 15, and told so.
func TestPasswordLengthFollowsTheAccountsSecondFactor(t *testing.T) {
	t.Run("with SMS", func(t *testing.T) {
		e, ph := altinnEnv(t, "")
		acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "01017012345", Name: "Kari Nordmann", Email: "kari@example.no", Password: altinnPassword, Phone: "912 34 567"})
		if err != nil {
			t.Fatal(err)
		}
		res := smsSignIn(t, e, ph, browserA, acct.Username, altinnPassword, "+4791234567")
		who := flow.Who{Account: res.Account, Session: res.Session}
		// The length is the only rule that differs: 7 characters are
		// still too short, and the message names the 8 that apply.
		_, err = e.svc.ChangePassword(t.Context(), browserA, who, altinnPassword, "Fjord26")
		wantTooShort(t, err, 8)
		if _, err := e.svc.ChangePassword(t.Context(), browserA, who, altinnPassword, password13); err != nil {
			t.Fatalf("change to 13 characters with SMS: %v", err)
		}
		smsSignIn(t, e, ph, browserB, acct.Username, password13, "+4791234567")

		const reset13 = "Havbris2027ab"
		out, err := resetTo(t, e, browserB, "kari@example.no", reset13)
		if err != nil {
			t.Fatalf("reset to 13 characters with SMS: %v", err)
		}
		if out.Pending != "" {
			passSMS(t, e, ph, browserB, out, "+4791234567")
		}
		smsSignIn(t, e, ph, browserA, acct.Username, reset13, "+4791234567")
	})

	t.Run("without a factor", func(t *testing.T) {
		// Optional, so that an account without a factor signs in at all.
		e, _ := altinnEnv(t, flow.MFAOptional)
		acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "02027012345", Name: "Ola Nordmann", Email: "ola@example.no", Password: altinnPassword})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.LoginUsername(t.Context(), browserA, acct.Username, altinnPassword)
		if err != nil || res.Token == "" {
			t.Fatalf("sign-in = %+v, %v", res, err)
		}
		who := flow.Who{Account: res.Account, Session: res.Session}
		_, err = e.svc.ChangePassword(t.Context(), browserA, who, altinnPassword, password13)
		wantTooShort(t, err, 15)
		_, err = resetTo(t, e, browserB, "ola@example.no", password13)
		wantTooShort(t, err, 15)
		// The old password still works: nothing was changed.
		if res, err := e.svc.LoginUsername(t.Context(), browserA, acct.Username, altinnPassword); err != nil || res.Token == "" {
			t.Errorf("the old password after the refusals = %+v, %v", res, err)
		}
	})
}

// What counts as the second factor that lowers the length: a confirmed
// phone or authenticator, or a security key, that sign-in asks for. A
// phone not yet confirmed does not, nor any factor when second factors are
// off or the method is not offered.
func TestPasswordLengthCountsOnlyFactorsSignInAsks(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		setUp  func(t *testing.T, e *env, accountID string)
		wantOK bool
	}{
		{"confirmed SMS", "", addFactor(store.FactorSMS, true), true},
		{"unconfirmed SMS", "", addFactor(store.FactorSMS, false), false},
		{"confirmed SMS, second factors off", flow.MFAOff, addFactor(store.FactorSMS, true), false},
		// Altinn offers sms and recovery only: an authenticator app is
		// never asked for.
		{"confirmed TOTP the profile does not offer", "", addFactor(store.FactorTOTP, true), false},
		{"confirmed TOTP, offered", "", func(t *testing.T, e *env, id string) {
			e.svc.MFA.Methods = append(e.svc.MFA.Methods, authn.TOTP)
			addFactor(store.FactorTOTP, true)(t, e, id)
		}, true},
		{"security key", "", addKey(true), true},
		{"security key, keys not set up", "", addKey(false), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := altinnEnv(t, flow.MFAOptional)
			if tt.mode != "" {
				e.svc.MFA.Mode = tt.mode
			}
			acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "03037012345", Name: "Per Hansen", Email: "per@example.no", Password: altinnPassword})
			if err != nil {
				t.Fatal(err)
			}
			tt.setUp(t, e, acct.ID)
			_, err = resetTo(t, e, browserA, "per@example.no", password13)
			if tt.wantOK && err != nil {
				t.Errorf("reset to 13 characters: %v, want it accepted", err)
			}
			if !tt.wantOK {
				wantTooShort(t, err, 15)
			}
		})
	}
}

func addFactor(kind string, confirmed bool) func(t *testing.T, e *env, accountID string) {
	return func(t *testing.T, e *env, accountID string) {
		t.Helper()
		f := store.Factor{ID: "f-" + kind, AccountID: accountID, Kind: kind, Name: kind, CreatedAt: e.clock.Now()}
		if kind == store.FactorSMS {
			f.Phone = "+4791234567"
		} else {
			f.Secret = []byte("sealed seed")
		}
		if confirmed {
			f.ConfirmedAt = e.clock.Now()
		}
		if err := e.db.CreateFactor(t.Context(), f); err != nil {
			t.Fatal(err)
		}
	}
}

func addKey(enabled bool) func(t *testing.T, e *env, accountID string) {
	return func(t *testing.T, e *env, accountID string) {
		t.Helper()
		if enabled {
			wa, err := webauthn.New(webauthn.Config{RPID: "id.example.org", RPName: "Altinn", Origins: []string{"https://id.example.org"}})
			if err != nil {
				t.Fatal(err)
			}
			e.svc.WebAuthn = wa
			e.svc.MFA.Methods = append(e.svc.MFA.Methods, authn.WebAuthn)
		}
		if err := e.db.CreateWebAuthnCredential(t.Context(), store.WebAuthnCredential{ID: []byte("credential 1"), AccountID: accountID, Name: "YubiKey", PublicKey: []byte("key"), CreatedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}

// An operator who creates an account with a phone (portvakt user add
// --phone, the admin API) sets its password under the length with a second
// factor; without a phone, under the length without.
func TestAdminSetPasswordKnowsThePhone(t *testing.T) {
	e, _ := altinnEnv(t, "")
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "04047012345", Name: "Kari", Password: password13, Phone: "912 34 567"}); err != nil {
		t.Errorf("13 characters with a phone: %v", err)
	}
	_, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "05057012345", Name: "Ola", Password: password13})
	wantTooShort(t, err, 15)
}

// failingFactors is the real store, except that listing factors fails
// once failing is set.
type failingFactors struct {
	flow.Store
	failing atomic.Bool
}

var errDown = errors.New("database is down")

func (f *failingFactors) ListFactors(ctx context.Context, accountID string) ([]store.Factor, error) {
	if f.failing.Load() {
		return nil, errDown
	}
	return f.Store.ListFactors(ctx, accountID)
}

// When the store cannot say whether the account has a second factor, the
// password is not changed: neither length is guessed.
func TestPasswordChangeFailsClosedWithoutTheFactors(t *testing.T) {
	e, ph := altinnEnv(t, "")
	fs := &failingFactors{Store: e.db}
	e.svc.Store = fs
	acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "01017012345", Name: "Kari Nordmann", Email: "kari@example.no", Password: altinnPassword, Phone: "912 34 567"})
	if err != nil {
		t.Fatal(err)
	}
	res := smsSignIn(t, e, ph, browserA, acct.Username, altinnPassword, "+4791234567")
	fs.failing.Store(true)
	_, err = e.svc.ChangePassword(t.Context(), browserA, flow.Who{Account: res.Account, Session: res.Session}, altinnPassword, "Hemmeligordetmitt42ogmer")
	if !errors.Is(err, errDown) {
		t.Errorf("ChangePassword with the factors unreadable = %v, want the store's error", err)
	}
	if _, err := e.svc.PasswordHasMFA(t.Context(), acct.ID); !errors.Is(err, errDown) {
		t.Errorf("PasswordHasMFA with the factors unreadable = %v, want the store's error", err)
	}
	fs.failing.Store(false)
	smsSignIn(t, e, ph, browserB, acct.Username, altinnPassword, "+4791234567")
}

// The live check learns whose password a recovery flow sets only from the
// browser that asked, and only once the code was right: before that, the
// length it applies must not tell a stranger whether the address's account
// has a second factor.
func TestRecoveringAccountOnlyAfterTheCode(t *testing.T) {
	e, _ := altinnEnv(t, "")
	acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "01017012345", Name: "Kari Nordmann", Email: "kari@example.no", Password: altinnPassword, Phone: "912 34 567"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.svc.StartRecovery(t.Context(), browserA, "kari@example.no", flow.MethodCode)
	if err != nil {
		t.Fatal(err)
	}
	recovering := func(c flow.Client, id string) string {
		t.Helper()
		got, err := e.svc.RecoveringAccount(t.Context(), c, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := recovering(browserA, f.ID); got != "" {
		t.Errorf("before the code: %q, want none", got)
	}
	if _, err := e.svc.VerifyRecoveryCode(t.Context(), browserA, f.ID, e.mail.last(t, "kari@example.no").Data["code"].(string)); err != nil {
		t.Fatal(err)
	}
	if got := recovering(browserA, f.ID); got != acct.ID {
		t.Errorf("after the code: %q, want %q", got, acct.ID)
	}
	if got := recovering(browserB, f.ID); got != "" {
		t.Errorf("another browser: %q, want none", got)
	}
	if got := recovering(browserA, "no-such-flow"); got != "" {
		t.Errorf("an unknown flow: %q, want none", got)
	}
}
