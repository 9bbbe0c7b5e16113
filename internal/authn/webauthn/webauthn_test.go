package webauthn_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

const (
	rpID   = "example.com"
	origin = "https://id.example.com"
)

// t0 is the tests' "now": the service's clock for Begin calls.
var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// rp is the relying party as the virtual browser sees it: the right one.
var rp = virtualwebauthn.RelyingParty{ID: rpID, Name: "Portvakt", Origin: origin}

func newService(tb testing.TB) *webauthn.Service {
	tb.Helper()
	s, err := webauthn.New(webauthn.Config{RPID: rpID, RPName: "Portvakt", Origins: []string{origin}})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	s.Now = func() time.Time { return t0 }
	return s
}

// An rsaCredential is made once: a 2048-bit key takes a while.
var rsaCredential = virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeRSA)

// wantProblem fails the test unless err is a *problem.Problem with the
// one detail key (and field "").
func wantProblem(tb testing.TB, call string, err error, key string) {
	tb.Helper()
	p, ok := problem.As(err)
	if !ok {
		tb.Errorf("%s: err = %v, want problem %s", call, err, key)
		return
	}
	if len(p.Details) != 1 || p.Details[0].Key != key || p.Details[0].Field != "" {
		tb.Errorf("%s: problem = %v, want the one key %s on no field", call, p, key)
	}
}

func must(tb testing.TB, call string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: err = %v, want nil", call, err)
	}
}

// register runs a registration of cred on auth for u, finished at t0 plus
// a minute, and returns the credential to store with u's credentials
// extended by it.
func register(tb testing.TB, s *webauthn.Service, u *webauthn.User, auth virtualwebauthn.Authenticator,
	cred virtualwebauthn.Credential, passkey bool) store.WebAuthnCredential {
	tb.Helper()
	opts, sess, err := s.BeginRegistration(*u, passkey)
	must(tb, "BeginRegistration", err)
	resp := attest(tb, rp, auth, cred, opts)
	c, err := s.FinishRegistration(*u, sess, resp, "Key", t0.Add(time.Minute))
	must(tb, "FinishRegistration", err)
	u.Credentials = append(u.Credentials, c)
	return c
}

// attest answers registration options as the browser would.
func attest(tb testing.TB, rp virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator,
	cred virtualwebauthn.Credential, options []byte) []byte {
	tb.Helper()
	ao, err := virtualwebauthn.ParseAttestationOptions(string(options))
	must(tb, "ParseAttestationOptions", err)
	return []byte(virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *ao))
}

// assert answers login options as the browser would.
func assert(tb testing.TB, rp virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator,
	cred virtualwebauthn.Credential, options []byte) []byte {
	tb.Helper()
	ao, err := virtualwebauthn.ParseAssertionOptions(string(options))
	must(tb, "ParseAssertionOptions", err)
	return []byte(virtualwebauthn.CreateAssertionResponse(rp, auth, cred, *ao))
}

// lookupOf returns a passkey lookup that finds the given users.
func lookupOf(users ...webauthn.User) func(userHandle, credentialID []byte) (webauthn.User, error) {
	return func(userHandle, _ []byte) (webauthn.User, error) {
		for _, u := range users {
			if u.ID == string(userHandle) {
				return u, nil
			}
		}
		return webauthn.User{}, fmt.Errorf("account %q: %w", userHandle, store.ErrNotFound)
	}
}

