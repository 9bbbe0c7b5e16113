package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
)

// The inactivity lifecycle of issue 15 with an injected clock: the udi
// profile's two years, warnings 30 and 7 days before.

const lifecyclePW = "correct horse battery staple"

var lifecycleStart = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

func lifecycleConfig(cfg *config.Config) {
	cfg.Lifecycle.InactiveAfter = "730d"
	cfg.Lifecycle.WarnBefore = []string{"30d", "7d"}
}

// warnings counts the inactivity warnings mailed to addr.
func warnings(t *testing.T, a *app.App, addr string) int {
	t.Helper()
	return countMail(t, a, addr, "will be deleted unless you sign in")
}

func countMail(t *testing.T, a *app.App, addr, subject string) int {
	t.Helper()
	msgs, err := a.Outbox.ListMessages(t.Context(), store.MessageFilter{To: addr, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Subject, subject) {
			n++
		}
	}
	return n
}

// signInOver signs in with the email-first form through the app's
// handler, as a browser would.
func signInOver(t *testing.T, a *app.App, email string) {
	t.Helper()
	if !trySignIn(t, a, email, lifecyclePW) {
		t.Fatalf("sign-in of %s failed", email)
	}
}

// trySignIn reports whether the password signs in.
func trySignIn(t *testing.T, a *app.App, email, pw string) bool {
	t.Helper()
	cookies := map[string]string{}
	post := func(path string, kv ...string) *http.Response {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		req := httptest.NewRequest("POST", "http://localhost:8080"+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, val := range cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: val})
		}
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			cookies[c.Name] = c.Value
		}
		return rec.Result()
	}
	resp := post("/login", "email", email)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	resp = post("/login/password", "flow", loc.Query().Get("flow"), "password", pw)
	return resp.StatusCode == http.StatusSeeOther && cookies["portvakt_session"] != ""
}

