package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// Every representation route answers as openapi.yaml says (newEnv
// validates each /api/ answer), in Swedish for a Swedish client, and the
// pages render: a guardian records a child (pending the operator's
// approval), a request to another account is accepted, both show up on
// each side, the operator approves, the chooser offers both, and the
// guardian removes the child.
func TestRepresentationRoutes(t *testing.T) {
	const adminToken = "web-represent-admin-token-0123456789"
	sum := sha256.Sum256([]byte(adminToken))
	e := newEnv(t, func(c *config.Config) {
		c.Representation.Enabled = true
		c.Representation.RequireApproval = true
		c.Representation.Rights = []string{"udi:apply"}
		c.Admin.TokenSHA256 = hex.EncodeToString(sum[:])
	})
	for _, a := range []flow.NewAccount{{Name: "Kari", Email: "kari@example.no", Password: "correct horse battery staple"},
		{Name: "Per", Email: "per@example.no", Password: "correct horse battery staple"}} {
		if _, err := e.app.Flows.CreateAccount(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	stranger := newAPIClient(t, e, "sv")
	if status, body := stranger.call("GET", "/api/v1/account/representation", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("without a session: %d %s", status, body)
	}
	kari := newAPIClient(t, e, "sv")
	apiSignIn(t, kari, "kari@example.no", "correct horse battery staple")
	per := newAPIClient(t, e, "sv")
	apiSignIn(t, per, "per@example.no", "correct horse battery staple")

	status, body := kari.call("POST", "/api/v1/account/representation/persons", map[string]any{"name": "Ola", "birth_date": "2030-01-01"}, nil)
	wantProblem(t, "a birth date in the future", status, body, http.StatusUnprocessableEntity, "represent.birth_date_invalid")
	if !strings.Contains(body, "Skriv födelsedatumet") {
		t.Errorf("the problem is not in Swedish: %s", body)
	}
	var child struct{ ID, Status string }
	if status, body := kari.call("POST", "/api/v1/account/representation/persons", map[string]any{"name": "Ola", "birth_date": "2019-03-14", "rights": []string{"udi:apply"}}, &child); status != http.StatusCreated || child.Status != "waiting_approval" {
		t.Fatalf("record a child: %d %s", status, body)
	}
	if status, body := per.call("POST", "/api/v1/account/representation/requests", map[string]any{"account": "kari@example.no"}, nil); status != http.StatusAccepted {
		t.Fatalf("request: %d %s", status, body)
	}
	var kv struct {
		ActedForBy []struct{ ID string } `json:"acted_for_by"`
	}
	kari.call("GET", "/api/v1/account/representation", nil, &kv)
	if len(kv.ActedForBy) != 1 {
		t.Fatalf("Kari sees %d requests, want Per's", len(kv.ActedForBy))
	}
	if status, body := kari.call("POST", "/api/v1/account/representation/"+kv.ActedForBy[0].ID+"/accept", nil, nil); status != http.StatusOK {
		t.Fatalf("accept: %d %s", status, body)
	}

	resp, body := e.do(t, "GET", "/api/admin/v1/representation/pending", nil, map[string]string{"Authorization": "Bearer " + adminToken})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, child.ID) {
		t.Errorf("pending: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/api/admin/v1/representation/"+child.ID+"/approve", nil, map[string]string{"Authorization": "Bearer " + adminToken})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"active"`) {
		t.Errorf("approve: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/api/admin/v1/representation/"+child.ID+"/approve", nil, map[string]string{"Authorization": "Bearer " + adminToken, "Accept-Language": "en"})
	wantProblem(t, "approve twice", resp.StatusCode, body, http.StatusConflict, "represent.no_approval_pending")

	var choices struct {
		ActingFor string                `json:"acting_for"`
		Choices   []struct{ ID string } `json:"choices"`
	}
	kari.call("GET", "/api/v1/act-as", nil, &choices)
	if len(choices.Choices) != 1 || choices.Choices[0].ID != child.ID {
		t.Errorf("Kari's choices %+v, want the child", choices)
	}
	if status, body := kari.call("POST", "/api/v1/act-as", map[string]string{"acting_for": child.ID}, &choices); status != http.StatusOK || choices.ActingFor != child.ID {
		t.Errorf("choose: %d %s", status, body)
	}
	if status, body := kari.call("POST", "/api/v1/act-as", map[string]string{"acting_for": "self"}, &choices); status != http.StatusOK || choices.ActingFor != "self" {
		t.Errorf("choose self: %d %s", status, body)
	}
	if status, body := per.call("POST", "/api/v1/account/representation/"+child.ID+"/decline", nil, nil); status != http.StatusNotFound {
		t.Errorf("Per declines Kari's child: %d %s", status, body)
	}
	if status, body := kari.call("DELETE", "/api/v1/account/representation/"+child.ID, nil, nil); status != http.StatusNoContent {
		t.Errorf("remove: %d %s", status, body)
	}
	resp, body = e.do(t, "DELETE", "/api/admin/v1/representation/"+kv.ActedForBy[0].ID, nil, map[string]string{"Authorization": "Bearer " + adminToken})
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("operator revokes: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/api/admin/v1/representation/pending", nil, nil)
	wantProblem(t, "admin without a token", resp.StatusCode, body, http.StatusUnauthorized, "admin.unauthorized")
}

// Without representation.enabled none of it is served.
func TestRepresentationOff(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/account/representation", "/act-as", "/api/v1/account/representation", "/api/v1/act-as"} {
		if resp, _ := e.do(t, "GET", path, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}
