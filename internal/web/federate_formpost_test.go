package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// crossSitePost is what a browser sends when the provider's form_post page
// submits: a POST from the provider's origin that carries none of the
// SameSite=Lax cookies. It follows no redirect.
func crossSitePost(t *testing.T, c *formClient, origin, action string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	client := &http.Client{Transport: c.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// response_mode=form_post: the answer arrives by a cross-site POST with no
// cookies, is kept with the sign-in and continues in a GET that carries
// them; the code never appears in a URL; a replay, another browser and a
// forged state are refused; other POST routes still refuse other origins.
func TestFederatedFormPost(t *testing.T) {
	idp := upstreamtest.New(t)
	e := newEnv(t, func(c *config.Config) {
		c.Upstreams = []upstream.Config{{ID: "idporten", Preset: upstream.PresetIDPorten, Issuer: idp.Issuer, ClientID: idp.ClientID,
			ClientSecret: idp.ClientSecret, FirstLogin: upstream.FirstCreate, ResponseMode: upstream.ResponseFormPost}}
	})
	idp.SignInAs(bankID("01017012345", "Kari Nordmann"))
	c := newFormClient(t, e)
	page := c.get("/login/federated/idporten")
	if a := idp.Authorizations(); len(a) != 1 || a[0].Query.Get("response_mode") != "form_post" {
		t.Fatalf("the provider was asked %v, want response_mode=form_post", a)
	}
	action := html.UnescapeString(c.find(`<form method="post" action="([^"]+)"`))
	if !strings.HasSuffix(action, "/login/federated/idporten/callback") {
		t.Fatalf("form_post page posts to %q:\n%s", action, page)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Get("code") == "" || form.Get("state") == "" || form.Get("iss") != idp.Issuer {
		t.Fatalf("form_post fields %v", form)
	}

	// Another browser cannot take the answer: it is kept, then taken
	// back only where the cookie that started the sign-in comes along.
	resp := crossSitePost(t, c, idp.Issuer, action, form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login/federated/idporten/callback?") ||
		strings.Contains(loc, form.Get("code")) || len(resp.Cookies()) != 0 {
		t.Fatalf("form_post answer = %d to %q with cookies %v; want 303 to the GET callback without the code, no cookie", resp.StatusCode, loc, resp.Cookies())
	}
	if again := crossSitePost(t, c, idp.Issuer, action, form); again.StatusCode != http.StatusForbidden {
		t.Errorf("the same answer posted twice = %d, want 403", again.StatusCode)
	}
	forged := url.Values{"code": {"x"}, "state": {"forged-state-0123456789abcdef"}, "iss": {idp.Issuer}}
	if r := crossSitePost(t, c, idp.Issuer, action, forged); r.StatusCode != http.StatusForbidden {
		t.Errorf("a forged state posted = %d, want 403", r.StatusCode)
	}

	c.get(loc)
	if !strings.HasSuffix(c.url, "/account") || !strings.Contains(c.get("/"), "Kari Nordmann") {
		t.Fatalf("after the form_post answer: %s %d\n%s", c.url, c.status, c.last)
	}
	other := newFormClient(t, e)
	if other.get(loc); other.status != http.StatusForbidden {
		t.Errorf("the GET callback again, from another browser = %d, want 403", other.status)
	}

	// The bypass is for that one route: a cross-origin POST elsewhere is
	// refused as before.
	if r := crossSitePost(t, c, idp.Issuer, strings.Replace(action, "/idporten/callback", "/cancel", 1), url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST /login/federated/cancel = %d, want 403", r.StatusCode)
	}
}

// A sign-in whose answer went to another browser: that browser's GET
// callback is refused, and the answer is not left for a later try.
func TestFederatedFormPost_OtherBrowser(t *testing.T) {
	idp := upstreamtest.New(t)
	e := newEnv(t, func(c *config.Config) {
		c.Upstreams = []upstream.Config{{ID: "idporten", Preset: upstream.PresetIDPorten, Issuer: idp.Issuer, ClientID: idp.ClientID,
			ClientSecret: idp.ClientSecret, FirstLogin: upstream.FirstCreate, ResponseMode: upstream.ResponseFormPost}}
	})
	idp.SignInAs(bankID("01017012345", "Kari Nordmann"))
	victim, attacker := newFormClient(t, e), newFormClient(t, e)
	page := victim.get("/login/federated/idporten")
	action := html.UnescapeString(victim.find(`<form method="post" action="([^"]+)"`))
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	loc := crossSitePost(t, attacker, idp.Issuer, action, form).Header.Get("Location")
	if attacker.get(loc); attacker.status != http.StatusForbidden || strings.HasSuffix(attacker.url, "/account") {
		t.Errorf("another browser's GET callback = %d at %s, want 403", attacker.status, attacker.url)
	}
	if victim.get(loc); victim.status != http.StatusForbidden {
		t.Errorf("the answer taken once is not there again: = %d, want 403", victim.status)
	}
}
