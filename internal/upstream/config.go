package upstream

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// First-login modes: what happens the first time an upstream identity
// that is linked to no account signs in.
const (
	// FirstCreate makes a new account (UDI: an ID-porten account is
	// separate from an email account).
	FirstCreate = "create"
	// FirstLink attaches the identity to an existing account once the user
	// has signed in to it with its password and second factor.
	FirstLink = "link"
	// FirstAsk lets the user choose between the two.
	FirstAsk = "ask"
)

// Types of connector, and the presets of the oidc type.
const (
	TypeOIDC     = "oidc"
	TypeGitHub   = "github"
	TypeFacebook = "facebook"

	PresetIDPorten  = "idporten"
	PresetGoogle    = "google"
	PresetMicrosoft = "microsoft"
	PresetLinkedIn  = "linkedin"
)

// Config is one entry of `upstreams:` in the configuration file. The order
// of the entries is the order of the buttons on the sign-in page.
type Config struct {
	// ID names the provider in URLs, links and sessions ("idporten").
	ID string `yaml:"id"`
	// Type is oidc, github or facebook; a preset implies oidc.
	Type string `yaml:"type"`
	// Preset fills in an OpenID provider's defaults: idporten, google,
	// microsoft, linkedin.
	Preset string `yaml:"preset"`
	// Issuer is the OpenID issuer (discovery at
	// Issuer/.well-known/openid-configuration). For microsoft it is the
	// tenant's issuer, https://login.microsoftonline.com/<tenant>/v2.0,
	// or an ADFS issuer.
	Issuer string `yaml:"issuer"`
	// ClientID is Portvakt's client at the provider.
	ClientID string `yaml:"client_id"`
	// ClientSecret, ClientSecretFile or PrivateKeyFile authenticate the
	// client (client_secret_basic/post, or private_key_jwt). The secret may
	// also come from PORTVAKT_UPSTREAMS_<ID>_CLIENT_SECRET.
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	PrivateKeyFile   string `yaml:"private_key_file"`
	// PrivateKeyID is the kid of the private key for private_key_jwt.
	PrivateKeyID string `yaml:"private_key_id"`
	// Scopes replace the preset's scopes.
	Scopes []string `yaml:"scopes"`
	// ACRValues are sent as acr_values (ID-porten: idporten-loa-high).
	ACRValues []string `yaml:"acr_values"`
	// AcceptACR lists the acr values a sign-in must come back with; empty
	// accepts any (or, with ACRValues, those). ID-porten signs in at
	// substantial when high was asked and the user picked MinID: this is
	// where that is refused.
	AcceptACR []string `yaml:"accept_acr"`
	// ACRRefusal names what the refused sign-in used and what to use
	// instead, per language, for the refusal page («MinID gir ikke høyt
	// nok sikkerhetsnivå …»). Optional.
	ACRRefusal map[string]string `yaml:"acr_refusal"`
	// SigningAlgs is the ID token algorithm allowlist; default RS256, ES256.
	SigningAlgs []string `yaml:"signing_algs"`
	// FirstLogin is create, link or ask.
	FirstLogin string `yaml:"first_login"`
	// ResponseMode is how an OpenID provider answers: query (the
	// default, a redirect) or form_post (the browser POSTs the answer
	// across sites, without SameSite=Lax cookies; Portvakt keeps it with
	// the sign-in by its state and continues in a same-browser GET).
	ResponseMode string `yaml:"response_mode"`
	// Label is the button text per language ("en", "nb", "sv").
	Label map[string]string `yaml:"label"`
	// Tenant, for microsoft, is the tenant ID the token's tid must match
	// (the issuer check covers single-tenant apps; this pins it).
	Tenant string `yaml:"tenant"`
	// APIURL overrides the REST or Graph API base (github, facebook);
	// AuthURL and TokenURL override their OAuth 2.0 endpoints. For tests
	// and GitHub Enterprise.
	APIURL   string `yaml:"api_url"`
	AuthURL  string `yaml:"auth_url"`
	TokenURL string `yaml:"token_url"`
}