// publicKey decodes options JSON into a map, for checks of its fields.
func publicKey(tb testing.TB, options []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	must(tb, "json.Unmarshal(options)", json.Unmarshal(options, &m))
	return m
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestRegisterAndLogIn(t *testing.T) {
	for _, kt := range []struct {
		name string
		cred func() virtualwebauthn.Credential
	}{
		{"EC2", func() virtualwebauthn.Credential { return webauthn.NewEC2Credential() }},
		{"RSA", func() virtualwebauthn.Credential { return rsaCredential }},
	} {
		t.Run(kt.name+" security key registers and signs in as a second factor", func(t *testing.T) {
			s := newService(t)
			u := webauthn.User{ID: "acct-kari", Name: "kari@example.no", DisplayName: "Kari Nordmann"}
			auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
			cred := kt.cred()
			cred.Counter = 7

			opts, sess, err := s.BeginRegistration(u, false)
			must(t, "BeginRegistration(kari, false)", err)
			pk := publicKey(t, opts)
			sel, _ := pk["authenticatorSelection"].(map[string]any)
			if sel["residentKey"] != "discouraged" || sel["userVerification"] != "preferred" || sel["requireResidentKey"] != false {
				t.Errorf("BeginRegistration(kari, false) authenticatorSelection = %v, want residentKey discouraged, userVerification preferred", sel)
			}
			if user, _ := pk["user"].(map[string]any); user["id"] != b64([]byte("acct-kari")) ||
				user["name"] != "kari@example.no" || user["displayName"] != "Kari Nordmann" {
				t.Errorf("BeginRegistration(kari, false) user = %v, want the account ID base64url and the names", user)
			}
			if r, _ := pk["rp"].(map[string]any); r["id"] != rpID || r["name"] != "Portvakt" {
				t.Errorf("BeginRegistration(kari, false) rp = %v, want %s, Portvakt", r, rpID)
			}
			if pk["timeout"] != float64(300000) || pk["attestation"] != "none" || pk["excludeCredentials"] != nil {
				t.Errorf("BeginRegistration(kari, false) = timeout %v, attestation %v, excludeCredentials %v; want 300000, none, none",
					pk["timeout"], pk["attestation"], pk["excludeCredentials"])
			}

			got, err := s.FinishRegistration(u, sess, attest(t, rp, auth, cred, opts), "YubiKey", t0.Add(time.Minute))
			must(t, "FinishRegistration(kari)", err)
			if !bytes.Equal(got.ID, cred.ID) || got.AccountID != "acct-kari" || got.Name != "YubiKey" ||
				len(got.PublicKey) == 0 || !bytes.Equal(got.AAGUID, auth.Aaguid[:]) || got.SignCount != 7 ||
				got.Discoverable || got.BackupEligible || got.BackupState || got.CloneWarning ||
				got.AttestationType != "basic_surrogate" || !got.CreatedAt.Equal(t0.Add(time.Minute)) || !got.LastUsedAt.IsZero() {
				t.Errorf("FinishRegistration(kari) = %+v, want the credential, not discoverable, counter 7, created at t0+1m", got)
			}
			u.Credentials = []store.WebAuthnCredential{got}

			// A second registration excludes the first key.
			opts, _, err = s.BeginRegistration(u, false)
			must(t, "BeginRegistration(kari with a key)", err)
			ao, err := virtualwebauthn.ParseAttestationOptions(string(opts))
			must(t, "ParseAttestationOptions", err)
			if !cred.IsExcludedForAttestation(*ao) {
				t.Errorf("BeginRegistration(kari with a key) excludeCredentials = %v, want the key %s", ao.ExcludeCredentials, b64(cred.ID))
			}

			opts, sess, err = s.BeginLogin(u)
			must(t, "BeginLogin(kari)", err)
			pk = publicKey(t, opts)
			if pk["userVerification"] != "preferred" || pk["rpId"] != rpID {
				t.Errorf("BeginLogin(kari) = userVerification %v, rpId %v; want preferred, %s", pk["userVerification"], pk["rpId"], rpID)
			}
			lo, err := virtualwebauthn.ParseAssertionOptions(string(opts))
			must(t, "ParseAssertionOptions", err)
			if !cred.IsAllowedForAssertion(*lo) || len(lo.AllowCredentials) != 1 {
				t.Errorf("BeginLogin(kari) allowCredentials = %v, want just %s", lo.AllowCredentials, b64(cred.ID))
			}
			cred.Counter = 8
			now := t0.Add(2 * time.Minute)
			upd, flags, err := s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), now)
			must(t, "FinishLogin(kari)", err)
			want := got
			want.SignCount, want.LastUsedAt = 8, now
			if !reflect.DeepEqual(upd, want) {
				t.Errorf("FinishLogin(kari) credential\n got: %+v\nwant: %+v", upd, want)
			}
			if flags != (webauthn.Flags{UserPresent: true}) {
				t.Errorf("FinishLogin(kari) flags = %+v, want present but not verified", flags)
			}
		})

		t.Run(kt.name+" passkey registers and signs in without a username", func(t *testing.T) {
			s := newService(t)
			u := webauthn.User{ID: "acct-ola", Name: "ola"}
			// A synced passkey: backup eligible and backed up.
			auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{
				UserHandle: []byte("acct-ola"), BackupEligible: true, BackupState: true,
			})
			cred := kt.cred()
			cred.Counter = 0

			opts, sess, err := s.BeginRegistration(u, true)
			must(t, "BeginRegistration(ola, true)", err)
			sel, _ := publicKey(t, opts)["authenticatorSelection"].(map[string]any)
			if sel["residentKey"] != "required" || sel["requireResidentKey"] != true || sel["userVerification"] != "required" {
				t.Errorf("BeginRegistration(ola, true) authenticatorSelection = %v, want resident key and user verification required", sel)
			}
			got, err := s.FinishRegistration(u, sess, attest(t, rp, auth, cred, opts), "Phone", t0)
			must(t, "FinishRegistration(ola)", err)
			if !got.Discoverable || !got.BackupEligible || !got.BackupState || got.SignCount != 0 || got.AccountID != "acct-ola" {
				t.Errorf("FinishRegistration(ola) = %+v, want a discoverable, backed-up passkey of acct-ola with counter 0", got)
			}
			u.Credentials = []store.WebAuthnCredential{got}

			opts, sess, err = s.BeginPasskeyLogin()
			must(t, "BeginPasskeyLogin", err)
			pk := publicKey(t, opts)
			if pk["userVerification"] != "required" || pk["allowCredentials"] != nil || pk["rpId"] != rpID {
				t.Errorf("BeginPasskeyLogin = userVerification %v, allowCredentials %v, rpId %v; want required, none, %s",
					pk["userVerification"], pk["allowCredentials"], pk["rpId"], rpID)
			}
			var looked [][]byte
			lookup := func(userHandle, credentialID []byte) (webauthn.User, error) {
				looked = append(looked, userHandle, credentialID)
				return lookupOf(u)(userHandle, credentialID)
			}
			now := t0.Add(3 * time.Minute)
			acct, upd, flags, err := s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookup, now)
			must(t, "FinishPasskeyLogin", err)
			if len(looked) != 2 || string(looked[0]) != "acct-ola" || !bytes.Equal(looked[1], cred.ID) {
				t.Errorf("FinishPasskeyLogin called lookup with %q, want the user handle acct-ola and the credential ID", looked)
			}
			want := got
			want.LastUsedAt = now
			if acct != "acct-ola" || !reflect.DeepEqual(upd, want) || flags != (webauthn.Flags{UserPresent: true, UserVerified: true}) {
				t.Errorf("FinishPasskeyLogin = %q, %+v, %+v; want acct-ola, %+v, present and verified", acct, upd, flags, want)
			}

			// The passkey also serves as a second factor.
			opts, sess, err = s.BeginLogin(u)
			must(t, "BeginLogin(ola)", err)
			_, flags, err = s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), now)
			must(t, "FinishLogin(ola)", err)
			if !flags.UserVerified {
				t.Errorf("FinishLogin(ola) flags = %+v, want verified", flags)
			}
		})
	}
}

