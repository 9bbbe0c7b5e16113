package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/portvakt/portvakt/internal/i18n"
)

// Template names. Each has templates/<name>.txt, templates/<name>.html and
// the catalog key mail.<name>.subject; see "Adding a template" in the
// package documentation.
const (
	// TemplateTest is the message ops send to check that mail works.
	TemplateTest = "test"

	// The templates below list the Send data each one needs. Every field
	// must be present (a missing one is a render error); links are
	// absolute URLs under the configured public URL and are printed as
	// given; minutes and days are ints; when is a time such as
	// "2026-11-21 14:05 UTC", ip an IP address and browser a short
	// description such as "Firefox / Linux".

	// TemplateSignupCode carries the code that confirms the address of a
	// new account: code, minutes, when, ip, browser.
	TemplateSignupCode = "signup_code"
	// TemplateSignupExisting answers a sign-up with an address that
	// already has an account: when, ip, browser, login_url, recover_url.
	TemplateSignupExisting = "signup_existing"
	// TemplateWelcome says a new account is ready: name (may be ""),
	// login_url.
	TemplateWelcome = "welcome"
	// TemplateRecoveryCode carries a password reset code: code, minutes,
	// when, ip, browser, cancel_url.
	TemplateRecoveryCode = "recovery_code"
	// TemplateRecoveryLink carries a link for choosing a new password:
	// link, minutes, when, ip, browser, cancel_url.
	TemplateRecoveryLink = "recovery_link"
	// TemplateRecoveryMagic carries a one-time sign-in link: link,
	// minutes, when, ip, browser, cancel_url.
	TemplateRecoveryMagic = "recovery_magic"
	// TemplateRecoveryUnknown answers a reset request for an address no
	// account uses: when, ip, browser, signup_url.
	TemplateRecoveryUnknown = "recovery_unknown"
	// TemplatePasswordChanged confirms a password change: name (may be
	// ""), when, ip, browser, recover_url; after a reset also methods
	// (every way into the account, localized) and security_url.
	TemplatePasswordChanged = "password_changed"
	// TemplateEmailVerify carries the code that confirms an address added
	// to an account: name (may be ""), code, minutes, when, ip, browser.
	TemplateEmailVerify = "email_verify"
	// TemplateEmailPrimaryChanged goes to the old main address when the
	// main address changes: name (may be ""), new_email, when, ip,
	// browser, recover_url.
	TemplateEmailPrimaryChanged = "email_primary_changed"
	// TemplateEmailRemoved goes to an address removed from an account:
	// name (may be ""), when, ip, browser, recover_url.
	TemplateEmailRemoved = "email_removed"
	// TemplateInvite tells someone an account was created for them: name
	// (may be ""), username (may be ""), link, days.
	TemplateInvite = "invite"

	// TemplateMFAEmail carries the code and link of an email second step,
	// after the password was right: name (may be ""), code, link, count
	// (minutes), when, ip, browser, recover_url. The link works only in
	// the browser that started the sign-in; the mail says so.
	TemplateMFAEmail = "mfa_email"
	// TemplateRecoveryCodeUsed says a recovery code was used to sign in:
	// name (may be ""), count (unused codes left, may be 0), when, ip,
	// browser, recover_url, security_url.
	TemplateRecoveryCodeUsed = "recovery_code_used"
	// TemplateAccountLocked says the account was locked after failures
	// consecutive failed tries (issue 10): name (may be ""), failures, when,
	// ip, browser, recover_url. Choosing a new password unlocks it.
	TemplateAccountLocked = "account_locked"
	// TemplateFactorAdded says a sign-in method was added: name (may be
	// ""), factor (a label such as "Authenticator app" or "+47 ••• •• 567",
	// in the recipient's language), when, ip, browser, recover_url,
	// security_url.
	TemplateFactorAdded = "factor_added"
	// TemplateFactorRemoved says a sign-in method was removed: the same
	// data as TemplateFactorAdded.
	TemplateFactorRemoved = "factor_removed"
	// TemplateRecoveryCodesNew says a new set of recovery codes replaced
	// the old one: name (may be ""), when, ip, browser, recover_url,
	// security_url.
	TemplateRecoveryCodesNew = "recovery_codes_new"
	// TemplateSupportCode carries a one-time second-step code that support
	// created for the user: name (may be ""), code, count (hours).
	TemplateSupportCode = "support_code"
	// TemplateSystemChanged says an end-user system was created, rotated
	// or revoked, or sign-in through systems was switched (flow.Systems):
	// name (may be ""), event (the catalog key of the sentence,
	// mail.system_changed.<created|rotated|revoked|allowed_on|allowed_off>),
	// system, system_id, rights, when, ip, browser, recover_url, systems_url.
	TemplateSystemChanged = "system_changed"
	// TemplateRepresentation tells one side of a delegation what changed
	// (account.Delegations): name (may be ""), event (the catalog key of
	// the sentence, mail.representation.<agent|principal>.<event>), agent,
	// principal (names), link.
	TemplateRepresentation = "representation"
)

