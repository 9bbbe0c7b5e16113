package web_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/portvakt/portvakt/internal/authn/webauthn/webauthntest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web"
)

// The passkey and security-key JSON twins, driven by a virtual
// authenticator (descope/virtualwebauthn) as a native app would drive the
// platform's: register a passkey, sign in with it and nothing else,
// remove it and be refused; register a security key and use it as the
// second step.
func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	acct, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Portvakt", Origin: "http://localhost:8080"}
	// A user-verifying phone, which keeps the user handle with the passkey.
	platform := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(acct.ID)})
	passkey := webauthntest.NewEC2Credential()
	yubikey := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	keyCred := webauthntest.NewEC2Credential()

	c := newAPIClient(t, e, "en")
	signIn := func() {
		var f web.FlowJSON
		c.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
		var out web.FlowJSON
		if status, body := c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, &out); status != 200 {
			t.Fatalf("sign in = %d %s", status, body)
		}
	}
	signIn()

	// Register a passkey.
	var cer web.CeremonyAPIJSON
	if status, body := c.call("POST", "/api/v1/account/keys/options", map[string]bool{"passkey": true}, &cer); status != 200 {
		t.Fatalf("key options = %d %s", status, body)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(cer.Options))
	if err != nil {
		t.Fatal(err)
	}
	att := virtualwebauthn.CreateAttestationResponse(rp, platform, passkey, *ao)
	var key web.KeyJSON
	if status, body := c.call("POST", "/api/v1/account/keys", map[string]any{"flow_id": cer.FlowID, "flow_token": cer.FlowToken, "response": json.RawMessage(att), "name": "Phone"}, &key); status != 201 || !key.Passkey || key.Name != "Phone" {
		t.Fatalf("register passkey = %d %s", status, body)
	}
	platform.AddCredential(passkey)
	// The same answer again is refused. The key is the account's first
	// strong factor, so the session (a password sign-in) is now below the
	// account's full level: every further change asks for a sign-in with
	// the key first (the ceremony's single use is tested in package flow).
	if status, body := c.call("POST", "/api/v1/account/keys", map[string]any{"flow_id": cer.FlowID, "flow_token": cer.FlowToken, "response": json.RawMessage(att), "name": "Phone"}, nil); status != 403 || !strings.Contains(body, "reauth.required") {
		t.Errorf("replayed registration = %d %s, want 403 reauth.required", status, body)
	}

	// Sign out; sign in with the passkey alone.
	c.call("DELETE", "/api/v1/session", nil, nil)
	passkeyLogin := func(client *apiClient) (int, string, web.SessionJSON) {
		var pc web.CeremonyAPIJSON
		client.call("POST", "/api/v1/passkey/options", map[string]string{}, &pc)
		opts, err := virtualwebauthn.ParseAssertionOptions(string(pc.Options))
		if err != nil {
			t.Fatal(err)
		}
		asr := virtualwebauthn.CreateAssertionResponse(rp, platform, passkey, *opts)
		var sess web.SessionJSON
		status, body := client.call("POST", "/api/v1/passkey", map[string]any{"flow_id": pc.FlowID, "flow_token": pc.FlowToken, "response": json.RawMessage(asr)}, &sess)
		return status, body, sess
	}
	status, body, sess := passkeyLogin(c)
	if status != 200 || sess.Level != 4 || !slices.Contains(sess.AMR, "hwk") || !slices.Contains(sess.AMR, "user") || !slices.Contains(sess.AMR, "mfa") {
		t.Fatalf("passkey sign-in = %d %s", status, body)
	}
	if m := e.logs.String(); strings.Contains(m, "webauthn counter went backwards") {
		t.Error("a clone warning without cause")
	}

	// Register a security key too, then remove the passkey.
	c.call("POST", "/api/v1/account/keys/options", map[string]bool{"passkey": false}, &cer)
	ao, _ = virtualwebauthn.ParseAttestationOptions(string(cer.Options))
	att = virtualwebauthn.CreateAttestationResponse(rp, yubikey, keyCred, *ao)
	if status, body := c.call("POST", "/api/v1/account/keys", map[string]any{"flow_id": cer.FlowID, "flow_token": cer.FlowToken, "response": json.RawMessage(att), "name": "YubiKey"}, &key); status != 201 || key.Passkey {
		t.Fatalf("register key = %d %s", status, body)
	}
	yubikey.AddCredential(keyCred)
	var keys []web.KeyJSON
	c.call("GET", "/api/v1/account/keys", nil, &keys)
	if len(keys) != 2 {
		t.Fatalf("keys = %+v", keys)
	}
	for _, k := range keys {
		if k.Passkey {
			if status, body := c.call("DELETE", "/api/v1/account/keys", map[string]string{"id": k.ID}, nil); status != 204 {
				t.Fatalf("remove passkey = %d %s", status, body)
			}
		}
	}
	other := newAPIClient(t, e, "nb")
	status, body, _ = passkeyLogin(other)
	if status != 403 || !strings.Contains(body, "webauthn.not_registered") || !strings.Contains(body, "ikke registrert") {
		t.Errorf("passkey after removal = %d %s", status, body)
	}

	// The security key is now the second step after the password.
	c.call("DELETE", "/api/v1/session", nil, nil)
	var f web.FlowJSON
	c.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
	var next web.FlowJSON
	c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, &next)
	if next.Next != "factor" {
		t.Fatalf("after the password: %+v", next)
	}
	var fc web.CeremonyAPIJSON
	if status, body := c.call("POST", "/api/v1/factor/webauthn/options", map[string]string{"flow_id": next.FlowID, "flow_token": f.FlowToken}, &fc); status != 200 {
		t.Fatalf("factor options = %d %s", status, body)
	}
	opts, _ := virtualwebauthn.ParseAssertionOptions(string(fc.Options))
	asr := virtualwebauthn.CreateAssertionResponse(rp, yubikey, keyCred, *opts)
	if status, body := c.call("POST", "/api/v1/factor/webauthn", map[string]any{"flow_id": next.FlowID, "flow_token": f.FlowToken, "response": json.RawMessage(asr)}, &sess); status != 200 || sess.Level != 4 || !slices.Contains(sess.AMR, "pwd") || !slices.Contains(sess.AMR, "hwk") {
		t.Fatalf("key as second factor = %d %s", status, body)
	}
}