// A refusal is one ceremony that the service must refuse with key.
type refusal struct {
	name string
	// run returns the error of the Finish call that must fail.
	run func(t *testing.T, s *webauthn.Service) error
	key string
}

var refusals = []refusal{
	{"a registration made on another site", func(t *testing.T, s *webauthn.Service) error {
		u := webauthn.User{ID: "acct-1"}
		opts, sess, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration", err)
		// A phishing site relays the options; the browser signs its own origin.
		phish := virtualwebauthn.RelyingParty{ID: rpID, Name: "Portvakt", Origin: "https://id.example.com.evil.test"}
		resp := attest(t, phish, virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential(), opts)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0)
		return err
	}, "webauthn.origin"},
	{"a login made on another site", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		phish := virtualwebauthn.RelyingParty{ID: rpID, Name: "Portvakt", Origin: "http://id.example.com"}
		_, _, err = s.FinishLogin(u, sess, assert(t, phish, auth, cred, opts), t0)
		return err
	}, "webauthn.origin"},
	{"a passkey login made on another site", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		phish := virtualwebauthn.RelyingParty{ID: rpID, Name: "Portvakt", Origin: "https://evil.test"}
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, phish, auth, cred, opts), lookupOf(u), t0)
		return err
	}, "webauthn.origin"},
	{"a registration for another RP ID", func(t *testing.T, s *webauthn.Service) error {
		u := webauthn.User{ID: "acct-1"}
		opts, sess, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration", err)
		other := virtualwebauthn.RelyingParty{ID: "id.example.com", Name: "Portvakt", Origin: origin}
		resp := attest(t, other, virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential(), opts)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0)
		return err
	}, "webauthn.rp_id"},
	{"a login for another RP ID", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		other := virtualwebauthn.RelyingParty{ID: "evil.test", Name: "Portvakt", Origin: origin}
		_, _, err = s.FinishLogin(u, sess, assert(t, other, auth, cred, opts), t0)
		return err
	}, "webauthn.rp_id"},
	{"a registration finished twice", func(t *testing.T, s *webauthn.Service) error {
		u := webauthn.User{ID: "acct-1"}
		opts, sess, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration", err)
		resp := attest(t, rp, virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential(), opts)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0)
		must(t, "FinishRegistration the first time", err)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0)
		return err
	}, "webauthn.challenge"},
	{"a login finished twice", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		resp := assert(t, rp, auth, cred, opts)
		_, _, err = s.FinishLogin(u, sess, resp, t0)
		must(t, "FinishLogin the first time", err)
		_, _, err = s.FinishLogin(u, sess, resp, t0)
		return err
	}, "webauthn.challenge"},
	{"a passkey login finished twice", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		resp := assert(t, rp, auth, cred, opts)
		_, _, _, err = s.FinishPasskeyLogin(sess, resp, lookupOf(u), t0)
		must(t, "FinishPasskeyLogin the first time", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, resp, lookupOf(u), t0)
		return err
	}, "webauthn.challenge"},
	{"a registration answering another session's challenge", func(t *testing.T, s *webauthn.Service) error {
		u := webauthn.User{ID: "acct-1"}
		opts, _, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration (the answered one)", err)
		_, sess, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration (the finished one)", err)
		resp := attest(t, rp, virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential(), opts)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0)
		return err
	}, "webauthn.challenge"},
	{"a login answering another session's challenge", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		old, oldSess, err := s.BeginLogin(u)
		must(t, "BeginLogin (the old one)", err)
		resp := assert(t, rp, auth, cred, old)
		_, _, err = s.FinishLogin(u, oldSess, resp, t0)
		must(t, "FinishLogin (the old one)", err)
		// The old assertion, replayed against a new challenge.
		_, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin (the new one)", err)
		_, _, err = s.FinishLogin(u, sess, resp, t0)
		return err
	}, "webauthn.challenge"},
	{"a passkey login answering another session's challenge", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		opts, _, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin (the answered one)", err)
		_, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin (the finished one)", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(u), t0)
		return err
	}, "webauthn.challenge"},
	{"a login session finished for another account", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		other := u
		other.ID = "acct-other"
		for i := range other.Credentials {
			other.Credentials[i].AccountID = other.ID
		}
		_, _, err = s.FinishLogin(other, sess, assert(t, rp, auth, cred, opts), t0)
		return err
	}, "webauthn.challenge"},
	{"a login session finished as a passkey login", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(u), t0)
		return err
	}, "webauthn.challenge"},
	{"a login without a session", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, _, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		_, _, err = s.FinishLogin(u, nil, assert(t, rp, auth, cred, opts), t0)
		return err
	}, "webauthn.challenge"},
	{"a registration finished when the timeout is up", func(t *testing.T, s *webauthn.Service) error {
		u := webauthn.User{ID: "acct-1"}
		opts, sess, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration", err)
		resp := attest(t, rp, virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential(), opts)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0.Add(webauthn.DefaultTimeout))
		return err
	}, "webauthn.expired"},
	{"a passkey login finished when the timeout is up", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(u), t0.Add(time.Hour))
		return err
	}, "webauthn.expired"},
	{"another account's credential as a second factor", func(t *testing.T, s *webauthn.Service) error {
		_, authA, credA := registered(t, s, false)
		b, _, _ := registered(t, s, false)
		opts, sess, err := s.BeginLogin(b)
		must(t, "BeginLogin(B)", err)
		// A's authenticator answers B's challenge with A's credential.
		_, _, err = s.FinishLogin(b, sess, assert(t, rp, authA, credA, opts), t0)
		return err
	}, "webauthn.not_registered"},
	{"another account's credential handed in as the account's own", func(t *testing.T, s *webauthn.Service) error {
		a, authA, credA := registered(t, s, false)
		b, _, _ := registered(t, s, false)
		// The caller mixed A's credential into B's list: it is not B's.
		b.Credentials = append(b.Credentials, a.Credentials...)
		opts, sess, err := s.BeginLogin(b)
		must(t, "BeginLogin(B with A's credential)", err)
		ao, err := virtualwebauthn.ParseAssertionOptions(string(opts))
		must(t, "ParseAssertionOptions", err)
		if credA.IsAllowedForAssertion(*ao) {
			t.Errorf("BeginLogin(B with A's credential) offers A's credential")
		}
		_, _, err = s.FinishLogin(b, sess, assert(t, rp, authA, credA, opts), t0)
		return err
	}, "webauthn.not_registered"},
	{"a second-factor login for an account without credentials", func(t *testing.T, s *webauthn.Service) error {
		_, _, err := s.BeginLogin(webauthn.User{ID: "acct-1"})
		return err
	}, "webauthn.not_registered"},
	{"a second-factor login with a credential deleted since it began", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		u.Credentials = nil
		_, _, err = s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), t0)
		return err
	}, "webauthn.not_registered"},
	{"a second-factor login with a credential added since it began", func(t *testing.T, s *webauthn.Service) error {
		u, _, _ := registered(t, s, false)
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		auth2, cred2 := virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential()
		register(t, s, &u, auth2, cred2, false)
		_, _, err = s.FinishLogin(u, sess, assert(t, rp, auth2, cred2, opts), t0)
		return err
	}, "webauthn.not_registered"},
	{"a passkey of a deleted account", func(t *testing.T, s *webauthn.Service) error {
		_, auth, cred := registered(t, s, true)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(), t0)
		return err
	}, "webauthn.not_registered"},
	{"a passkey whose user handle names another account than the lookup returns", func(t *testing.T, s *webauthn.Service) error {
		_, auth, cred := registered(t, s, true)
		b, _, _ := registered(t, s, true)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		wrong := func([]byte, []byte) (webauthn.User, error) { return b, nil }
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), wrong, t0)
		return err
	}, "webauthn.not_registered"},
	{"a passkey claiming another account's user handle", func(t *testing.T, s *webauthn.Service) error {
		_, auth, cred := registered(t, s, true)
		b, _, _ := registered(t, s, true)
		auth.Options.UserHandle = []byte(b.ID)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(b), t0)
		return err
	}, "webauthn.not_registered"},
	{"a passkey login without a user handle", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		auth.Options.UserHandle = nil
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(u), t0)
		return err
	}, "webauthn.not_registered"},
	{"a security key registered as a second factor in a passkey login", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		auth.Options.UserHandle = []byte(u.ID)
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(u), t0)
		return err
	}, "webauthn.not_registered"},
	{"a passkey registered without user verification", func(t *testing.T, s *webauthn.Service) error {
		u := webauthn.User{ID: "acct-1"}
		opts, sess, err := s.BeginRegistration(u, true)
		must(t, "BeginRegistration", err)
		auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
		resp := attest(t, rp, auth, webauthn.NewEC2Credential(), opts)
		_, err = s.FinishRegistration(u, sess, resp, "Key", t0)
		return err
	}, "webauthn.user_verification"},
	{"a passkey login without user verification", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, true)
		auth.Options.UserNotVerified = true
		opts, sess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookupOf(u), t0)
		return err
	}, "webauthn.user_verification"},
	{"a login without user presence", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		auth.Options.UserNotPresent = true
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		_, _, err = s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), t0)
		return err
	}, "webauthn.failed"},
	{"a login signed by another key under the credential's ID", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		forged := webauthn.NewEC2Credential()
		forged.ID = cred.ID
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		_, _, err = s.FinishLogin(u, sess, assert(t, rp, auth, forged, opts), t0)
		return err
	}, "webauthn.failed"},
	{"a login whose backup eligibility changed", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		auth.Options.BackupEligible = true
		opts, sess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		_, _, err = s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), t0)
		return err
	}, "webauthn.failed"},
	{"a credential the account has registered already", func(t *testing.T, s *webauthn.Service) error {
		u, auth, cred := registered(t, s, false)
		opts, sess, err := s.BeginRegistration(u, false)
		must(t, "BeginRegistration", err)
		// An authenticator that ignores excludeCredentials.
		_, err = s.FinishRegistration(u, sess, attest(t, rp, auth, cred, opts), "Again", t0)
		return err
	}, "webauthn.already_registered"},
}

