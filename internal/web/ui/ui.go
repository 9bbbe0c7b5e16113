// Package ui holds Portvakt's server-rendered pages: embedded html/template
// files, static assets, the typed data each page is given, and a renderer
// that parses each page on its first render and renders into a buffer.
//
// A deliberate difference from STYLE.md, which has templates parsed at
// start-up so a broken one stops the start: embedded pages are parsed on
// first render (issue 12's idle memory; see Renderer), and the tests parse
// every one of them (ParseAll), so a broken embedded page fails CI instead.
// The operator's overrides are still parsed at start.
//
// # Pages
//
// Every page is one file in templates/ that defines "title" and "main";
// templates/layout.html wraps it (header, language switcher, error summary,
// footer). Each page gets its own template set cloned from the layout, so
// pages cannot clash on {{define}} names. Page data is a struct per page
// that embeds Base; templates never see map[string]any.
//
// # Errors on forms
//
// A page that shows a form embeds Base, whose Problem holds the user's
// mistakes. The layout prints an error summary (a list of links to the
// fields, focused on load for screen readers) and each field prints its own
// messages with {{template "field-errors"}}, linked to the input with
// aria-describedby. The handler passes the submitted values back so
// nothing the user typed is lost.
//
// # Functions
//
// The FuncMap is small: t (translate in the page's language is a method on
// Base, .T), and describedby/invalid helpers. No user data is ever turned
// into template.HTML.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static returns the static assets (CSS, and later the WebAuthn script),
// rooted so that "style.css" is at the top.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// Pages lists every page template; New fails if one is missing.
var Pages = []string{"home", "login", "login_password", "login_username", "signup", "code", "newpassword", "recover", "message", "account", "account_email", "factor", "totp", "codes", "security", "reauth", "phone", "enrol", "consent", "error", "devmail", "federated", "unlink", "represent", "actas"}

// LangOption is one entry of the language switcher.
type LangOption struct {
	Tag     string
	Name    string
	Current bool
}

// Base is embedded in every page's data.
type Base struct {
	Lang        *i18n.Lang
	Nonce       string
	ServiceName string
	// Path is where the language switcher returns: the current page with
	// the query that holds its journey (see web.switchBack).
	Path      string
	Languages []LangOption
	// Problem holds the user's mistakes on this page, if any.
	Problem *problem.Problem
	// Notice is a translated message shown at the top (e.g. "signed out").
	Notice string
	// SignedIn is true when the request has a live session.
	SignedIn    bool
	AccountName string
	RequestID   string
	// Captcha, when not nil, puts the proof-of-work widget in the form
	// (templates/captcha.partial.html).
	Captcha *Captcha
}

// Captcha is the proof-of-work widget of a form: where it fetches its
// challenge. The solution is posted as "captcha"; without JavaScript the
// form posts captcha_nojs=1 instead (and gets a stricter throttle).
type Captcha struct {
	ChallengeURL string
	// Provider is "altcha" (the self-hosted widget), or "turnstile",
	// "hcaptcha" or "recaptcha", whose own widget and script are embedded with SiteKey.
	Provider, SiteKey string
}

// T translates key into the page's language; see i18n.Lang.T.
func (b *Base) T(key string, args ...any) string { return b.Lang.T(key, args...) }

// FieldError is a translated message for one form field.
type FieldError struct {
	Field   string
	Message string
	// ID is the element ID of the message, for aria-describedby.
	ID string
}

// Errors returns the translated messages for field ("" for the form).
func (b *Base) Errors(field string) []FieldError {
	if b.Problem == nil {
		return nil
	}
	var out []FieldError
	for i, d := range b.Problem.For(field) {
		out = append(out, FieldError{Field: field, Message: b.Lang.T(d.Key, d.Args), ID: fmt.Sprintf("%s-error-%d", fieldID(field), i)})
	}
	return out
}

