package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// The authorization endpoint is Portvakt's own, not zitadel's, so that:
//   - a bad client_id or redirect_uri is answered with a JSON 400 and never
//     a redirect (RFC 9700 §4.1.3, OIDC Core §3.1.2.1);
//   - every response sent to the client, success or error, carries iss
//     (RFC 9207);
//   - PKCE is S256 only, and required (RFC 9700 §2.1.1);
//   - only response_type=code is offered (no implicit flow).

// Limits on what a request may make the provider store.
const (
	maxParam     = 2048 // state, nonce, login_hint, claims
	maxUILocales = 10
)

var codeChallengeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`) })

// Standard scopes the provider knows; a client may also ask for its own
// Client.Scopes. Others are dropped.
var standardScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, ScopeRepresent}

// authError is an error response of the authorization endpoint.
type authError struct {
	code, desc string
}

func (e authError) Error() string { return e.code + ": " + e.desc }

func authErr(code, format string, args ...any) authError {
	return authError{code, fmt.Sprintf(format, args...)}
}

// writeJSONError writes an OAuth error as JSON.
func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, desc})
}

// authorize serves /authorize (GET, or POST with a form).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "use GET or POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the request cannot be parsed")
		return
	}
	q := r.Form
	// First the client and its redirect URI. Until both are known good,
	// nothing is sent to the redirect URI: the error is shown here.
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", k+" is repeated")
			return
		}
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "client_id is missing")
		return
	}
	c, err := p.client(r.Context(), clientID)
	if errors.Is(err, ErrUnknownClient) {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "client_id names no client")
		return
	}
	if err != nil {
		p.log.Error("authorize: load client", "client", clientID, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "try again later")
		return
	}
	if redirectURI == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is missing")
		return
	}
	if !matchRedirectURI(&c.c, redirectURI) {
		writeJSONError(w, http.StatusBadRequest, "invalid_request",
			"redirect_uri is not one of the client's registered redirect URIs (compared exactly)")
		return
	}

	// From here on errors go back to the client.
	resp := responseTarget{redirectURI: redirectURI, state: q.Get("state"), mode: oidc.ResponseModeQuery}
	if q.Get("response_mode") == string(oidc.ResponseModeFormPost) {
		resp.mode = oidc.ResponseModeFormPost
	}
	ar, err := p.parseAuthRequest(r.Context(), c, q)
	var ae authError
	if errors.As(err, &ae) {
		p.respond(w, resp, url.Values{"error": {ae.code}, "error_description": {ae.desc}})
		return
	}
	if err != nil {
		p.log.Error("authorize", "client", clientID, "err", err)
		p.respond(w, resp, url.Values{"error": {"server_error"}})
		return
	}
	if err := p.st.CreateAuthRequest(r.Context(), ar); err != nil {
		p.log.Error("authorize: store request", "client", clientID, "err", err)
		p.respond(w, resp, url.Values{"error": {"server_error"}})
		return
	}
	http.Redirect(w, r, p.loginURL(ar.ID), http.StatusSeeOther)
}

// parseAuthRequest checks the parameters of an authorization request of
// client c, whose redirect_uri is known good, and returns the request to
// store. Problems come back as authError.
func (p *Provider) parseAuthRequest(ctx context.Context, c *client, q url.Values) (store.AuthRequest, error) {
	var ar store.AuthRequest
	for k, v := range q {
		if len(v) > 1 {
			return ar, authErr("invalid_request", "%s is repeated", k)
		}
	}
	if q.Get("request") != "" {
		return ar, authErr("request_not_supported", "request objects are not supported")
	}
	if q.Get("request_uri") != "" {
		return ar, authErr("request_uri_not_supported", "request_uri is not supported")
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return ar, authErr("invalid_request", "response_type is missing")
	default:
		return ar, authErr("unsupported_response_type", "only response_type=code is offered (no implicit or hybrid flow)")
	}
	if !c.hasGrant(GrantAuthorizationCode) {
		return ar, authErr("unauthorized_client", "the client may not use the authorization code flow")
	}
	mode := q.Get("response_mode")
	switch mode {
	case "", string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost):
	default:
		return ar, authErr("invalid_request", "response_mode must be query or form_post")
	}
	for _, k := range []string{"state", "nonce", "login_hint", "claims", "acr_values", "ui_locales", "scope"} {
		if len(q.Get(k)) > maxParam {
			return ar, authErr("invalid_request", "%s is longer than %d bytes", k, maxParam)
		}
	}

	// Scopes: standard ones and the client's own; unknown ones are
	// dropped (documented), offline_access too unless the client may
	// refresh.
	var scopes []string
	for _, s := range strings.Fields(q.Get("scope")) {
		known := slices.Contains(standardScopes, s) || c.IsScopeAllowed(s)
		if s == oidc.ScopeOfflineAccess && !c.hasGrant(GrantRefreshToken) {
			known = false
		}
		if known && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		return ar, authErr("invalid_scope", "scope is missing or names no scope this client may have")
	}

	// PKCE (RFC 7636): S256 only, required unless a confidential client
	// is let off.
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return ar, authErr("invalid_request", "code_challenge_method without code_challenge")
	case challenge == "" && (c.c.Public || !c.c.PKCEOptional):
		return ar, authErr("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
	case challenge != "" && method != string(oidc.CodeChallengeMethodS256):
		return ar, authErr("invalid_request", "code_challenge_method must be S256 (plain is not allowed)")
	case challenge != "" && !codeChallengeRE().MatchString(challenge):
		return ar, authErr("invalid_request", "code_challenge is not a base64url SHA-256 (43 characters)")
	}

	prompt := strings.Fields(q.Get("prompt"))
	for _, v := range prompt {
		switch v {
		case oidc.PromptNone:
			if len(prompt) > 1 {
				return ar, authErr("invalid_request", "prompt=none cannot be combined with other values")
			}
		case oidc.PromptLogin, oidc.PromptConsent, oidc.PromptSelectAccount:
		default:
			return ar, authErr("invalid_request", "prompt value %q is not none, login, consent or select_account", v)
		}
	}
	maxAge := -1
	if s := q.Get("max_age"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return ar, authErr("invalid_request", "max_age is not a number of seconds")
		}
		maxAge = n
	}

	acrValues := strings.Fields(q.Get("acr_values"))
	essential := false
	if vals, ess, ok, err := claimsACR(q.Get("claims")); err != nil {
		return ar, authErr("invalid_request", "%v", err)
	} else if ok {
		acrValues, essential = vals, ess
	}
	if _, known := p.acr.required(acrValues); essential && !known {
		return ar, authErr("invalid_request", "none of the essential acr values is offered (see acr_values_supported)")
	}

	var locales []string
	for _, l := range strings.Fields(q.Get("ui_locales")) {
		if len(l) <= 35 && !strings.ContainsFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		}) && len(locales) < maxUILocales {
			locales = append(locales, l)
		}
	}

	var hintSubject string
	if hint := q.Get("id_token_hint"); hint != "" {
		claims, err := zop.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, p.zp.IDTokenHintVerifier(zop.ContextWithIssuer(ctx, p.cfg.Issuer)))
		var expired zop.IDTokenHintExpiredError
		if err != nil && !errors.As(err, &expired) {
			return ar, authErr("invalid_request", "id_token_hint is not an ID token of this provider")
		}
		hintSubject = claims.GetSubject()
	}

	now := p.now()
	ar = store.AuthRequest{
		ID:           secret.ID(),
		ClientID:     c.c.ID,
		RedirectURI:  q.Get("redirect_uri"),
		Scopes:       scopes,
		State:        q.Get("state"),
		Nonce:        q.Get("nonce"),
		ResponseMode: mode,
		Prompt:       prompt,
		MaxAge:       maxAge,
		ACRValues:    acrValues,
		ACREssential: essential,
		UILocales:    locales,
		LoginHint:    q.Get("login_hint"),
		HintSubject:  hintSubject,
		CreatedAt:    now,
		ExpiresAt:    now.Add(p.cfg.AuthRequestTTL),
	}
	if challenge != "" {
		ar.CodeChallenge, ar.CodeChallengeMethod = challenge, method
	}
	return ar, nil
}

// responseTarget is where and how an authorization response goes.
type responseTarget struct {
	redirectURI string
	state       string
	mode        oidc.ResponseMode
}

// respond sends an authorization response (params: code, or error and
// error_description) to the client, with state and iss (RFC 9207): a 303
// redirect with the parameters in the query, or for form_post a page
// that posts them.
func (p *Provider) respond(w http.ResponseWriter, t responseTarget, params url.Values) {
	if t.state != "" {
		params.Set("state", t.state)
	}
	params.Set("iss", p.cfg.Issuer)
	if t.mode == oidc.ResponseModeFormPost {
		writeFormPost(w, t.redirectURI, params)
		return
	}
	u, err := url.Parse(t.redirectURI) // registered, so it parses
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "server_error", "bad redirect URI")
		return
	}
	merged := u.Query()
	for k, v := range params {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusSeeOther)
}

const formPostScript = `document.forms[0].submit()`

var (
	formPostTmpl = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Continue</title></head>
<body><form method="post" action="{{.Action}}">{{range $k, $v := .Params}}{{range $v}}
<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<noscript><button type="submit">Continue</button></noscript></form>
<script>` + formPostScript + `</script></body></html>
`))
	formPostScriptHash = func() string {
		h := sha256.Sum256([]byte(formPostScript))
		return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
	}()
)