// registered returns a new account with one credential registered on a
// new authenticator (a passkey if passkey is set), ready to sign in.
func registered(tb testing.TB, s *webauthn.Service, passkey bool) (webauthn.User, virtualwebauthn.Authenticator, virtualwebauthn.Credential) {
	tb.Helper()
	u := webauthn.User{ID: "acct-" + rand.Text()[:8]}
	auth := virtualwebauthn.NewAuthenticator()
	if passkey {
		auth.Options.UserHandle = []byte(u.ID)
	}
	cred := webauthn.NewEC2Credential()
	register(tb, s, &u, auth, cred, passkey)
	return u, auth, cred
}

func TestRefusals(t *testing.T) {
	for _, r := range refusals {
		t.Run(r.name+" is refused with "+r.key, func(t *testing.T) {
			wantProblem(t, r.name, r.run(t, newService(t)), r.key)
		})
	}
}

func TestFinish_MalformedResponses(t *testing.T) {
	s := newService(t)
	u, _, _ := registered(t, s, true)
	for _, resp := range []string{"", "null", "{}", "not json", `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`,
		// What a page might send when the user cancelled the dialog.
		`{"error":"NotAllowedError"}`} {
		_, regSess, err := s.BeginRegistration(webauthn.User{ID: "acct-new"}, false)
		must(t, "BeginRegistration", err)
		_, err = s.FinishRegistration(webauthn.User{ID: "acct-new"}, regSess, []byte(resp), "Key", t0)
		wantProblem(t, fmt.Sprintf("FinishRegistration(%q)", resp), err, "webauthn.failed")

		_, loginSess, err := s.BeginLogin(u)
		must(t, "BeginLogin", err)
		_, _, err = s.FinishLogin(u, loginSess, []byte(resp), t0)
		wantProblem(t, fmt.Sprintf("FinishLogin(%q)", resp), err, "webauthn.failed")

		_, pkSess, err := s.BeginPasskeyLogin()
		must(t, "BeginPasskeyLogin", err)
		_, _, _, err = s.FinishPasskeyLogin(pkSess, []byte(resp), lookupOf(u), t0)
		wantProblem(t, fmt.Sprintf("FinishPasskeyLogin(%q)", resp), err, "webauthn.failed")
	}
	// A session that is not the service's JSON is the server's fault.
	_, _, err := s.FinishLogin(u, []byte("not a session"), []byte("{}"), t0)
	if _, ok := problem.As(err); err == nil || ok {
		t.Errorf("FinishLogin(a corrupt session) = %v, want an internal error", err)
	}
}

