package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

// faultyFlows fails GetFlow, as a database gone away would, once armed.
type faultyFlows struct {
	flow.Store
	armed atomic.Bool
}

func (f *faultyFlows) GetFlow(ctx context.Context, id string) (store.Flow, error) {
	if f.armed.Load() {
		return store.Flow{}, fmt.Errorf("test: %w", store.ErrUnavailable)
	}
	return f.Store.GetFlow(ctx, id)
}

// faultAfterWrongCode arms the fault once a wrong code has been counted.
type faultAfterWrongCode struct{ *faultyFlows }

func (f faultAfterWrongCode) UpdateFlow(ctx context.Context, id string, fn func(store.Flow) (store.Flow, error)) (store.Flow, error) {
	out, err := f.Store.UpdateFlow(ctx, id, fn)
	f.armed.Store(true)
	return out, err
}

// TestEnrolConfirmDatabaseFault: a wrong code at the first sign-in's
// address step, followed by a database fault while the page is built
// again, answers 503 (the database is away), not a panic on a problem that
// is not there.
func TestEnrolConfirmDatabaseFault(t *testing.T) {
	idep, err := config.Load("../../examples/profiles/idep.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *config.Config) {
		db := c.Database
		listen, public := c.Listen, c.PublicURL
		*c = idep
		c.Database, c.Listen, c.PublicURL = db, listen, public
	})
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "20031", Name: "Nils", Password: "ett långt lösenord för idep"}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path string, v url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := client.PostForm(e.srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, err := client.Get(e.srv.URL + "/login/username"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	resp, _ := post("/login/username", url.Values{"username": {"20031"}, "password": {"ett långt lösenord för idep"}})
	flowID := resp.Request.URL.Query().Get("flow")
	if flowID == "" {
		t.Fatalf("after the password: %s, want the address step with its flow", resp.Request.URL)
	}
	if resp, body := post("/login/enrol/email", url.Values{"flow": {flowID}, "email": {"nils@scb.example"}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/enrol/email/confirm"`) {
		t.Fatalf("address step: %d, want the code form", resp.StatusCode)
	}
	ff := &faultyFlows{Store: e.app.Flows.Store}
	e.app.Flows.Store = faultAfterWrongCode{ff}
	defer func() { e.app.Flows.Store = ff.Store }()
	resp, body := post("/login/enrol/email/confirm", url.Values{"flow": {flowID}, "code": {"000000"}})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("wrong code, then a database fault: %d, want 503\n%.400s", resp.StatusCode, body)
	}
	if strings.Contains(e.logs.String(), "panic") {
		t.Errorf("the handler panicked: %s", e.logs.String())
	}
}