// AllErrors returns every message, in order, for the error summary.
func (b *Base) AllErrors() []FieldError {
	if b.Problem == nil {
		return nil
	}
	var out []FieldError
	seen := map[string]int{}
	for _, d := range b.Problem.Details {
		i := seen[d.Field]
		seen[d.Field]++
		out = append(out, FieldError{Field: d.Field, Message: b.Lang.T(d.Key, d.Args), ID: fmt.Sprintf("%s-error-%d", fieldID(d.Field), i)})
	}
	return out
}

// ProblemTitle is the translated title of the page's problem.
func (b *Base) ProblemTitle() string {
	if b.Problem == nil {
		return ""
	}
	return b.Lang.T("error.summary.title")
}

// DescribedBy returns the IDs of field's hint (if hint is true) and its
// error messages, for aria-describedby.
func (b *Base) DescribedBy(field string, hint bool) string {
	var ids []string
	if hint {
		ids = append(ids, fieldID(field)+"-hint")
	}
	for _, e := range b.Errors(field) {
		ids = append(ids, e.ID)
	}
	return strings.Join(ids, " ")
}

// Invalid reports whether field has an error.
func (b *Base) Invalid(field string) bool { return len(b.Errors(field)) > 0 }

func fieldID(field string) string {
	if field == "" {
		return "form"
	}
	return strings.ReplaceAll(field, ".", "-")
}

// Page data types.

// HomePage is the start page.
type HomePage struct {
	Base
	// SignUp offers "Create an account" (email sign-in has sign-up).
	SignUp bool
}

// LoginPage is the first step of sign-in: the email address.
type LoginPage struct {
	Base
	Email           string
	Remember        bool
	EmailEnabled    bool
	UsernameEnabled bool
	// Passkeys offers "Sign in with a passkey" (and autofill).
	Passkeys bool
	// Upstreams are the "Sign in with …" buttons, in config order.
	Upstreams []UpstreamButton
}

// LoginPasswordPage is the password step of email-first sign-in.
type LoginPasswordPage struct {
	Base
	Flow  string
	Email string
}

// LoginUsernamePage is username-and-password sign-in.
type LoginUsernamePage struct {
	Base
	Username     string
	EmailEnabled bool
	// UsernameLabel and UsernameHint name the field: a national identity
	// number where usernames are one (Numeric then asks for digits).
	UsernameLabel, UsernameHint string
	Numeric                     bool
}

// SignupPage is the first step of sign-up.
type SignupPage struct {
	Base
	Email string
}

// CodePage asks for an emailed code (sign-up, recovery, a new address).
type CodePage struct {
	Base
	Heading      string
	Flow         string
	Email        string
	Minutes      int
	Action       string
	ResendAction string
	RestartURL   string
	// SentText, Hint and RestartText replace the email wording when the
	// code went by SMS.
	SentText    string
	Hint        string
	RestartText string
}

// Rule is a password rule shown before the user types.
type Rule struct {
	Key  string
	Text string
}

// NewPasswordPage chooses a password: the end of sign-up (with the name),
// of recovery, and the password change (with the current password).
type NewPasswordPage struct {
	Base
	Heading    string
	Lead       string
	Action     string
	Submit     string
	Flow       string
	Email      string
	AskName    bool
	Name       string
	AskCurrent bool
	Rules      []Rule
}

// Choice is a radio button.
type Choice struct {
	Value, Label, Hint string
	Checked            bool
}

// RecoverPage starts a recovery.
type RecoverPage struct {
	Base
	Email   string
	Methods []Choice
}

// Hidden is a hidden form field.
type Hidden struct{ Name, Value string }

// MessagePage shows a short message, optionally with one button that
// POSTs (used for emailed links: a GET never acts).
type MessagePage struct {
	Base
	Heading    string
	Paragraphs []string
	FormAction string
	FormButton string
	Hidden     []Hidden
	LinkURL    string
	LinkText   string
	// CodeLabel, when set, adds a six-digit code field (named "code") to
	// the form, with this label.
	CodeLabel string
	// Code, when set, is shown large, to be typed in another browser.
	Code string
}

// EmailRow is one address on the account page.
type EmailRow struct {
	Address string
	Primary bool
}