func TestFinish_Timeout(t *testing.T) {
	s := newService(t)
	u, auth, cred := registered(t, s, false)
	opts, sess, err := s.BeginLogin(u)
	must(t, "BeginLogin", err)
	resp := assert(t, rp, auth, cred, opts)
	_, _, err = s.FinishLogin(u, sess, resp, t0.Add(webauthn.DefaultTimeout))
	wantProblem(t, "FinishLogin at the timeout", err, "webauthn.expired")
	if p, ok := problem.As(err); ok && (p.Kind != problem.Expired || p.Details[0].Args["minutes"] != 5) {
		t.Errorf("FinishLogin at the timeout = kind %v, args %v; want expired, minutes 5", p.Kind, p.Details[0].Args)
	}
	_, _, err = s.FinishLogin(u, sess, resp, t0.Add(webauthn.DefaultTimeout-time.Millisecond))
	must(t, "FinishLogin a millisecond before the timeout", err)

	// A shorter configured timeout is both sent and enforced.
	short, err := webauthn.New(webauthn.Config{RPID: rpID, RPName: "Portvakt", Origins: []string{origin}, Timeout: time.Minute})
	must(t, "New(timeout 1m)", err)
	short.Now = func() time.Time { return t0 }
	opts, sess, err = short.BeginLogin(u)
	must(t, "BeginLogin", err)
	if pk := publicKey(t, opts); pk["timeout"] != float64(60000) {
		t.Errorf("BeginLogin with a 1m timeout: timeout = %v, want 60000", pk["timeout"])
	}
	_, _, err = short.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), t0.Add(time.Minute))
	wantProblem(t, "FinishLogin at a 1m timeout", err, "webauthn.expired")
}