func TestInactivity_warnOnceDeleteAtTwoYearsSignInCancels(t *testing.T) {
	clock := clocktest.New(lifecycleStart)
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	lifecycleConfig(&cfg)
	a, err := app.New(t.Context(), cfg, app.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := t.Context()
	idle, err := a.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Idle Ida", Email: "ida@example.no", Password: lifecyclePW})
	if err != nil {
		t.Fatal(err)
	}
	back, err := a.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Back Bo", Email: "bo@example.no", Password: lifecyclePW})
	if err != nil {
		t.Fatal(err)
	}
	signInOver(t, a, "ida@example.no") // day 0: the sign-in is in the audit log
	signInOver(t, a, "bo@example.no")

	run := func() []string {
		acts, err := a.Lifecycle().Run(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range acts {
			if x.Done {
				out = append(out, x.AccountID+":"+x.Kind)
			}
		}
		return out
	}
	day := func(n int) { clock.Advance(lifecycleStart.Add(time.Duration(n) * 24 * time.Hour).Sub(clock.Now())) }

	day(690)
	if trySignIn(t, a, "ida@example.no", "not her password") { // a failed try is no activity
		t.Fatal("a wrong password signed in")
	}
	day(699)
	if got := run(); len(got) != 0 || warnings(t, a, "ida@example.no") != 0 {
		t.Fatalf("day 699: %v, %d warnings", got, warnings(t, a, "ida@example.no"))
	}
	day(700)
	run()
	if n := warnings(t, a, "ida@example.no"); n != 1 {
		t.Fatalf("day 700: %d warnings to ida, want 1", n)
	}
	msgs, _ := a.Outbox.ListMessages(ctx, store.MessageFilter{To: "ida@example.no", Limit: 1})
	for _, want := range []string{lifecycleStart.Add(730 * 24 * time.Hour).Format("2006-01-02"), "sign in", "/login"} {
		if !strings.Contains(msgs[0].Text, want) {
			t.Errorf("the warning lacks %q:\n%s", want, msgs[0].Text)
		}
	}
	// A second run, and the scheduler's job on top: no second warning.
	run()
	a.Scheduler().RunDue(ctx)
	clock.Advance(2 * time.Hour)
	a.Scheduler().RunDue(ctx)
	if n := warnings(t, a, "ida@example.no"); n != 1 {
		t.Errorf("after more runs: %d warnings to ida, want still 1", n)
	}
	if n := warnings(t, a, "bo@example.no"); n != 1 {
		t.Errorf("%d warnings to bo, want 1", n)
	}

	// Bo signs in at day 720: no more warnings, no deletion.
	day(720)
	signInOver(t, a, "bo@example.no")
	day(723)
	run()
	if n := warnings(t, a, "ida@example.no"); n != 2 {
		t.Errorf("day 723: %d warnings to ida, want 2 (the 7-day one)", n)
	}
	day(729)
	if got := run(); len(got) != 0 {
		t.Errorf("day 729: %v, want nothing", got)
	}
	day(730)
	got := run()
	if len(got) != 1 || got[0] != idle.ID+":delete-inactive" {
		t.Fatalf("day 730: %v, want ida deleted", got)
	}
	if _, err := a.DB.GetAccount(ctx, idle.ID); err == nil {
		t.Error("ida's account is still there")
	}
	if _, err := a.DB.GetAccount(ctx, back.ID); err != nil {
		t.Errorf("bo signed in at day 720 and was deleted: %v", err)
	}
	if n := warnings(t, a, "bo@example.no"); n != 1 {
		t.Errorf("bo got %d warnings in all, want 1 (none after signing in)", n)
	}
	if n := countMail(t, a, "ida@example.no", "has been deleted"); n != 1 {
		t.Errorf("%d deletion mails to ida, want 1", n)
	}
	// Ida's audit entries remain, pseudonymised (the day-0 sign-in is past
	// the audit log's 13 months of retention; the failed try of day 690
	// is not).
	if evs, _, _ := a.DB.ListAuditEvents(ctx, store.AuditFilter{Subject: idle.ID}); len(evs) != 0 {
		t.Errorf("%d audit events still name ida's account", len(evs))
	}
	all, _, err := a.DB.ListAuditEvents(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, e := range all {
		if strings.HasPrefix(e.Subject, "deleted-") {
			kinds[e.Kind] = e.Subject
			if e.IP != "" || e.UserAgent != "" || strings.Contains(e.Target, "ida") {
				t.Errorf("a pseudonymised event keeps personal data: %+v", e)
			}
		}
	}
	for _, k := range []audit.Kind{audit.LoginFailed, audit.InactivityWarned, audit.AccountDeleted} {
		if _, ok := kinds[string(k)]; !ok {
			t.Errorf("no pseudonymised %s event remains (have %v)", k, kinds)
		}
	}
	if kinds[string(audit.LoginFailed)] != kinds[string(audit.AccountDeleted)] {
		t.Error("the deleted account's events do not share one pseudonym")
	}
	// The dry run lists, and changes nothing.
	day(730 + 700)
	acts, err := a.Lifecycle().Run(ctx, true)
	if err != nil || len(acts) != 1 || acts[0].AccountID != back.ID || acts[0].Kind != "warn" || acts[0].Done {
		t.Errorf("dry run = %+v, %v", acts, err)
	}
	if n := warnings(t, a, "bo@example.no"); n != 1 {
		t.Errorf("the dry run mailed: %d warnings to bo", n)
	}
}

// Three nodes share PostgreSQL and one clock: the account idle for 700
// days gets its 30-day warning once, not once per node, whether the
// nodes' schedulers race for the job's lease or the runs themselves race
// past it.
func TestInactivity_threeNodesOnPostgresWarnOnce(t *testing.T) {
	cluster, err := pgtest.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	dsn := cluster.NewDatabase(t)
	clock := clocktest.New(lifecycleStart)
	cfg := config.Default()
	cfg.Database.Driver, cfg.Database.DSN = "postgres", dsn
	cfg.Secrets.Key = "uDUUZ8ZlLZP9o6CFQtJGfOF8zVD0gM3bVcpSTNaTyt0="
	lifecycleConfig(&cfg)
	var nodes []*app.App
	for range 3 {
		a, err := app.New(t.Context(), cfg, app.Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		nodes = append(nodes, a)
	}
	ctx := t.Context()
	for _, who := range []string{"ida", "per", "liv"} {
		if _, err := nodes[0].Flows.CreateAccount(ctx, flow.NewAccount{Name: who, Email: who + "@example.no", Password: lifecyclePW}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(700 * 24 * time.Hour)
	race := func(fn func(a *app.App)) {
		var wg sync.WaitGroup
		for _, a := range nodes {
			wg.Go(func() { fn(a) })
		}
		wg.Wait()
	}
	race(func(a *app.App) { a.Scheduler().RunDue(ctx) })
	race(func(a *app.App) {
		if _, err := a.Lifecycle().Run(ctx, false); err != nil {
			t.Error(err)
		}
	})
	clock.Advance(time.Hour + time.Minute)
	race(func(a *app.App) { a.Scheduler().RunDue(ctx) })
	for _, who := range []string{"ida", "per", "liv"} {
		if n := warnings(t, nodes[1], who+"@example.no"); n != 1 {
			t.Errorf("%s got %d warnings from three nodes, want 1", who, n)
		}
	}
	events, _, err := nodes[2].DB.ListAuditEvents(ctx, store.AuditFilter{Kinds: []string{string(audit.InactivityWarned)}})
	if err != nil || len(events) != 3 {
		t.Errorf("%d inactivity_warned audit events, want 3 (%v)", len(events), err)
	}
}