// Kind returns the connector type, oidc for a preset.
func (c Config) Kind() string {
	if c.Type == "" && c.Preset != "" {
		return TypeOIDC
	}
	return c.Type
}

// FirstLoginMode returns FirstLogin with its default, ask.
func (c Config) FirstLoginMode() string {
	if c.FirstLogin == "" {
		return FirstAsk
	}
	return c.FirstLogin
}

// ButtonLabel returns the button text in lang, falling back to English
// and then to the preset's name.
func (c Config) ButtonLabel(lang string) string {
	if l := c.Label[lang]; l != "" {
		return l
	}
	if l := c.Label["en"]; l != "" {
		return l
	}
	switch c.Preset {
	case PresetIDPorten:
		return "ID-porten"
	case PresetGoogle:
		return "Google"
	case PresetMicrosoft:
		return "Microsoft"
	case PresetLinkedIn:
		return "LinkedIn"
	}
	switch c.Kind() {
	case TypeGitHub:
		return "GitHub"
	case TypeFacebook:
		return "Facebook"
	}
	return c.ID
}

var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`) })

// EnvName is the environment variable that may hold the provider's client
// secret: PORTVAKT_UPSTREAMS_<ID>_CLIENT_SECRET, the ID upper-cased with
// dashes as underscores.
func EnvName(id string) string {
	return "PORTVAKT_UPSTREAMS_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_")) + "_CLIENT_SECRET"
}

// Resolve fills ClientSecret from the environment (which wins) or from
// ClientSecretFile. getenv is os.Getenv outside tests.
func (c Config) Resolve(getenv func(string) string) (Config, error) {
	if v := getenv(EnvName(c.ID)); v != "" {
		c.ClientSecret = v
		return c, nil
	}
	if c.ClientSecret == "" && c.ClientSecretFile != "" {
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return c, fmt.Errorf("upstreams: %s: client_secret_file: %w", c.ID, err)
		}
		c.ClientSecret = strings.TrimSpace(string(b))
	}
	return c, nil
}

// Validate returns every problem with the list, each with its path
// ("upstreams[0].issuer: required for type oidc").
func Validate(list []Config) []string {
	var errs []string
	seen := map[string]bool{}
	for i, c := range list {
		at := func(field, msg string, args ...any) {
			errs = append(errs, fmt.Sprintf("upstreams[%d].%s: ", i, field)+fmt.Sprintf(msg, args...))
		}
		switch {
		case !idPattern().MatchString(c.ID):
			at("id", "%q must be 1–32 lower-case letters, digits or dashes", c.ID)
		case seen[c.ID]:
			at("id", "%q is used twice", c.ID)
		}
		seen[c.ID] = true
		if c.Type != "" && c.Preset != "" && c.Type != TypeOIDC {
			at("preset", "a preset is for type oidc, not %q", c.Type)
		}
		if !slices.Contains([]string{TypeOIDC, TypeGitHub, TypeFacebook}, c.Kind()) {
			at("type", "%q is not oidc, github or facebook", c.Type)
		}
		if c.Preset != "" && !slices.Contains([]string{PresetIDPorten, PresetGoogle, PresetMicrosoft, PresetLinkedIn}, c.Preset) {
			at("preset", "%q is not idporten, google, microsoft or linkedin", c.Preset)
		}
		if c.Kind() == TypeOIDC {
			switch u, err := url.Parse(c.Issuer); {
			case c.Issuer == "" && c.Preset != PresetGoogle && c.Preset != PresetLinkedIn:
				at("issuer", "required for this provider")
			case c.Issuer != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && !loopback(u.Hostname()))):
				at("issuer", "%q must be an https URL", c.Issuer)
			}
		}
		if c.Preset == PresetMicrosoft && strings.Contains(c.Issuer, "/common/") {
			at("issuer", "the multi-tenant /common/ issuer cannot be checked; use the tenant's issuer")
		}
		if c.ClientID == "" {
			at("client_id", "required")
		}
		n := 0
		for _, s := range []string{c.ClientSecret, c.ClientSecretFile, c.PrivateKeyFile} {
			if s != "" {
				n++
			}
		}
		if n > 1 {
			at("client_secret", "set only one of client_secret, client_secret_file and private_key_file")
		}
		if c.PrivateKeyFile != "" && c.Kind() != TypeOIDC {
			at("private_key_file", "private_key_jwt is for OpenID providers")
		}
		if !slices.Contains([]string{"", ResponseQuery, ResponseFormPost}, c.ResponseMode) {
			at("response_mode", "%q is not query or form_post", c.ResponseMode)
		} else if c.ResponseMode == ResponseFormPost && c.Kind() != TypeOIDC {
			at("response_mode", "form_post is for OpenID providers")
		}
		if !slices.Contains([]string{"", FirstCreate, FirstLink, FirstAsk}, c.FirstLogin) {
			at("first_login", "%q is not create, link or ask", c.FirstLogin)
		}
		for _, a := range c.SigningAlgs {
			if strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
				at("signing_algs", "%q is not allowed (asymmetric algorithms only)", a)
			}
		}
		for lang := range c.Label {
			if !slices.Contains([]string{"en", "nb", "sv"}, lang) {
				at("label", "language %q is not en, nb or sv", lang)
			}
		}
	}
	return errs
}

// Response modes of an OpenID provider's answer.
const (
	ResponseQuery    = "query"
	ResponseFormPost = "form_post"
)

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// IDPortenLevels are ID-porten's acr values, weakest first.
var IDPortenLevels = []string{"idporten-loa-substantial", "idporten-loa-high"}

// ACRLadder returns the provider's acr values, weakest first, for the
// OpenID Provider's acr_values_supported: ID-porten's levels for the
// idporten preset, otherwise acr_values and accept_acr in config order.
func (c Config) ACRLadder() []string {
	if c.Preset == PresetIDPorten {
		return IDPortenLevels
	}
	var out []string
	for _, v := range append(append([]string(nil), c.ACRValues...), c.AcceptACR...) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Service is a page or app that needs a sign-in through an upstream at a
// level (services: in the configuration).
type Service struct {
	// Via is the upstream's ID ("idporten").
	Via string `yaml:"via"`
	// MinACR is the weakest of the upstream's acr values that will do
	// ("idporten-loa-high"); empty: any.
	MinACR string `yaml:"min_acr"`
}

// Accepts reports whether a session that came through upstream at acr
// meets the service: the same upstream, at MinACR or stronger on the
// upstream's ladder (cfg is that upstream's configuration).
func (s Service) Accepts(cfg Config, upstream, acr string) bool {
	if upstream != s.Via || cfg.ID != s.Via {
		return false
	}
	if s.MinACR == "" {
		return true
	}
	ladder := cfg.ACRLadder()
	got, want := slices.Index(ladder, acr), slices.Index(ladder, s.MinACR)
	return got >= 0 && want >= 0 && got >= want
}

// ValidateServices checks each service names a configured upstream and
// one of its acr values.
func ValidateServices(services map[string]Service, list []Config) []string {
	var errs []string
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		svc := services[n]
		i := slices.IndexFunc(list, func(c Config) bool { return c.ID == svc.Via })
		switch {
		case !idPattern().MatchString(n):
			errs = append(errs, fmt.Sprintf("services.%s: the name must be lower-case letters, digits or dashes", n))
		case i < 0:
			errs = append(errs, fmt.Sprintf("services.%s.via: %q is not a configured upstream", n, svc.Via))
		case svc.MinACR != "" && !slices.Contains(list[i].ACRLadder(), svc.MinACR):
			errs = append(errs, fmt.Sprintf("services.%s.min_acr: %q is not one of %s's acr values %v", n, svc.MinACR, svc.Via, list[i].ACRLadder()))
		}
	}
	return errs
}