func TestFinishLogin_Counter(t *testing.T) {
	// Each row logs in with the authenticator's counter at next after it
	// was stored at stored.
	tests := []struct {
		name          string
		stored, next  uint32
		wantCount     uint32
		wantClone     bool
		storedWarning bool
	}{
		{name: "a counter that moves forward is stored", stored: 10, next: 11, wantCount: 11},
		{name: "a counter that jumps forward is stored", stored: 10, next: 1000, wantCount: 1000},
		{name: "a counter that goes back warns of a clone", stored: 10, next: 5, wantCount: 10, wantClone: true},
		{name: "a counter that stands still warns of a clone", stored: 10, next: 10, wantCount: 10, wantClone: true},
		// WebAuthn §7.2 step 22: a non-zero stored count and a zero one
		// now is a counter that went back too.
		{name: "a counter that falls to zero warns of a clone", stored: 10, next: 0, wantCount: 10, wantClone: true},
		// Authenticators without a counter (most passkeys) always send 0.
		{name: "a counter that stays zero is no warning", stored: 0, next: 0, wantCount: 0},
		{name: "a warning stays once given", stored: 10, next: 11, wantCount: 11, wantClone: true, storedWarning: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			u := webauthn.User{ID: "acct-1"}
			auth, cred := virtualwebauthn.NewAuthenticator(), webauthn.NewEC2Credential()
			cred.Counter = tt.stored
			c := register(t, s, &u, auth, cred, false)
			u.Credentials[0].CloneWarning = tt.storedWarning

			cred.Counter = tt.next
			opts, sess, err := s.BeginLogin(u)
			must(t, "BeginLogin", err)
			upd, _, err := s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), t0.Add(2*time.Minute))
			must(t, "FinishLogin", err)
			if upd.SignCount != tt.wantCount || upd.CloneWarning != tt.wantClone || !bytes.Equal(upd.ID, c.ID) ||
				!upd.LastUsedAt.Equal(t0.Add(2*time.Minute)) {
				t.Errorf("FinishLogin with counter %d after %d = SignCount %d, CloneWarning %t, LastUsedAt %v; want %d, %t, t0+2m",
					tt.next, tt.stored, upd.SignCount, upd.CloneWarning, upd.LastUsedAt, tt.wantCount, tt.wantClone)
			}
		})
	}
}

