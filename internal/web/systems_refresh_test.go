package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// A system holding a person's refresh token cannot go on refreshing it
// once the person has turned sign-in through systems off (or, by the
// same check, left the organisation or lost the rights): the switch is
// the person's way to stop every system acting as them.
func TestSystemRefresh_stopsWhenThePersonTurnsItOff(t *testing.T) {
	e := newEnv(t, withSystems, func(c *config.Config) { c.Systems.RefreshTokens = true })
	ctx := t.Context()
	const pw = "fjellvann-morgen-lys-7"
	kari, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Username: "kari", Email: "kari@example.no", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(t, e, "en")
	var f web.FlowJSON
	api.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
	if st, body := api.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, nil); st != 200 {
		t.Fatalf("sign-in = %d %s", st, body)
	}
	var sys web.SystemJSON
	if st, body := api.call("POST", "/api/v1/account/systems", map[string]any{"name": "Maestro", "rights": []string{"altinn:submit"}}, &sys); st != 201 {
		t.Fatalf("create = %d %s", st, body)
	}
	if st, body := api.call("PUT", "/api/v1/account/systems/allowed", map[string]any{"allowed": true}, nil); st != 200 {
		t.Fatalf("allow = %d %s", st, body)
	}
	if err := e.app.DB.CreateFactor(ctx, store.Factor{ID: "kari-phone", AccountID: kari.ID, Kind: store.FactorSMS, Name: "phone", Phone: "+4792345678",
		ConfirmedAt: e.clock.Now(), CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	sysCall := func(path string, in map[string]string) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(sys.ID, sys.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, out := sysCall("/api/v1/systems/login", map[string]string{"username": "kari", "password": pw})
	handle, _ := out["handle"].(string)
	if st != 200 || handle == "" {
		t.Fatalf("system sign-in = %d %v", st, out)
	}
	msgs, _ := e.app.Outbox.ListMessages(ctx, store.MessageFilter{To: "+4792345678", Limit: 1})
	if len(msgs) != 1 {
		t.Fatalf("%d SMS", len(msgs))
	}
	st, toks := sysCall("/api/v1/systems/login/code", map[string]string{"handle": handle, "code": sixDigits.FindString(msgs[0].Text)})
	refresh, _ := toks["refresh_token"].(string)
	if st != 200 || refresh == "" {
		t.Fatalf("system sign-in code = %d %v", st, toks)
	}
	st, toks = sysCall("/api/v1/systems/token", map[string]string{"grant_type": "refresh_token", "refresh_token": refresh})
	if st != 200 {
		t.Fatalf("refresh while allowed = %d %v", st, toks)
	}
	refresh, _ = toks["refresh_token"].(string)

	if st, body := api.call("PUT", "/api/v1/account/systems/allowed", map[string]any{"allowed": false}, nil); st != 200 {
		t.Fatalf("turning it off = %d %s", st, body)
	}
	if st, toks := sysCall("/api/v1/systems/token", map[string]string{"grant_type": "refresh_token", "refresh_token": refresh}); st == 200 {
		t.Errorf("the system refreshed Kari's token after she turned sign-in through systems off: %v", toks)
	}
}
