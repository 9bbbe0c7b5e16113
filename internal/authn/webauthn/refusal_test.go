package webauthn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/protocol"
	wa "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portvakt/portvakt/internal/authn/webauthn/webauthntest"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// NewEC2Credential is for the black-box tests.
var NewEC2Credential = newEC2Credential

// newEC2Credential returns a credential with a new P-256 key. It stands
// in for virtualwebauthn.NewCredential(KeyTypeEC2), which encodes a
// coordinate with a leading zero byte in 31 bytes (about one key in 128),
// a COSE key that go-webauthn rightly refuses.
func newEC2Credential() virtualwebauthn.Credential { return webauthntest.NewEC2Credential() }

// TestRefusal_MapsLibraryErrors checks refusal, the translation of
// go-webauthn's errors, against the errors the library really returns:
// each ceremony here goes to the library directly, past the service's own
// checks, so a change in the library's error texts shows up here rather
// than as a webauthn.failed where a specific key belongs.
func TestRefusal_MapsLibraryErrors(t *testing.T) {
	const origin = "https://id.example.com"
	s, err := New(Config{RPID: "example.com", RPName: "Portvakt", Origins: []string{origin}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	now := time.Now()
	s.Now = func() time.Time { return now }
	rp := virtualwebauthn.RelyingParty{ID: "example.com", Name: "Portvakt", Origin: origin}
	otherChallenge := base64.RawURLEncoding.EncodeToString(make([]byte, 32))

	// registration runs a registration up to the library's verdict.
	registration := func(t *testing.T, u User, rp virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator,
		passkey bool, change func(*wa.SessionData)) error {
		t.Helper()
		opts, sess, err := s.BeginRegistration(User{ID: "acct-1"}, passkey)
		if err != nil {
			t.Fatalf("BeginRegistration: %v", err)
		}
		var st sessionState
		if err := json.Unmarshal(sess, &st); err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(&st.Data)
		}
		ao, err := virtualwebauthn.ParseAttestationOptions(string(opts))
		if err != nil {
			t.Fatal(err)
		}
		resp := virtualwebauthn.CreateAttestationResponse(rp, auth, newEC2Credential(), *ao)
		parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(resp))
		if err != nil {
			t.Fatalf("ParseCredentialCreationResponseBytes: %v", err)
		}
		_, err = s.rp.CreateCredential(u.libraryUser(nil), st.Data, parsed)
		return err
	}

	// A registered credential to log in with.
	owner := User{ID: "acct-1"}
	auth, cred := virtualwebauthn.NewAuthenticator(), newEC2Credential()
	{
		opts, sess, err := s.BeginRegistration(owner, true)
		if err != nil {
			t.Fatal(err)
		}
		ao, _ := virtualwebauthn.ParseAttestationOptions(string(opts))
		c, err := s.FinishRegistration(owner, sess, []byte(virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *ao)), "Key", now)
		if err != nil {
			t.Fatalf("FinishRegistration: %v", err)
		}
		owner.Credentials = []store.WebAuthnCredential{c}
	}
	stranger := store.WebAuthnCredential{ID: []byte("someone else's"), AccountID: "acct-1", PublicKey: owner.Credentials[0].PublicKey}

	// login runs a second-factor login up to the library's verdict: the
	// library is given the session changed by change and the credentials
	// in creds as u's.
	login := func(t *testing.T, u User, creds []store.WebAuthnCredential, auth virtualwebauthn.Authenticator,
		cred virtualwebauthn.Credential, change func(*wa.SessionData)) error {
		t.Helper()
		opts, sess, err := s.BeginLogin(owner)
		if err != nil {
			t.Fatalf("BeginLogin: %v", err)
		}
		var st sessionState
		if err := json.Unmarshal(sess, &st); err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(&st.Data)
		}
		ao, err := virtualwebauthn.ParseAssertionOptions(string(opts))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(virtualwebauthn.CreateAssertionResponse(rp, auth, cred, *ao)))
		if err != nil {
			t.Fatalf("ParseCredentialRequestResponseBytes: %v", err)
		}
		_, err = s.rp.ValidateLogin(u.libraryUser(creds), st.Data, parsed)
		return err
	}

	// passkeyLogin runs a passwordless login up to the library's verdict,
	// with handler as the account lookup.
	passkeyLogin := func(t *testing.T, auth virtualwebauthn.Authenticator, handler wa.DiscoverableUserHandler) error {
		t.Helper()
		opts, sess, err := s.BeginPasskeyLogin()
		if err != nil {
			t.Fatalf("BeginPasskeyLogin: %v", err)
		}
		var st sessionState
		if err := json.Unmarshal(sess, &st); err != nil {
			t.Fatal(err)
		}
		ao, err := virtualwebauthn.ParseAssertionOptions(string(opts))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(virtualwebauthn.CreateAssertionResponse(rp, auth, cred, *ao)))
		if err != nil {
			t.Fatalf("ParseCredentialRequestResponseBytes: %v", err)
		}
		_, _, err = s.rp.ValidatePasskeyLogin(handler, st.Data, parsed)
		return err
	}

	noUV := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	withHandle := func(h string) virtualwebauthn.Authenticator {
		a := auth
		a.Options.UserHandle = []byte(h)
		return a
	}
	tests := []struct {
		name string
		err  func(t *testing.T) error
		want string
	}{
		{"registration on another origin", func(t *testing.T) error {
			phish := rp
			phish.Origin = "https://evil.test"
			return registration(t, User{ID: "acct-1"}, phish, virtualwebauthn.NewAuthenticator(), false, nil)
		}, "webauthn.origin"},
		{"registration for another RP ID", func(t *testing.T) error {
			other := rp
			other.ID = "evil.test"
			return registration(t, User{ID: "acct-1"}, other, virtualwebauthn.NewAuthenticator(), false, nil)
		}, "webauthn.rp_id"},
		{"registration answering another challenge", func(t *testing.T) error {
			return registration(t, User{ID: "acct-1"}, rp, virtualwebauthn.NewAuthenticator(), false,
				func(d *wa.SessionData) { d.Challenge = otherChallenge })
		}, "webauthn.challenge"},
		{"registration of a passkey without user verification", func(t *testing.T) error {
			return registration(t, User{ID: "acct-1"}, rp, noUV, true, nil)
		}, "webauthn.user_verification"},
		{"registration finished for another user", func(t *testing.T) error {
			return registration(t, User{ID: "acct-2"}, rp, virtualwebauthn.NewAuthenticator(), false, nil)
		}, "webauthn.challenge"},
		{"registration after the library's own expiry", func(t *testing.T) error {
			return registration(t, User{ID: "acct-1"}, rp, virtualwebauthn.NewAuthenticator(), false,
				func(d *wa.SessionData) { d.Expires = time.Now().Add(-time.Second) })
		}, "webauthn.expired"},
		{"login with a credential the user does not own", func(t *testing.T) error {
			// The session offered stranger, and the user owns only stranger.
			return login(t, owner, []store.WebAuthnCredential{stranger}, auth, cred,
				func(d *wa.SessionData) { d.AllowedCredentialIDs = [][]byte{stranger.ID} })
		}, "webauthn.not_registered"},
		{"login with a credential the session did not offer", func(t *testing.T) error {
			return login(t, owner, append([]store.WebAuthnCredential{stranger}, owner.Credentials...), auth, cred,
				func(d *wa.SessionData) { d.AllowedCredentialIDs = [][]byte{stranger.ID} })
		}, "webauthn.not_registered"},
		{"login whose session offered a credential the user does not own", func(t *testing.T) error {
			return login(t, owner, owner.Credentials, auth, cred,
				func(d *wa.SessionData) { d.AllowedCredentialIDs = append(d.AllowedCredentialIDs, stranger.ID) })
		}, "webauthn.not_registered"},
		{"login with another user's handle", func(t *testing.T) error {
			return login(t, owner, owner.Credentials, withHandle("acct-2"), cred, nil)
		}, "webauthn.not_registered"},
		{"login on another origin", func(t *testing.T) error {
			return login(t, owner, owner.Credentials, auth, cred, func(d *wa.SessionData) { d.Origin = "https://login.example.com" })
		}, "webauthn.origin"},
		{"login requiring user verification without it", func(t *testing.T) error {
			return login(t, owner, owner.Credentials, noUV, cred,
				func(d *wa.SessionData) { d.UserVerification = protocol.VerificationRequired })
		}, "webauthn.user_verification"},
		{"login signed by another key", func(t *testing.T) error {
			forged := newEC2Credential()
			forged.ID = cred.ID
			return login(t, owner, owner.Credentials, auth, forged, nil)
		}, "webauthn.failed"},
		{"passkey login for an unknown account", func(t *testing.T) error {
			return passkeyLogin(t, withHandle("acct-gone"), func(_, _ []byte) (wa.User, error) { return nil, store.ErrNotFound })
		}, "webauthn.not_registered"},
		{"passkey login without a user handle", func(t *testing.T) error {
			return passkeyLogin(t, auth, func(_, _ []byte) (wa.User, error) { return owner.libraryUser(owner.Credentials), nil })
		}, "webauthn.not_registered"},
		{"passkey login by a user without the credential", func(t *testing.T) error {
			return passkeyLogin(t, withHandle("acct-1"), func(_, _ []byte) (wa.User, error) { return owner.libraryUser(nil), nil })
		}, "webauthn.not_registered"},
		{"an error that is not the library's", func(*testing.T) error { return errors.New("boom") }, "webauthn.failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" maps to "+tt.want, func(t *testing.T) {
			err := tt.err(t)
			if err == nil {
				t.Fatalf("the library accepted the ceremony; want an error that maps to %s", tt.want)
			}
			p := s.refusal(err)
			if len(p.Details) != 1 || p.Details[0].Key != tt.want {
				t.Errorf("refusal(%v) = %v, want %s", err, p, tt.want)
			}
			if _, ok := problem.As(p); !ok {
				t.Errorf("refusal(%v) is not a problem", err)
			}
		})
	}
}
