package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/portvakt/portvakt/internal/store"
)

// TLS modes for SMTPConfig.TLS.
const (
	// TLSStartTLS connects in plain text and requires STARTTLS before
	// anything else is sent; a server that does not offer it is an error,
	// never a silent downgrade. The default, usually on port 587.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS), usually on port 465.
	TLSImplicit = "implicit"
	// TLSOpportunistic uses STARTTLS when the server offers it and plain
	// text otherwise. An attacker on the path can strip the offer, so it
	// is meant for relays on a trusted network; a password is refused.
	TLSOpportunistic = "opportunistic"
	// TLSNone never encrypts. Allowed only to a loopback host (a local
	// relay, or mailpit in development).
	TLSNone = "none"
)

// DefaultSMTPTimeout bounds the SMTP conversation when SMTPConfig.Timeout
// is zero.
const DefaultSMTPTimeout = 30 * time.Second

// DefaultSMTPDialTimeout bounds connecting (TCP, and TLS for implicit)
// when SMTPConfig.DialTimeout is zero.
const DefaultSMTPDialTimeout = 10 * time.Second

// SMTPConfig describes the mail server the SMTP transport submits to.
type SMTPConfig struct {
	// Host is the server's name or IP address, without a port. The
	// server's certificate must be valid for it.
	Host string
	// Port 0 means 587 for starttls, 465 for implicit and 25 otherwise.
	Port int
	// Username and Password, when set, are sent with AUTH PLAIN (or LOGIN
	// if the server offers only that), and only over TLS or to loopback.
	Username string
	Password string
	// TLS is one of TLSStartTLS (the default when empty), TLSImplicit,
	// TLSOpportunistic and TLSNone.
	TLS string
	// From is the sender, e.g. "Portvakt <no-reply@id.example.com>". Its
	// domain also ends every Message-ID.
	From string
	// Timeout bounds the conversation: go-mail sets it as the
	// connection's deadline after connecting and again before the message
	// is sent, so a server that stops answering (at the greeting, after
	// DATA, anywhere) fails the delivery instead of holding the outbox
	// worker. 0 means DefaultSMTPTimeout.
	Timeout time.Duration
	// DialTimeout bounds connecting; 0 means DefaultSMTPDialTimeout (or
	// Timeout, if that is shorter).
	DialTimeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system
	// roots. Tests pass the pool of their loopback server. There is
	// deliberately no switch to skip verification.
	RootCAs *x509.CertPool
}

// Validate returns an error listing everything wrong with c, or nil.
func (c SMTPConfig) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	host := strings.TrimSpace(c.Host)
	switch {
	case host == "":
		add("host is required")
	case host != c.Host || strings.ContainsAny(host, "/ "):
		add("host %q is not a host name", c.Host)
	case strings.Contains(host, ":") && net.ParseIP(host) == nil:
		add("host %q must not include a port; set port instead", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port %d is out of range 1-65535", c.Port)
	}
	mode := c.tlsMode()
	switch mode {
	case TLSStartTLS, TLSImplicit, TLSOpportunistic, TLSNone:
	default:
		add("tls %q is not one of starttls, implicit, opportunistic, none", c.TLS)
	}
	if host != "" && !isLoopback(host) {
		if mode == TLSNone {
			add("tls \"none\" sends mail in clear text and is allowed only to a loopback host, not %q; use starttls or implicit", host)
		}
		if mode == TLSOpportunistic && c.Password != "" {
			add("tls \"opportunistic\" could send the password in clear text to %q; use starttls or implicit", host)
		}
	}
	if (c.Username == "") != (c.Password == "") {
		add("username and password must be set together")
	}
	if c.From == "" {
		add("from is required")
	} else if a, err := mail.ParseAddress(c.From); err != nil {
		add("from %q is not an email address", c.From)
	} else if i := strings.LastIndexByte(a.Address, '@'); i < 0 || i == len(a.Address)-1 {
		add("from %q has no domain", c.From)
	}
	if c.Timeout < 0 {
		add("timeout %s is negative", c.Timeout)
	}
	if c.DialTimeout < 0 {
		add("dial timeout %s is negative", c.DialTimeout)
	}
	if len(problems) > 0 {
		return fmt.Errorf("notify: invalid SMTP config: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (c SMTPConfig) tlsMode() string {
	if c.TLS == "" {
		return TLSStartTLS
	}
	return strings.ToLower(c.TLS)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SMTP delivers email through a submission server. Each Deliver opens its
// own connection, so an SMTP is safe for concurrent use and a broken
// connection never outlives one message.
type SMTP struct {
	cfg    SMTPConfig
	from   *mail.Address
	domain string
	addr   string // host:port, for errors
	opts   []gomail.Option
	dial   time.Duration
}

// NewSMTP validates cfg (see SMTPConfig.Validate) and returns the transport.
// It does not connect; the first delivery does.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	from, _ := mail.ParseAddress(cfg.From)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]

	mode := cfg.tlsMode()
	port := cfg.Port
	if port == 0 {
		switch mode {
		case TLSStartTLS:
			port = 587
		case TLSImplicit:
			port = 465
		default:
			port = 25
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultSMTPTimeout
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(&tls.Config{
			ServerName: cfg.Host,
			RootCAs:    cfg.RootCAs,
			MinVersion: tls.VersionTLS12,
		}),
	}
	switch mode {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		// go-mail refuses PLAIN and LOGIN on an unencrypted connection to
		// anything but localhost, which backs up Validate.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}
	dial := cfg.DialTimeout
	if dial == 0 {
		dial = min(DefaultSMTPDialTimeout, timeout)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	return &SMTP{cfg: cfg, from: from, domain: domain, addr: addr, opts: opts, dial: dial}, nil
}

// Deliver sends m as a multipart/alternative (text and HTML) message and
// returns nil once the server has accepted it. The Message-ID is derived
// from m.ID, so a retry that reaches the recipient twice can be recognised
// as one message. Connecting is bounded by ctx and the DialTimeout, the
// conversation by the Timeout (go-mail does not watch ctx once
// connected). The password never appears in an error.
func (s *SMTP) Deliver(ctx context.Context, m store.Message) error {
	if m.Channel != "" && m.Channel != store.ChannelEmail {
		return fmt.Errorf("notify: smtp cannot deliver %q messages", m.Channel)
	}
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %w", err)
	}
	// go-mail uses this context only to connect.
	dctx, cancel := context.WithTimeout(ctx, s.dial)
	defer cancel()
	if err := client.DialAndSendWithContext(dctx, msg); err != nil {
		return fmt.Errorf("notify: smtp %s: %w", s.addr, err)
	}
	return nil
}

// message builds the MIME message for m.
func (s *SMTP) message(m store.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("notify: message %s: recipient: %w", m.ID, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	date := m.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	if m.Locale != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Locale)
	}
	// RFC 3834: tells autoresponders (out-of-office, vacation) not to
	// answer; X-Auto-Response-Suppress says the same to Exchange.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("notify: message " + m.ID + " has no body")
	}
	switch {
	case m.HTML == "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	case m.Text == "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}