// AccountPage is the account overview.
type AccountPage struct {
	Base
	Emails []EmailRow
	// Systems shows the advanced "Systems" section (issue 14).
	Systems bool
	// Representation links acting on behalf of others (represent.go).
	Representation bool
}

// AccountEmailPage adds or removes an address.
type AccountEmailPage struct {
	Base
	Heading     string
	Action      string
	Submit      string
	Email       string
	MakePrimary bool
	Remove      bool
}

// ErrorPage is shown for faults and for requests that cannot be served.
type ErrorPage struct {
	Base
	Status int
	Title  string
	Body   string
}

// DevMail is one message in the development mailbox.
type DevMail struct {
	ID       string
	To       string
	Subject  string
	Text     string
	Time     string
	Sent     bool
	Attempts int
}

// DevMailPage lists messages sent by the server.
type DevMailPage struct {
	Base
	Messages []DevMail
}

// Renderer renders pages. It is safe for concurrent use.
//
// The embedded pages are parsed on first render, each on its own: a server
// that has only answered health checks holds no parsed page, and one
// parses only the pages it shows (issue 12: every page is a clone of the
// layout, about 3 MB of heap for all of them). The embedded templates are
// checked by this package's tests (ParseAll), so none fails in a release.
// Overrides (branding.templates) are the operator's files and are all
// parsed by New, so that one that does not parse stops the start.
type Renderer struct {
	src   map[string]templateSource
	brand *Brand

	layoutOnce sync.Once
	layout     *template.Template
	layoutErr  error
	cloneMu    sync.Mutex // Clone of the shared layout, one at a time

	pages map[string]*pageSet // fixed after New
}

// pageSet is one page's template set, parsed on first render.
type pageSet struct {
	once   sync.Once
	parsed atomic.Bool
	t      *template.Template
	err    error
}

// Brand is what the layout shows of the operator's branding (config
// branding.*): each file is served by the web package under /branding/;
// Version is a digest of them all, so that the URLs change with them and
// may be cached.
type Brand struct {
	Logo, Favicon, Theme bool
	Version              string
}

// SetBrand sets the branding the layout links. Call it before rendering.
func (r *Renderer) SetBrand(b Brand) { r.brand = &b }

// MaxTemplateSize caps one override template (branding.templates).
const MaxTemplateSize = 256 << 10