func TestFinishLogin_WithoutUserVerification(t *testing.T) {
	s := newService(t)
	u, auth, cred := registered(t, s, false)
	auth.Options.UserNotVerified = true
	opts, sess, err := s.BeginLogin(u)
	must(t, "BeginLogin", err)
	_, flags, err := s.FinishLogin(u, sess, assert(t, rp, auth, cred, opts), t0)
	must(t, "FinishLogin without user verification", err)
	if flags != (webauthn.Flags{UserPresent: true}) {
		t.Errorf("FinishLogin without user verification: flags = %+v, want present only", flags)
	}
}

func TestFinishPasskeyLogin_LookupErrors(t *testing.T) {
	s := newService(t)
	u, auth, cred := registered(t, s, true)
	disabled := problem.New(problem.Forbidden, "", "login.disabled", nil)
	errDown := errors.New("database is down")
	for _, tt := range []struct {
		name string
		err  error
		// want is the problem key, or "" for an internal error wrapping err.
		want string
	}{
		{"an unknown account is not registered", fmt.Errorf("get account: %w", store.ErrNotFound), "webauthn.not_registered"},
		{"the lookup's own problem is kept", disabled, "login.disabled"},
		{"a failing database is an internal error", errDown, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, sess, err := s.BeginPasskeyLogin()
			must(t, "BeginPasskeyLogin", err)
			lookup := func([]byte, []byte) (webauthn.User, error) { return u, tt.err }
			_, _, _, err = s.FinishPasskeyLogin(sess, assert(t, rp, auth, cred, opts), lookup, t0)
			if tt.want != "" {
				wantProblem(t, "FinishPasskeyLogin", err, tt.want)
			} else if _, ok := problem.As(err); ok || !errors.Is(err, tt.err) {
				t.Errorf("FinishPasskeyLogin = %v, want an internal error wrapping %v", err, tt.err)
			}
		})
	}
}

