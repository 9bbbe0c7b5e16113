package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web"
)

const systemsAdminToken = "admin-token-for-systems-test"

func withSystems(c *config.Config) {
	c.OIDC.Enabled = true
	c.Rights = config.Rights{Defined: []config.Right{{Name: "altinn:submit", Description: "Sende inn skjema"}, {Name: "altinn:download", Description: "Laste ned skjema"}},
		Personal: []string{"altinn:submit", "altinn:download"}}
	c.Systems.Enabled = true
	sum := sha256.Sum256([]byte(systemsAdminToken))
	c.Admin.TokenSHA256 = hex.EncodeToString(sum[:])
}

// The JSON twin of the Systems section: create (secret once), rights only
// from the owner's, the switch, a new secret (the old one stops), revoke;
// a stale sign-in must sign in again; every answer matches openapi.yaml.
func TestSystemsAPI(t *testing.T) {
	e := newEnv(t, withSystems)
	const pw = "fjellvann-morgen-lys-7"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(t, e, "nb")
	var f web.FlowJSON
	api.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
	if st, body := api.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, nil); st != 200 {
		t.Fatalf("sign-in = %d %s", st, body)
	}

	var list web.SystemsJSON
	if st, body := api.call("GET", "/api/v1/account/systems", nil, &list); st != 200 || list.Allowed || len(list.Systems) != 0 || strings.Join(list.Rights, " ") != "altinn:download altinn:submit" {
		t.Errorf("GET systems = %d %s", st, body)
	}
	st, body := api.call("POST", "/api/v1/account/systems", map[string]any{"name": "Maestro", "rights": []string{"altinn:admin"}}, nil)
	wantProblem(t, "a right the owner lacks", st, body, 422, "rights.missing")
	if !strings.Contains(body, "altinn:admin") || !strings.Contains(body, "du har den ikke selv") {
		t.Errorf("rights.missing does not name the right and the operation: %s", body)
	}
	st, body = api.call("POST", "/api/v1/account/systems", map[string]any{"name": "Maestro", "rights": []string{"altinn:submit"}, "public_key": map[string]any{"kty": "EC", "crv": "P-256", "x": "bad", "y": "bad", "d": "bad"}}, nil)
	wantProblem(t, "a broken key", st, body, 422, "systems.key_invalid")

	var sys web.SystemJSON
	if st, body := api.call("POST", "/api/v1/account/systems", map[string]any{"name": "Maestro", "rights": []string{"altinn:submit"}, "expires_at": "2027-06-30"}, &sys); st != 201 || sys.Secret == "" || !sys.Live || sys.ExpiresAt == nil {
		t.Fatalf("create = %d %s", st, body)
	}
	if st, body := api.call("PUT", "/api/v1/account/systems/allowed", map[string]any{"allowed": true}, nil); st != 200 {
		t.Errorf("allow = %d %s", st, body)
	}
	login := func(id, secret string) (int, string) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/systems/login", strings.NewReader(`{"username":"kari","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "nb")
		req.SetBasicAuth(id, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		b, _ := json.Marshal(out)
		return resp.StatusCode, string(b)
	}
	// Kari has no phone: the right everything ends at person.no_phone.
	if st, body := login(sys.ID, sys.Secret); st != 403 || !strings.Contains(body, "person.no_phone") {
		t.Errorf("login without a phone = %d %s", st, body)
	}
	var rotated web.SystemJSON
	if st, body := api.call("POST", "/api/v1/account/systems/"+sys.ID+"/rotate", nil, &rotated); st != 200 || rotated.Secret == "" || rotated.Secret == sys.Secret {
		t.Fatalf("rotate = %d %s", st, body)
	}
	if st, body := login(sys.ID, sys.Secret); st != 401 || !strings.Contains(body, "system.credentials_invalid") {
		t.Errorf("the old secret after rotation = %d %s", st, body)
	}
	if st, body := api.call("DELETE", "/api/v1/account/systems/"+sys.ID, nil, nil); st != 204 {
		t.Errorf("revoke = %d %s", st, body)
	}
	api.call("GET", "/api/v1/account/systems", nil, &list)
	if len(list.Systems) != 1 || list.Systems[0].Live || list.Systems[0].RevokedAt == nil || !list.Allowed || list.Systems[0].Secret != "" {
		t.Errorf("after revoking: %+v", list)
	}
	// Another person's system is not found, not forbidden.
	if st, body := api.call("DELETE", "/api/v1/account/systems/sys-notyoursnotyours", nil, nil); st != 404 || !strings.Contains(body, "system.not_found") {
		t.Errorf("revoke someone else's = %d %s", st, body)
	}
	// An old sign-in must sign in again before a change.
	e.clock.Advance(20 * time.Minute) // past mfa.reauth_after (10m), within the idle timeout
	st, body = api.call("POST", "/api/v1/account/systems", map[string]any{"name": "Later", "rights": []string{"altinn:submit"}}, nil)
	wantProblem(t, "create with a stale sign-in", st, body, 403, "reauth.required")
	// Turning sign-in through systems off needs no fresh sign-in.
	if st, body := api.call("PUT", "/api/v1/account/systems/allowed", map[string]any{"allowed": false}, nil); st != 200 {
		t.Errorf("turning it off with a stale sign-in = %d %s", st, body)
	}
}