// New reads the layout and every page. It fails if a page in Pages is
// missing.
//
// overrides, when not nil, is a directory whose *.html files replace the
// embedded templates of the same name (branding.templates): a page, the
// layout or a partial. A file that names no embedded template, is larger
// than MaxTemplateSize or does not parse fails New, naming the file: with
// overrides every page is parsed here. Without, each page is parsed on its
// first render.
func New(overrides fs.FS) (*Renderer, error) {
	src, err := templateSources(overrides)
	if err != nil {
		return nil, err
	}
	r := &Renderer{src: src, pages: map[string]*pageSet{}}
	var missing []string
	for _, name := range Pages {
		if _, ok := src[name+".html"]; !ok {
			missing = append(missing, name)
			continue
		}
		r.pages[name] = &pageSet{}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing page template(s): %s", strings.Join(missing, ", "))
	}
	if overrides != nil {
		if err := r.ParseAll(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// ParseAll parses every page now and returns the first error.
func (r *Renderer) ParseAll() error {
	for _, name := range Pages {
		if _, err := r.page(name); err != nil {
			return err
		}
	}
	return nil
}

// Parsed reports whether page has been parsed.
func (r *Renderer) Parsed(name string) bool {
	p, ok := r.pages[name]
	return ok && p.parsed.Load()
}

// parseLayout parses the layout and the partials every page shares.
func (r *Renderer) parseLayout() (*template.Template, error) {
	r.layoutOnce.Do(func() {
		src := r.src
		funcs := template.FuncMap{"brand": func() *Brand { return r.brand }}
		layout, err := template.New("layout.html").Funcs(funcs).Parse(src["layout.html"].read())
		if err != nil {
			r.layoutErr = fmt.Errorf("parse layout%s: %w", src["layout.html"].from, err)
			return
		}
		if _, err := layout.New("captcha.partial.html").Parse(src["captcha.partial.html"].read()); err != nil {
			r.layoutErr = fmt.Errorf("parse captcha.partial%s: %w", src["captcha.partial.html"].from, err)
			return
		}
		// The support console's shared parts (navigation, action forms, the
		// events table).
		if _, err := layout.New("admin.partial.html").Parse(src["admin.partial.html"].read()); err != nil {
			r.layoutErr = fmt.Errorf("parse admin.partial%s: %w", src["admin.partial.html"].from, err)
			return
		}
		r.layout = layout
	})
	return r.layout, r.layoutErr
}

// page returns page name's template set, parsing it on first use: a clone
// of the layout, so that pages cannot clash on {{define}} names.
func (r *Renderer) page(name string) (*template.Template, error) {
	p, ok := r.pages[name]
	if !ok {
		return nil, fmt.Errorf("unknown page %q", name)
	}
	p.once.Do(func() {
		layout, err := r.parseLayout()
		if err != nil {
			p.err = err
			return
		}
		r.cloneMu.Lock()
		c, err := layout.Clone()
		r.cloneMu.Unlock()
		if err != nil {
			p.err = fmt.Errorf("page %s: %w", name, err)
			return
		}
		s := r.src[name+".html"]
		if p.t, err = c.New(name + ".html").Parse(s.read()); err != nil {
			p.t, p.err = nil, fmt.Errorf("parse page %s%s: %w", name, s.from, err)
			return
		}
		p.parsed.Store(true)
	})
	return p.t, p.err
}

// templateSource is one template: an override's text, or the name of an
// embedded file, read when it is parsed.
type templateSource struct {
	text     string
	embedded string // path in templateFS, when not an override
	// from says where an override came from, for errors.
	from string
}

// read returns the template's text (an embedded file cannot fail to read:
// it was listed from templateFS).
func (t templateSource) read() string {
	if t.embedded == "" {
		return t.text
	}
	b, _ := fs.ReadFile(templateFS, t.embedded)
	return string(b)
}

// templateSources lists the embedded templates and reads the overrides
// over them.
func templateSources(overrides fs.FS) (map[string]templateSource, error) {
	src := map[string]templateSource{}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		src[e.Name()] = templateSource{embedded: "templates/" + e.Name()}
	}
	if overrides == nil {
		return src, nil
	}
	entries, err = fs.ReadDir(overrides, ".")
	if err != nil {
		return nil, fmt.Errorf("branding.templates: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".html") {
			continue
		}
		if _, ok := src[name]; !ok {
			known := make([]string, 0, len(src))
			for n := range src {
				known = append(known, n)
			}
			slices.Sort(known)
			return nil, fmt.Errorf("branding.templates: %s overrides no page template (there are %s)", name, strings.Join(known, ", "))
		}
		b, err := readBounded(overrides, name, MaxTemplateSize)
		if err != nil {
			return nil, fmt.Errorf("branding.templates: %w", err)
		}
		src[name] = templateSource{text: string(b), from: " (branding.templates/" + name + ")"}
	}
	return src, nil
}

// readBounded reads name from fsys, failing if it is not a regular file
// (after symbolic links, as in a Kubernetes ConfigMap) or holds more than
// max bytes.
func readBounded(fsys fs.FS, name string, max int64) ([]byte, error) {
	// Stat first: opening a FIFO could block.
	if st, err := fs.Stat(fsys, name); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB", name, max>>10)
	}
	return b, nil
}

// Render executes page with data into w. The page is rendered into a
// buffer first, so a template failure writes nothing and can still become
// a clean error page.
func (r *Renderer) Render(w io.Writer, page string, data any) error {
	t, err := r.page(page)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	_, err = buf.WriteTo(w)
	return err
}

// FactorChoice is one way to pass the second-factor step.
type FactorChoice struct {
	Key   string
	Title string
	// TitleLead, TitleTarget and TitleTail are Title around the masked
	// address or number, which the page keeps on one line.
	TitleLead, TitleTarget, TitleTail string
	// NeedsSend says a code must be sent first (SMS, email); SendText
	// says where it goes.
	NeedsSend bool
	SendText  string
	// SendButton and SendAgain name what is sent: a code (SMS), or a link
	// and a code (email).
	SendButton string
	SendAgain  string
	Sent       bool
	SentText   string
	AskCode    bool
	CodeLabel  string
	CodeHint   string
	Numeric    bool
	// IsKey says the option is a security key or passkey: a button runs
	// the ceremony instead of a code field.
	IsKey bool
}

// FactorPage is the second-factor step of sign-in, re-authentication or
// step-up.
type FactorPage struct {
	Base
	Heading      string
	Lead         string
	Flow         string
	Current      *FactorChoice
	Others       []FactorChoice
	Remember     bool
	RememberDays int
	// RememberChosen pre-ticks "don't ask again in this browser": the
	// user ticked it before the code or link was sent.
	RememberChosen bool
	OfferLost      bool
}

// SupportHint is the last "other way" of every second step: ask support
// for a one-time code.
func (p *FactorPage) SupportHint() string { return p.T("mfa.support_hint") }

// TOTPPage sets up an authenticator app.
type TOTPPage struct {
	Base
	// QR is a data: URI of the PNG we generated (never user input).
	QR     template.URL
	Groups string
	Action string
	Hidden []Hidden
}

// CodesPage shows recovery codes once.
type CodesPage struct {
	Base
	Codes []string
	// Download is a data: URI of the codes as text (made here).
	Download template.URL
	Next     string
}

// LabelledItem is a factor or browser with a label to show.
type LabelledItem struct {
	ID, Label, Since string
}

// SecurityPage is "Sign-in and security".
type SecurityPage struct {
	Base
	TOTPAllowed, RecoveryAllowed, SMSAllowed, EmailAllowed bool
	TOTP                                                   []LabelledItem
	Phones                                                 []LabelledItem
	RecoveryUnused, RecoveryTotal                          int
	RememberDays                                           int
	Browsers                                               []LabelledItem
	Level                                                  int
	AMR                                                    string
	// SignedInWith says how this session signed in, in words.
	SignedInWith string
	KeysAllowed  bool
	Keys         []KeyItem
	// Identities are the linked upstream identities and LinkWith the
	// providers one may link ("Sign-in methods"); both empty without
	// upstreams.
	Identities []IdentityItem
	LinkWith   []UpstreamButton
}

// KeyKinds are the two register buttons: a security key (false) and a
// passkey (true).
func (p *SecurityPage) KeyKinds() []bool { return []bool{false, true} }

// KeyItem is a security key or passkey on the security page.
type KeyItem struct {
	ID, Name, Kind, Info string
	// Sync says whether the key is synced (backed up), may be, or stays
	// on one device, in words.
	Sync         string
	CloneWarning bool
}

// ReauthPage asks for the password again before a sensitive change.
type ReauthPage struct {
	Base
	ReturnTo string
	// NoPassword says the account has no password: the page only goes on
	// to its second-step methods.
	NoPassword bool
}

// PhonePage adds a phone for SMS codes.
type PhonePage struct {
	Base
	Phone string
}

// EnrolPage sets up a second factor inside a sign-in.
type EnrolPage struct {
	Base
	Flow      string
	CanEmail  bool
	CanTOTP   bool
	EmailSent bool
	Email     string
	Minutes   int
	// ConfirmAddress is the masked registered address to prove before
	// anything can be set up; NeedInvitation says nothing can be.
	ConfirmAddress string
	NeedInvitation bool
	// PhoneHow says how a user without a phone gets one, where SMS codes
	// are a second step.
	PhoneHow bool
}

// ConsentPage asks whether an app may have what it asked for.
type ConsentPage struct {
	Base
	Auth   string
	Client string
	Scopes []string
}
