package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

// Representation through the JSON API, as an attacker would try it
// (docs/representation.md): a request addressed to one account cannot be
// accepted by another, nor by the one who asked; a delegation nobody
// accepted is not offered and cannot be chosen; a right the operator does
// not allow cannot be taken; one the operator must approve is not offered
// until approved (and only the admin token approves); a delegation that
// expires, or that the represented person takes back, stops at once for
// sessions that chose it.
func TestRepresentation_API(t *testing.T) {
	const adminToken = "represent-admin-token-0123456789abcdef"
	sum := sha256.Sum256([]byte(adminToken))
	srv, clock := startServerWithClock(t, func(c *config.Config) {
		c.Representation.Enabled = true
		c.Representation.Rights = []string{"altinn:submit", "udi:apply"}
		c.Representation.RequireApproval = true
		c.Admin.TokenSHA256 = hex.EncodeToString(sum[:])
		// Sessions outlive the child's delegation, which ends tonight.
		c.Session.IdleTimeout = config.Duration(24 * time.Hour)
		c.Session.AbsoluteTimeout = config.Duration(30 * 24 * time.Hour)
	})
	mk := func(name, email string) string {
		a, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: name, Email: email, Password: "lang-og-trygt-passord-" + name})
		if err != nil {
			t.Fatalf("CreateAccount(%s): %v", name, err)
		}
		return a.ID
	}
	kariID := mk("Kari", "kari@example.no")
	perID := mk("Per", "per@example.no")
	mk("Mallory", "mallory@example.no")
	kari := apiSignIn(t, srv, "kari@example.no", "lang-og-trygt-passord-Kari")
	per := apiSignIn(t, srv, "per@example.no", "lang-og-trygt-passord-Per")
	mallory := apiSignIn(t, srv, "mallory@example.no", "lang-og-trygt-passord-Mallory")

	// Per asks to act for Kari, with a right; the answer is the same for
	// an address nobody has.
	var out map[string]any
	per.do(t, "POST", "/api/v1/account/representation/requests", `{"account":"kari@example.no","rights":["altinn:submit"]}`, http.StatusAccepted, &out)
	per.do(t, "POST", "/api/v1/account/representation/requests", `{"account":"nobody@example.no","rights":["altinn:submit"]}`, http.StatusAccepted, &out)
	var perView struct {
		ActsFor []struct {
			ID, Status, Name string
		} `json:"acts_for"`
	}
	per.do(t, "GET", "/api/v1/account/representation", "", http.StatusOK, &perView)
	if len(perView.ActsFor) != 1 || perView.ActsFor[0].Status != "waiting_accept" {
		t.Fatalf("Per's requests: %+v, want one waiting for Kari", perView.ActsFor)
	}
	if perView.ActsFor[0].Name != "kari@example.no" {
		t.Errorf("before Kari accepts Per sees the name %q, want only the address he typed", perView.ActsFor[0].Name)
	}
	id := perView.ActsFor[0].ID

	// Not accepted: not offered, and cannot be chosen.
	var choices struct {
		ActingFor string            `json:"acting_for"`
		Choices   []json.RawMessage `json:"choices"`
	}
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &choices)
	if len(choices.Choices) != 0 {
		t.Errorf("a request Kari has not accepted is offered to Per: %s", choices.Choices)
	}
	per.problem(t, "POST", "/api/v1/act-as", `{"acting_for":"`+id+`"}`, http.StatusNotFound, "represent.gone")

	// Neither Mallory nor Per can accept a request addressed to Kari.
	mallory.problem(t, "POST", "/api/v1/account/representation/"+id+"/accept", "", http.StatusNotFound, "represent.gone")
	per.problem(t, "POST", "/api/v1/account/representation/"+id+"/accept", "", http.StatusNotFound, "represent.gone")
	mallory.problem(t, "DELETE", "/api/v1/account/representation/"+id, "", http.StatusNotFound, "represent.gone")

	// A stale session of Kari's accepts nothing: a recent sign-in first.
	clock.Advance(2 * time.Hour)
	kari.problem(t, "POST", "/api/v1/account/representation/"+id+"/accept", "", http.StatusForbidden, "represent.reauth")
	kari = apiSignIn(t, srv, "kari@example.no", "lang-og-trygt-passord-Kari")
	per = apiSignIn(t, srv, "per@example.no", "lang-og-trygt-passord-Per")

	// Kari accepts; now Per may choose to act for her.
	kari.do(t, "POST", "/api/v1/account/representation/"+id+"/accept", "", http.StatusOK, &out)
	if out["status"] != "active" || out["name"] != "Kari" {
		t.Errorf("after Kari accepts: %v, want active, with her name", out)
	}
	kari.problem(t, "POST", "/api/v1/account/representation/"+id+"/accept", "", http.StatusConflict, "represent.already_accepted")
	per.do(t, "POST", "/api/v1/act-as", `{"acting_for":"`+id+`"}`, http.StatusOK, &out)
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &choices)
	if choices.ActingFor != id || len(choices.Choices) != 1 {
		t.Errorf("Per after choosing: acting_for %q with %d choices, want %q and 1", choices.ActingFor, len(choices.Choices), id)
	}

	// Rights the operator does not allow are refused, naming the right.
	p := per.problem(t, "POST", "/api/v1/account/representation/persons", `{"name":"Ola","birth_date":"2019-03-14","rights":["udi:admin"]}`, http.StatusUnprocessableEntity, "represent.right_unknown")
	if !strings.Contains(p, "udi:admin") {
		t.Errorf("the refusal %s does not name the right", p)
	}
	per.problem(t, "POST", "/api/v1/account/representation/persons", `{"name":"Ola","national_id":"15031851299"}`, http.StatusUnprocessableEntity, "nationalid.no.control")

	// A child the operator must approve: not offered until approved, and
	// only the admin token approves.
	var child map[string]any
	per.do(t, "POST", "/api/v1/account/representation/persons", `{"name":"Ola","birth_date":"2019-03-14","rights":["udi:apply"],"expires":"`+clock.Peek().Format("2006-01-02")+`"}`, http.StatusCreated, &child)
	childID, _ := child["id"].(string)
	if child["status"] != "waiting_approval" {
		t.Errorf("a recorded child is %v, want waiting_approval", child["status"])
	}
	per.problem(t, "POST", "/api/v1/act-as", `{"acting_for":"`+childID+`"}`, http.StatusNotFound, "represent.gone")
	per.problem(t, "POST", "/api/admin/v1/representation/"+childID+"/approve", "", http.StatusUnauthorized, "admin.unauthorized")
	admin := &apiClient{srv: srv, c: &http.Client{}, bearer: adminToken}
	var pending []map[string]any
	admin.do(t, "GET", "/api/admin/v1/representation/pending", "", http.StatusOK, &pending)
	if len(pending) != 1 || pending[0]["id"] != childID {
		t.Errorf("pending approvals %v, want the child", pending)
	}
	admin.do(t, "POST", "/api/admin/v1/representation/"+childID+"/approve", "", http.StatusOK, &out)
	per.do(t, "POST", "/api/v1/act-as", `{"acting_for":"`+childID+`"}`, http.StatusOK, &out)

	// The child's delegation expires: the session that chose it loses it.
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &choices)
	if choices.ActingFor != childID || len(choices.Choices) != 2 {
		t.Errorf("before midnight Per acts for %q with %d choices, want the child and 2", choices.ActingFor, len(choices.Choices))
	}
	clock.Advance(13 * time.Hour) // past midnight: the last day is over
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &choices)
	if choices.ActingFor != "" || len(choices.Choices) != 1 {
		t.Errorf("after the child's delegation expired Per (same session) acts for %q with %d choices, want nobody and only Kari", choices.ActingFor, len(choices.Choices))
	}
	per.problem(t, "POST", "/api/v1/act-as", `{"acting_for":"`+childID+`"}`, http.StatusNotFound, "represent.gone")

	// Kari takes it back: Per's choice is gone at his next request.
	per.do(t, "POST", "/api/v1/act-as", `{"acting_for":"`+id+`"}`, http.StatusOK, &out)
	var kariView struct {
		ActedForBy []struct{ ID, Status string } `json:"acted_for_by"`
	}
	kari.do(t, "GET", "/api/v1/account/representation", "", http.StatusOK, &kariView)
	if len(kariView.ActedForBy) != 1 || kariView.ActedForBy[0].ID != id {
		t.Fatalf("Kari sees %+v acting for her, want Per's", kariView.ActedForBy)
	}
	kari.do(t, "DELETE", "/api/v1/account/representation/"+id, "", http.StatusNoContent, nil)
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &choices)
	if choices.ActingFor != "" || len(choices.Choices) != 0 {
		t.Errorf("after Kari took it back Per acts for %q with %d choices, want nobody", choices.ActingFor, len(choices.Choices))
	}
	per.problem(t, "POST", "/api/v1/act-as", `{"acting_for":"`+id+`"}`, http.StatusNotFound, "represent.gone")

	// An employee acts for their company through the membership the
	// company's administrators manage; it ends with the membership.
	db := srv.App.DB
	if err := db.CreateOrg(t.Context(), store.Organisation{ID: "912345678", Name: "Nordmann Regnskap AS", CreatedAt: clock.Peek()}); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	if _, err := db.PutOrgMember(t.Context(), store.OrgMember{OrgID: "912345678", AccountID: perID, Role: store.RoleMember, Rights: []string{"altinn:submit"}, AddedAt: clock.Peek(), UpdatedAt: clock.Peek()}); err != nil {
		t.Fatalf("PutOrgMember: %v", err)
	}
	var orgChoices struct {
		Choices []struct {
			ID, Kind, Name, Shown string
			Rights                []string
		} `json:"choices"`
	}
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &orgChoices)
	if len(orgChoices.Choices) != 1 || orgChoices.Choices[0].ID != "org:912345678" || orgChoices.Choices[0].Kind != "organisation" ||
		orgChoices.Choices[0].Name != "Nordmann Regnskap AS" || !slices.Equal(orgChoices.Choices[0].Rights, []string{"altinn:submit"}) {
		t.Errorf("Per, a member, is offered %+v; want the company with his rights", orgChoices.Choices)
	}
	per.do(t, "POST", "/api/v1/act-as", `{"acting_for":"org:912345678"}`, http.StatusOK, &out)
	mallory.problem(t, "POST", "/api/v1/act-as", `{"acting_for":"org:912345678"}`, http.StatusNotFound, "represent.gone")
	if err := db.DeleteOrgMember(t.Context(), "912345678", perID); err != nil {
		t.Fatalf("DeleteOrgMember: %v", err)
	}
	per.do(t, "GET", "/api/v1/act-as", "", http.StatusOK, &choices)
	if choices.ActingFor != "" || len(choices.Choices) != 0 {
		t.Errorf("after leaving the company Per acts for %q with %d choices, want nobody", choices.ActingFor, len(choices.Choices))
	}

	// Requests to other accounts are capped, with or without an account
	// behind the address.
	mallory = apiSignIn(t, srv, "mallory@example.no", "lang-og-trygt-passord-Mallory") // a recent sign-in
	for i := range account.MaxRequestsPerDay - 2 {
		mallory.do(t, "POST", "/api/v1/account/representation/requests", fmt.Sprintf(`{"account":"probe%d@example.no"}`, i), http.StatusAccepted, &out)
	}
	mallory.do(t, "POST", "/api/v1/account/representation/requests", `{"account":"per@example.no"}`, http.StatusAccepted, &out)
	mallory.do(t, "POST", "/api/v1/account/representation/requests", `{"account":"kari@example.no"}`, http.StatusAccepted, &out)
	mallory.problem(t, "POST", "/api/v1/account/representation/requests", `{"account":"probe-more@example.no"}`, http.StatusTooManyRequests, "represent.too_many_requests")

	// Everything is in the audit log, with who did it; no national
	// identity number in it.
	events, _, err := srv.App.DB.ListAuditEvents(t.Context(), store.AuditFilter{Subject: perID, Limit: 100})
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	var got []string
	for _, e := range events {
		if strings.HasPrefix(e.Kind, "representation.") {
			got = append(got, e.Kind+" by "+e.ActorKind+":"+e.ActorID)
		}
		if strings.Contains(fmt.Sprint(e), "15031851299") {
			t.Errorf("an audit event holds a national identity number: %+v", e)
		}
	}
	slices.Reverse(got) // oldest first
	// Each choice in "who are you acting for" is recorded too
	// (representation.acting_as), where the test makes one.
	acting := "representation.acting_as by account:" + perID
	want := []string{"representation.requested by account:" + perID, "representation.accepted by account:" + kariID, acting,
		"representation.added by account:" + perID, "representation.approved by operator:admin-api", acting, acting,
		"representation.revoked by account:" + kariID, acting}
	if !slices.Equal(got, want) {
		t.Errorf("audit log of Per's representation:\n%q\nwant\n%q", got, want)
	}
}