// templateNames lists every template New parses. A name here without its
// files or subject key makes New fail, so a missing template is found at
// startup rather than when the first user needs the mail.
var templateNames = []string{
	TemplateTest,
	TemplateSignupCode,
	TemplateSignupExisting,
	TemplateWelcome,
	TemplateRecoveryCode,
	TemplateRecoveryLink,
	TemplateRecoveryMagic,
	TemplateRecoveryUnknown,
	TemplatePasswordChanged,
	TemplateEmailVerify,
	TemplateEmailPrimaryChanged,
	TemplateEmailRemoved,
	TemplateInvite,
	TemplateMFAEmail,
	TemplateRecoveryCodeUsed,
	TemplateFactorAdded,
	TemplateFactorRemoved,
	TemplateRecoveryCodesNew,
	TemplateSupportCode,
	TemplateAccountLocked,
	TemplateSystemChanged,
	TemplateRepresentation,
}

// TemplateNames returns the names of all templates, for previews and
// tests.
func TemplateNames() []string { return slices.Clone(templateNames) }

// ErrUnknownTemplate is returned by Send and Render for a template name
// that is not in the package's list.
var ErrUnknownTemplate = errors.New("notify: unknown template")

//go:embed templates
var embeddedTemplates embed.FS

// TemplateData is what a mail template sees as dot.
//
// Service and BaseURL come from the Mailer's configuration, never from the
// request that caused the mail, so a forged Host or X-Forwarded-Host header
// cannot put an attacker's link into a reset mail. Data is the map the
// caller passed to Send.
type TemplateData struct {
	// Lang is the language the message is rendered in ("en", "nb", "sv").
	Lang string
	// Service is the configured service name, e.g. "Portvakt".
	Service string
	// BaseURL is the configured public base URL, without a trailing slash.
	BaseURL string
	// Subject is the rendered subject line.
	Subject string
	// Data holds the caller's values, e.g. {{.Data.code}}.
	Data map[string]any
}

// Content is a rendered message.
type Content struct {
	// Locale is the language actually used ("en" for an unsupported tag).
	Locale  string
	Subject string
	Text    string
	HTML    string
}

// compiled holds one template, parsed for one language.
type compiled struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// renderer holds every template, parsed once per language on its first
// mail (see newRenderer) so that rendering parses nothing after that and
// the t func is bound without cloning.
type renderer struct {
	cat     *i18n.Catalog
	service string
	baseURL string
	fsys    fs.FS
	sets    map[string]*langSet // lang → its templates; fixed after newRenderer
}