// The admin API for organisations: add, members with role and rights,
// an account's own rights; every mistake named; no token, no access.
func TestOrgsAdminAPI(t *testing.T) {
	e := newEnv(t, withSystems)
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "kari", Email: "kari@example.no", Password: "fjellvann-morgen-lys-7"}); err != nil {
		t.Fatal(err)
	}
	admin := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + systemsAdminToken}
	call := func(method, path, body string, h map[string]string) (int, string) {
		resp, b := e.do(t, method, path, strings.NewReader(body), h)
		return resp.StatusCode, b
	}
	if st, _ := call("GET", "/api/admin/v1/orgs", "", map[string]string{}); st != 401 {
		t.Errorf("orgs without the token = %d", st)
	}
	if st, body := call("POST", "/api/admin/v1/orgs", `{"id":"912345678","name":"Fjordkraft Regnskap AS"}`, admin); st != 201 || !strings.Contains(body, `"id":"912345678"`) {
		t.Errorf("create org = %d %s", st, body)
	}
	st, body := call("POST", "/api/admin/v1/orgs", `{"id":"912345678","name":"Again"}`, admin)
	wantProblem(t, "a taken number", st, body, 409, "orgs.exists")
	st, body = call("POST", "/api/admin/v1/orgs", `{"id":"12","name":""}`, admin)
	wantProblem(t, "a bad number and name", st, body, 422, "orgs.number_invalid")
	if st, body := call("PUT", "/api/admin/v1/orgs/912345678/members/kari", `{"role":"member","rights":["altinn:submit"]}`, admin); st != 200 || !strings.Contains(body, `"rights":["altinn:submit"]`) {
		t.Errorf("put member = %d %s", st, body)
	}
	st, body = call("PUT", "/api/admin/v1/orgs/912345678/members/kari", `{"role":"owner"}`, admin)
	wantProblem(t, "an unknown role", st, body, 422, "orgs.role_invalid")
	st, body = call("PUT", "/api/admin/v1/orgs/912345678/members/nobody", `{"role":"member"}`, admin)
	wantProblem(t, "an unknown account", st, body, 404, "orgs.account_not_found")
	st, body = call("PUT", "/api/admin/v1/orgs/999/members/kari", `{"role":"member"}`, admin)
	wantProblem(t, "an unknown organisation", st, body, 404, "orgs.not_found")
	if st, body := call("GET", "/api/admin/v1/orgs/912345678/members", "", admin); st != 200 || !strings.Contains(body, `"role":"member"`) {
		t.Errorf("members = %d %s", st, body)
	}
	st, body = call("PUT", "/api/admin/v1/accounts/kari/rights", `{"rights":["altinn:everything"]}`, admin)
	wantProblem(t, "an unknown right", st, body, 422, "rights.unknown")
	if st, body := call("PUT", "/api/admin/v1/accounts/kari/rights", `{"rights":["altinn:download"]}`, admin); st != 200 || !strings.Contains(body, `"rights":["altinn:download"]`) {
		t.Errorf("set rights = %d %s", st, body)
	}
}