// writeFormPost writes the OAuth 2.0 Form Post Response Mode page.
func writeFormPost(w http.ResponseWriter, action string, params url.Values) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src "+formPostScriptHash+
		"; form-action "+formActionSource(action)+"; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	formPostTmpl.Execute(w, struct {
		Action string
		Params url.Values
	}{action, params})
}

// formActionSource returns the CSP source that allows posting to action.
func formActionSource(action string) string {
	u, err := url.Parse(action)
	if err != nil || u.Host == "" {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}

// callback serves /authorize/callback?id=…, where Complete and Abort send
// the browser: it issues the code of a completed request, or delivers the
// error of an ended one, to the client. A request answers here once.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "id is missing")
		return
	}
	ctx := r.Context()
	now := p.now()
	code := secret.Token()
	token := r.URL.Query().Get("t")
	ar, err := p.st.UpdateAuthRequest(ctx, id, func(ar store.AuthRequest) (store.AuthRequest, error) {
		switch {
		case !now.Before(ar.ExpiresAt) || len(ar.CodeHash) > 0 || ar.GrantID != "":
			return ar, errGone
		case !ar.Done:
			return ar, errNotDone
		case ar.Error != "":
			ar.ExpiresAt = now // answered: nothing more will happen
			return ar, nil
		case !p.validCallbackToken(token, ar.ID, ar.SessionID):
			return ar, errOtherBrowser
		}
		ar.CodeHash = secret.Hash(code)
		ar.CodeExpiresAt = now.Add(p.cfg.CodeTTL)
		// Kept for an hour past the code's life, so that a replayed code
		// is recognized and revokes what the first redemption issued.
		ar.ExpiresAt = ar.CodeExpiresAt.Add(time.Hour)
		return ar, nil
	})
	switch {
	case errors.Is(err, errNotDone):
		http.Redirect(w, r, p.loginURL(id), http.StatusSeeOther)
		return
	case errors.Is(err, errOtherBrowser):
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the authorization request was completed in another browser")
		return
	case errors.Is(err, errGone), errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the authorization request is unknown, expired or already answered")
		return
	case err != nil:
		p.log.Error("authorize callback", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "try again later")
		return
	}
	t := responseTarget{redirectURI: ar.RedirectURI, state: ar.State, mode: oidc.ResponseMode(ar.ResponseMode)}
	if ar.Error != "" {
		p.respond(w, t, url.Values{"error": {ar.Error}, "error_description": {errorDescriptions[ar.Error]}})
		return
	}
	p.respond(w, t, url.Values{"code": {code}})
}

var (
	errGone    = errors.New("op: authorization request gone")
	errNotDone = errors.New("op: authorization request not done")
	// errOtherBrowser: a completed request's callback without the token
	// that Complete gave the completing browser.
	errOtherBrowser = errors.New("op: authorization request completed in another browser")
)