// newRenderer checks that every template has its files, and, when eager,
// its subject key, and compiles the default language. The embedded
// templates are not eager: they and the embedded catalogs are checked by
// this package's tests, and compiling them, and parsing the English
// catalog for the subject keys, would put both in an idle server's memory
// (issue 12); they are compiled on the first mail in each language.
// Templates passed in Config (tests, template development) are eager, so
// that one that does not parse fails New.
func newRenderer(fsys fs.FS, cat *i18n.Catalog, service, baseURL string, eager bool) (*renderer, error) {
	var missing []string
	for _, name := range templateNames {
		for _, f := range []string{name + ".txt", name + ".html"} {
			if _, err := fs.Stat(fsys, f); err != nil {
				missing = append(missing, "templates/"+f)
			}
		}
		if eager && !cat.Has(subjectKey(name)) {
			missing = append(missing, "i18n key "+subjectKey(name))
		}
	}
	for _, f := range []string{"layout.txt", "layout.html"} {
		if _, err := fs.Stat(fsys, f); err != nil {
			missing = append(missing, "templates/"+f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("notify: missing mail template(s): %s", strings.Join(missing, ", "))
	}
	// A template file whose name is not listed would never be sent;
	// catch the forgotten templateNames entry here.
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("notify: read templates: %w", err)
	}
	var stray []string
	for _, e := range entries {
		name, ext := strings.TrimSuffix(e.Name(), path.Ext(e.Name())), path.Ext(e.Name())
		if (ext == ".txt" || ext == ".html") && name != "layout" && !slices.Contains(templateNames, name) {
			stray = append(stray, "templates/"+e.Name())
		}
	}
	if len(stray) > 0 {
		return nil, fmt.Errorf("notify: template file(s) not listed in templateNames: %s", strings.Join(stray, ", "))
	}

	r := &renderer{cat: cat, service: service, baseURL: baseURL, fsys: fsys, sets: map[string]*langSet{}}
	for _, lang := range i18n.Languages {
		r.sets[lang] = &langSet{}
	}
	// Eager templates compile the default language now, so that one that
	// does not parse fails New (every language parses the same files).
	if eager {
		if _, err := r.set(i18n.Default); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// langSet is one language's templates, compiled on first use.
type langSet struct {
	once sync.Once
	set  map[string]compiled
	err  error
}

// set returns lang's compiled templates (lang must be a supported tag).
func (r *renderer) set(lang string) (map[string]compiled, error) {
	ls := r.sets[lang]
	ls.once.Do(func() { ls.set, ls.err = r.compile(lang) })
	return ls.set, ls.err
}

// compile parses every template with lang's t func.
func (r *renderer) compile(lang string) (map[string]compiled, error) {
	fsys := r.fsys
	funcs := r.funcs(r.cat.Lang(lang))
	textLayout, err := parseFile(texttemplate.New("layout").Funcs(funcs).Option("missingkey=error"), fsys, "layout.txt")
	if err != nil {
		return nil, err
	}
	htmlLayout, err := parseFile(htmltemplate.New("layout").Funcs(funcs).Option("missingkey=error"), fsys, "layout.html")
	if err != nil {
		return nil, err
	}
	set := map[string]compiled{}
	for _, name := range templateNames {
		var c compiled
		if c.text, err = addContent(textLayout, fsys, name+".txt"); err != nil {
			return nil, err
		}
		if c.html, err = addContent(htmlLayout, fsys, name+".html"); err != nil {
			return nil, err
		}
		set[name] = c
	}
	return set, nil
}

// funcs is the whole FuncMap of mail templates; keep it small.
func (r *renderer) funcs(l *i18n.Lang) map[string]any {
	return map[string]any{
		// t translates a key into the recipient's language:
		// {{t "mail.test.body" "service" .Service}}.
		"t": l.T,
		// url makes an absolute link under the configured base URL, with
		// optional query name/value pairs: {{url "/recover" "token" .Data.token}}.
		"url": r.url,
	}
}

func (r *renderer) url(path string, query ...string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("url %q: path must start with /", path)
	}
	if len(query)%2 != 0 {
		return "", fmt.Errorf("url %q: query needs name/value pairs", path)
	}
	u := r.baseURL + path
	if len(query) > 0 {
		v := url.Values{}
		for i := 0; i < len(query); i += 2 {
			v.Add(query[i], query[i+1])
		}
		u += "?" + v.Encode()
	}
	return u, nil
}

// template is what text/template and html/template share here.
type template[T any] interface {
	Clone() (T, error)
	New(name string) T
	Parse(text string) (T, error)
}

// parseFile parses file from fsys into t.
func parseFile[T template[T]](t T, fsys fs.FS, file string) (T, error) {
	var zero T
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return zero, fmt.Errorf("notify: read template: %w", err)
	}
	if _, err := t.Parse(string(src)); err != nil {
		return zero, fmt.Errorf("notify: parse templates/%s: %w", file, err)
	}
	return t, nil
}

// addContent clones the layout and parses file as its "content" template.
func addContent[T template[T]](layout T, fsys fs.FS, file string) (T, error) {
	t, err := layout.Clone()
	if err != nil {
		var zero T
		return zero, fmt.Errorf("notify: clone layout: %w", err)
	}
	if _, err := parseFile(t.New("content"), fsys, file); err != nil {
		var zero T
		return zero, err
	}
	return t, nil
}

func subjectKey(name string) string { return "mail." + name + ".subject" }

// render renders template name in lang (an unsupported tag gives the
// default language). Execution happens into buffers, so a template error
// never yields half a message.
func (r *renderer) render(lang, name string, data map[string]any) (Content, error) {
	l := r.cat.Lang(lang)
	set, err := r.set(l.Tag())
	if err != nil {
		return Content{}, err
	}
	c, ok := set[name]
	if !ok {
		return Content{}, fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	if data == nil {
		data = map[string]any{}
	}
	// The subject sees the caller's values plus "service"; the configured
	// name wins over a caller's value of the same name. It does not see
	// "count": given a count, the catalog picks a plural form, and a
	// subject is a plain message, which has none for a count of 1.
	args := make(map[string]any, len(data)+1)
	for k, v := range data {
		if k != "count" {
			args[k] = v
		}
	}
	args["service"] = r.service
	td := TemplateData{
		Lang:    l.Tag(),
		Service: r.service,
		BaseURL: r.baseURL,
		Subject: oneLine(l.T(subjectKey(name), args)),
		Data:    data,
	}
	var text, html bytes.Buffer
	if err := c.text.Execute(&text, td); err != nil {
		return Content{}, fmt.Errorf("notify: render %s.txt (%s): %w", name, l.Tag(), err)
	}
	if err := c.html.Execute(&html, td); err != nil {
		return Content{}, fmt.Errorf("notify: render %s.html (%s): %w", name, l.Tag(), err)
	}
	return Content{Locale: l.Tag(), Subject: td.Subject, Text: text.String(), HTML: html.String()}, nil
}

// oneLine folds a subject onto one line: a line break in a header would
// let a value smuggle in headers of its own.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