// apiClient is a JSON API client with its own cookie jar (a signed-in
// browser's session) or an admin bearer token.
type apiClient struct {
	srv    *server
	c      *http.Client
	bearer string
}

func apiSignIn(t *testing.T, srv *server, email, password string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &apiClient{srv: srv, c: &http.Client{Jar: jar}}
	var f struct {
		FlowID    string `json:"flow_id"`
		FlowToken string `json:"flow_token"`
	}
	b, _ := json.Marshal(map[string]string{"email": email})
	a.do(t, "POST", "/api/v1/login", string(b), http.StatusCreated, &f)
	b, _ = json.Marshal(map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": password})
	var sess map[string]any
	a.do(t, "POST", "/api/v1/login/password", string(b), http.StatusOK, &sess)
	if sess["account_id"] == nil {
		t.Fatalf("signing in %s: %v, want a session", email, sess)
	}
	return a
}

func (a *apiClient) send(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, a.srv.URL+path, bytes.NewBufferString(body))
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// do sends the request and decodes a JSON answer with the status want.
func (a *apiClient) do(t *testing.T, method, path, body string, want int, out any) {
	t.Helper()
	code, b := a.send(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, code, b, want)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
}

// problem sends the request and checks for an RFC 9457 answer with the
// status and problem key; it returns the body.
func (a *apiClient) problem(t *testing.T, method, path, body string, want int, key string) string {
	t.Helper()
	code, b := a.send(t, method, path, body)
	if code != want || !strings.Contains(string(b), `"`+key+`"`) {
		t.Errorf("%s %s = %d %s, want %d with %s", method, path, code, b, want, key)
	}
	return string(b)
}
