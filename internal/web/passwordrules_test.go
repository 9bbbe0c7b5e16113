package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// altinnProfile loads examples/profiles/altinn.yaml over the test's
// configuration, keeping the test's address, public URL and database.
// Second factors are optional rather than required, so that an account
// without one signs in at all; the password policy and the methods (SMS
// and recovery codes) are the profile's.
func altinnProfile(t *testing.T) func(*config.Config) {
	t.Helper()
	p, err := config.Load("../../examples/profiles/altinn.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Password.Preset != "altinn" {
		t.Fatalf("the altinn profile's password preset is %q", p.Password.Preset)
	}
	return func(c *config.Config) {
		listen, public, db, dev := c.Listen, c.PublicURL, c.Database, c.Dev
		*c = p
		c.Listen, c.PublicURL, c.Database, c.Dev = listen, public, db, dev
		c.MFA.Mode = "optional"
	}
}

var ruleList = regexp.MustCompile(`(?s)<ul class="rules" id="password-rules">(.*?)</ul>`)

// rulesShown returns the rule list of the last page, as text.
func (c *formClient) rulesShown() string {
	c.t.Helper()
	m := ruleList.FindStringSubmatch(c.last)
	if m == nil {
		c.t.Fatalf("no rule list on %s:\n%s", c.url, c.last)
	}
	return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " | ")
}

// devCode reads the code in the newest message to to on channel (sms or
// email) in the development mailbox.
func devCode(t *testing.T, e *env, channel, to string) string {
	t.Helper()
	_, body := e.do(t, "GET", "/dev/mail?channel="+channel+"&to="+url.QueryEscape(to), nil, map[string]string{"Accept": "application/json"})
	var msgs []struct{ Text string }
	if err := json.Unmarshal([]byte(body), &msgs); err != nil || len(msgs) == 0 {
		t.Fatalf("no %s message to %s: %s (%v)", channel, to, body, err)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msgs[0].Text) // newest first
	if code == "" {
		t.Fatalf("no code in %q", msgs[0].Text)
	}
	return code
}

// liveCheck asks the page's live check about pw, with the client's
// cookies, and returns the messages it gives.
func (c *formClient) liveCheck(pw string) []string {
	c.t.Helper()
	body, _ := json.Marshal(map[string]string{"password": pw})
	req, _ := http.NewRequest("POST", "http://localhost:8080/api/v1/password/check", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	c.do(req)
	var out struct {
		OK     bool
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal([]byte(c.last), &out); err != nil {
		c.t.Fatalf("password check = %d %s", c.status, c.last)
	}
	var msgs []string
	for _, e := range out.Errors {
		msgs = append(msgs, e.Message)
	}
	return msgs
}

// The change-password page lists the length rule that applies to the
// signed-in user: 8 characters for one who signs in with SMS, 15 for one
// without a second factor; the live check and the form agree with it.
func TestChangePasswordPageShowsTheRuleThatApplies(t *testing.T) {
	e := newEnv(t, altinnProfile(t))
	const pw, pw13 = "Hemmeligordetmitt42", "Fjordbris2026"
	const mfaRule = "At least 8 characters, since your account uses two-step verification"

	t.Run("with SMS", func(t *testing.T) {
		if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "01017012343", Name: "Kari Nordmann", Email: "kari@example.no", Password: pw, Phone: "912 34 567"}); err != nil {
			t.Fatal(err)
		}
		c := newFormClient(t, e)
		c.post("/login/username", "username", "01017012343", "password", pw)
		id := c.find(`name="flow" value="([a-z0-9]+)"`)
		method := c.find(`name="method" value="([^"]+)"`)
		c.post("/login/factor/send", "flow", id, "method", method)
		c.post("/login/factor", "flow", id, "method", method, "code", devCode(t, e, "sms", "+4791234567"))
		if !strings.HasSuffix(c.url, "/account") {
			t.Fatalf("signed in at %s:\n%s", c.url, c.last)
		}

		c.get("/account/password")
		if rules := c.rulesShown(); !strings.Contains(rules, mfaRule) || strings.Contains(rules, "15") {
			t.Errorf("the rules shown to a user with SMS: %s; want %q and no 15", rules, mfaRule)
		}
		if msgs := c.liveCheck("Fjord26"); len(msgs) == 0 || !strings.Contains(msgs[0], "at least 8 characters") {
			t.Errorf("the live check of 7 characters says %q, want the 8-character rule", msgs)
		}
		if msgs := c.liveCheck(pw13); len(msgs) != 0 {
			t.Errorf("the live check refuses 13 characters for a user with SMS: %q", msgs)
		}
		c.post("/account/password", "current_password", pw, "password", pw13)
		if !strings.Contains(c.url, "notice=password-changed") {
			t.Errorf("changing to 13 characters ended at %s (%d):\n%s", c.url, c.status, c.last)
		}
	})

	t.Run("without a factor", func(t *testing.T) {
		if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "02027012372", Name: "Ola Nordmann", Email: "ola@example.no", Password: pw}); err != nil {
			t.Fatal(err)
		}
		c := newFormClient(t, e)
		c.post("/login/username", "username", "02027012372", "password", pw)
		if !strings.HasSuffix(c.url, "/account") {
			t.Fatalf("signed in at %s:\n%s", c.url, c.last)
		}
		c.get("/account/password")
		if rules := c.rulesShown(); !strings.Contains(rules, "At least 15 characters") || strings.Contains(rules, "8") {
			t.Errorf("the rules shown to a user without a factor: %s; want 15 and no 8", rules)
		}
		if msgs := c.liveCheck(pw13); len(msgs) == 0 || !strings.Contains(msgs[0], "at least 15 characters") {
			t.Errorf("the live check of 13 characters says %q, want the 15-character rule", msgs)
		}
		c.post("/account/password", "current_password", pw, "password", pw13)
		if c.status != 422 || !strings.Contains(c.last, "at least 15 characters") {
			t.Errorf("changing to 13 characters without a factor = %d at %s, want 422 naming 15", c.status, c.url)
		}
		if rules := c.rulesShown(); !strings.Contains(rules, "At least 15 characters") {
			t.Errorf("the rules on the page with the error: %s", rules)
		}
	})

	t.Run("sign-up", func(t *testing.T) {
		c := newFormClient(t, e)
		c.post("/signup", "email", "new@example.no")
		id := c.find(`name="flow" value="([a-z0-9]+)"`)
		c.post("/signup/code", "flow", id, "code", devCode(t, e, "email", "new@example.no"))
		if rules := c.rulesShown(); !strings.Contains(rules, "At least 15 characters") || strings.Contains(rules, "8") {
			t.Errorf("the rules shown at sign-up: %s; want 15 and no 8", rules)
		}
	})
}
