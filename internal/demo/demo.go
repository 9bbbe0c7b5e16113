// Package demo is a small app that signs in with Portvakt, the quickest way
// to see the whole product work: "Log in with Portvakt" runs the
// authorization code flow with PKCE against Portvakt's own OpenID Provider
// (as any app would, over HTTP to the public URL), verifies the ID token
// and shows its claims. Buttons ask for a higher acr to show step-up.
//
// It is served at /demo when dev.demo is on (by default: in development,
// on localhost). It uses zitadel's certified relying-party package, so it
// is also an independent check of the provider.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/portvakt/portvakt/internal/i18n"
)

// ClientID is the demo app's client_id; the app registers it as a public
// client with the redirect URI /demo/callback.
const ClientID = "portvakt-demo"

// App is the demo app. Build it with New; it is an http.Handler for
// /demo and /demo/.
type App struct {
	// Lang, when set, returns the request's language (the portal's own
	// negotiation: account, switcher cookie, browser); otherwise the
	// browser's Accept-Language decides.
	Lang func(*http.Request) *i18n.Lang

	catalog *i18n.Catalog
	issuer  string
	client  *http.Client
	cookies *httphelper.CookieHandler
	mu      sync.Mutex
	rp      rp.RelyingParty
}

// New returns the demo app for the provider at issuer (the public URL).
// The relying party discovers the provider on first use, when the server
// is up. catalog is the server's own (nil loads the embedded catalogs
// again, which costs a process start about 10 ms).
func New(issuer string, catalog *i18n.Catalog) *App {
	key := make([]byte, 32)
	rand.Read(key)
	opts := []httphelper.CookieHandlerOpt{}
	if strings.HasPrefix(issuer, "http://") {
		opts = append(opts, httphelper.WithUnsecure())
	}
	if catalog == nil {
		catalog, _ = i18n.New(nil) // the embedded catalogs; checked by package i18n's tests
	}
	return &App{catalog: catalog, issuer: strings.TrimRight(issuer, "/"), client: &http.Client{Timeout: 10 * time.Second}, cookies: httphelper.NewCookieHandler(key, key, opts...)}
}

func (a *App) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rp != nil {
		return a.rp, nil
	}
	// A public client sends its client_id in the body. The default, to
	// probe with HTTP Basic first and resend on any failure, would send
	// the code twice when the first answer is lost or unreadable, and
	// the provider, rightly, takes a second use of a code for theft: it
	// revokes the grant, and the error hides what went wrong.
	r, err := rp.NewRelyingPartyOIDC(ctx, a.issuer, ClientID, "", a.issuer+"/demo/callback",
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}, rp.WithPKCE(a.cookies), rp.WithHTTPClient(a.client),
		rp.WithAuthStyle(oauth2.AuthStyleInParams))
	if err != nil {
		return nil, fmt.Errorf("demo: discover the provider: %w", err)
	}
	a.rp = r
	return r, nil
}

var page = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="{{.Lang.Tag}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Lang.T "demo.title"}}</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main id="main">
<h1>{{.Lang.T "demo.title"}}</h1>
{{if .Claims}}
<p id="signed-in">{{.Lang.T "demo.signed_in"}}</p>
<table class="claims" id="claims">{{range .Claims}}<tr><th scope="row">{{.Name}}</th><td data-claim="{{.Name}}">{{.Value}}</td></tr>
{{end}}</table>
{{else if .Error}}<p class="field-error" id="demo-error">{{.Error}}</p>
{{else}}<p>{{.Lang.T "demo.lead"}}</p>{{end}}
<p><a class="button" id="demo-login" href="/demo/login">{{.Lang.T "demo.login"}}</a></p>
<p>{{.Lang.T "demo.stronger"}}
<a id="demo-login-3" href="/demo/login?acr=urn:portvakt:level:3">{{.Lang.T "demo.level3"}}</a>,
<a id="demo-login-4" href="/demo/login?acr=urn:portvakt:level:4">{{.Lang.T "demo.level4"}}</a>.</p>
<p><a id="demo-login-represent" href="/demo/login?represent=1">{{.Lang.T "demo.represent"}}</a></p>
</main></body></html>`))

type claim struct{ Name, Value string }

type pageData struct {
	Lang   *i18n.Lang
	Claims []claim
	Error  string
}

// ServeHTTP serves /demo, /demo/login and /demo/callback.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/demo", "/demo/":
		a.render(w, r, pageData{})
	case "/demo/login":
		party, err := a.relyingParty(r.Context())
		if err != nil {
			a.render(w, r, pageData{Error: err.Error()})
			return
		}
		var params []rp.URLParamOpt
		if r.URL.Query().Get("represent") != "" {
			// Ask whom the person acts for (docs/representation.md).
			params = append(params, rp.WithURLParam("scope", "openid profile email represent"))
		}
		if acr := r.URL.Query().Get("acr"); acr != "" {
			params = append(params, rp.WithURLParam("acr_values", acr))
		}
		rp.AuthURLHandler(func() string { return randomState() }, party, params...)(w, r)
	case "/demo/callback":
		party, err := a.relyingParty(r.Context())
		if err != nil {
			a.render(w, r, pageData{Error: err.Error()})
			return
		}
		rp.CodeExchangeHandler(func(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], state string, _ rp.RelyingParty) {
			a.render(w, r, pageData{Claims: claimsOf(tokens.IDTokenClaims)})
		}, party)(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *App) render(w http.ResponseWriter, r *http.Request, d pageData) {
	if a.Lang != nil {
		d.Lang = a.Lang(r)
	}
	if d.Lang == nil {
		d.Lang = a.catalog.Lang(a.catalog.Negotiate("", "", "", r.Header.Get("Accept-Language"), ""))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	page.Execute(w, d)
}

func randomState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// claimsOf lists the ID token's claims, sorted, values as JSON.
func claimsOf(c *oidc.IDTokenClaims) []claim {
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	var out []claim
	for k, v := range m {
		var val string
		switch x := v.(type) {
		case string:
			val = x
		default:
			vb, _ := json.Marshal(x)
			val = string(vb)
		}
		out = append(out, claim{k, val})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