func TestBegin_InternalErrors(t *testing.T) {
	s := newService(t)
	long := webauthn.User{ID: string(bytes.Repeat([]byte("x"), 65))}
	for name, u := range map[string]webauthn.User{"no ID": {}, "a 65-byte ID": long} {
		if _, _, err := s.BeginRegistration(u, true); err == nil {
			t.Errorf("BeginRegistration(%s) = nil error, want one", name)
		} else if _, ok := problem.As(err); ok {
			t.Errorf("BeginRegistration(%s) = %v, want an internal error", name, err)
		}
	}
	if _, _, err := s.BeginRegistration(webauthn.User{ID: string(bytes.Repeat([]byte("x"), 64))}, true); err != nil {
		t.Errorf("BeginRegistration(a 64-byte ID) = %v, want nil", err)
	}
}

func TestSessions_AreSingleUseUnderConcurrency(t *testing.T) {
	s := newService(t)
	u, auth, cred := registered(t, s, false)
	opts, sess, err := s.BeginLogin(u)
	must(t, "BeginLogin", err)
	resp := assert(t, rp, auth, cred, opts)
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			_, _, err := s.FinishLogin(u, sess, resp, t0)
			errs <- err
		}()
	}
	wins := 0
	for range n {
		err := <-errs
		if err == nil {
			wins++
		} else {
			wantProblem(t, "a concurrent FinishLogin", err, "webauthn.challenge")
		}
	}
	if wins != 1 {
		t.Errorf("of %d concurrent FinishLogin calls with one session, %d succeeded; want 1", n, wins)
	}
}
