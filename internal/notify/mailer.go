package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/store"
)

// ErrBadRecipient is returned by Send when to is not a plain email
// address such as "name@example.com".
var ErrBadRecipient = errors.New("notify: invalid recipient address")

// Config configures a Mailer.
type Config struct {
	// Outbox receives every message. Required.
	Outbox store.Outbox
	// Catalog supplies subjects and texts. Required.
	Catalog *i18n.Catalog
	// ServiceName is shown in subjects and footers. Empty means the
	// catalog's English "app.name".
	ServiceName string
	// BaseURL is the public base URL, e.g. "https://id.example.com". Every
	// link in a mail starts with it. Required; it must be an absolute
	// http(s) URL without query or fragment.
	BaseURL string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Enqueued, if set, is called after each message is written to the
	// outbox, typically with Worker.Kick so delivery starts at once.
	Enqueued func()
	// Templates holds layout.{txt,html} and <name>.{txt,html} at its root.
	// Nil means the templates embedded in this package; tests and
	// template development may pass another file system.
	Templates fs.FS
}

// Mailer renders localized messages and writes them to the outbox. It
// never talks to a mail server itself: delivery is the Worker's job, so a
// request that sends mail does not fail, or slow down, when SMTP is down.
//
// A Mailer is safe for concurrent use.
type Mailer struct {
	outbox   store.Outbox
	now      func() time.Time
	enqueued func()
	r        *renderer
}

// New returns a Mailer. It fails with a list of every problem when the
// configuration is invalid or a template or the layout is missing; with
// Config.Templates also when a subject key is missing or a template does
// not parse. The embedded templates are parsed per language on the first
// mail in it (see newRenderer).
func New(cfg Config) (*Mailer, error) {
	var problems []string
	if cfg.Outbox == nil {
		problems = append(problems, "outbox is required")
	}
	if cfg.Catalog == nil {
		problems = append(problems, "catalog is required")
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("notify: invalid mailer config: %s", strings.Join(problems, "; "))
	}
	service := strings.TrimSpace(cfg.ServiceName)
	if service == "" {
		service = cfg.Catalog.Lang(i18n.Default).T("app.name")
	}
	fsys := cfg.Templates
	if fsys == nil {
		fsys, err = fs.Sub(embeddedTemplates, "templates")
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
	}
	r, err := newRenderer(fsys, cfg.Catalog, service, base, cfg.Templates != nil)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Mailer{outbox: cfg.Outbox, now: now, enqueued: cfg.Enqueued, r: r}, nil
}

func checkBaseURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("base URL is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("base URL %q does not parse", s)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("base URL %q must be an absolute http or https URL", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("base URL %q must not have user info, query or fragment", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}

// Render renders template name in lang without sending it; the dev
// mailbox and template previews use it. An unsupported lang gives the
// default language. Returns ErrUnknownTemplate (wrapped) for a name that
// is not a template, and an error when data lacks a value the template uses.
func (m *Mailer) Render(lang, name string, data map[string]any) (Content, error) {
	return m.r.render(lang, name, data)
}

// Send renders template name in lang (see Render) and writes the message
// to the outbox for the Worker to deliver. to must be a bare address,
// "name@example.com"; anything else gives ErrBadRecipient. data is
// available to the template as .Data and to the subject as named
// arguments.
//
// Send returns once the message is stored: a nil error means the message
// will be delivered, retried for as long as it takes, and never that it
// has been.
func (m *Mailer) Send(ctx context.Context, to, lang, name string, data map[string]any) error {
	if err := checkRecipient(to); err != nil {
		return err
	}
	c, err := m.r.render(lang, name, data)
	if err != nil {
		return err
	}
	now := m.now()
	msg := store.Message{
		ID:            newID(),
		Channel:       store.ChannelEmail,
		To:            to,
		Subject:       c.Subject,
		Text:          c.Text,
		HTML:          c.HTML,
		Locale:        c.Locale,
		CreatedAt:     now,
		NextAttemptAt: now,
	}
	if err := m.outbox.EnqueueMessage(ctx, msg); err != nil {
		return fmt.Errorf("notify: enqueue %s mail: %w", name, err)
	}
	if m.enqueued != nil {
		m.enqueued()
	}
	return nil
}

func checkRecipient(to string) error {
	a, err := mail.ParseAddress(to)
	if err != nil || a.Name != "" || a.Address != to || strings.ContainsAny(to, "\r\n") {
		return ErrBadRecipient
	}
	return nil
}

// newID returns 128 random bits as 26 lower-case base32 characters.
// Random IDs need no coordination between nodes, and they say nothing
// about how much mail a server sends (the ID is also the local part of
// the Message-ID header, which every mail server on the way sees).
func newID() string {
	return strings.ToLower(rand.Text())
}

// Sealer is an outbox that seals a message's subject and bodies on the
// way in (SealedOutbox); Compose seals with it.
type Sealer interface {
	Seal(m store.Message) store.Message
}

// Compose renders template name in lang for to, as Send does, and returns
// the message as the outbox stores it (sealed if the Mailer's outbox
// seals) without queueing it: for a caller that queues it in its own
// transaction (store.SecurityChange.Messages) and then calls Queued.
func (m *Mailer) Compose(to, lang, name string, data map[string]any) (store.Message, error) {
	if err := checkRecipient(to); err != nil {
		return store.Message{}, err
	}
	c, err := m.r.render(lang, name, data)
	if err != nil {
		return store.Message{}, err
	}
	now := m.now()
	msg := store.Message{
		ID:            newID(),
		Channel:       store.ChannelEmail,
		To:            to,
		Subject:       c.Subject,
		Text:          c.Text,
		HTML:          c.HTML,
		Locale:        c.Locale,
		CreatedAt:     now,
		NextAttemptAt: now,
	}
	if s, ok := m.outbox.(Sealer); ok {
		msg = s.Seal(msg)
	}
	return msg, nil
}

// Queued tells the worker that messages were queued outside Send (see
// Compose), so that delivery starts at once.
func (m *Mailer) Queued() {
	if m.enqueued != nil {
		m.enqueued()
	}
}
