package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/testwait"
)

// Received is one message the server accepted.
type Received struct {
	// From and To are the envelope (MAIL FROM and RCPT TO) addresses.
	From string
	To   []string
	// Raw is the message exactly as sent after DATA.
	Raw []byte
	// Header is the parsed top-level header.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts, with
	// line endings normalised to "\n". Either is empty when absent.
	Text string
	HTML string
	// TLS reports whether the message came over TLS, and AuthUser who
	// authenticated ("" for nobody).
	TLS      bool
	AuthUser string
}

// Option configures StartSMTP.
type Option func(*config)

type config struct {
	startTLS, implicitTLS bool
	user, pass            string
}

// WithSTARTTLS offers STARTTLS with a self-signed certificate for
// 127.0.0.1, ::1 and localhost. Clients trust it through RootCAs.
func WithSTARTTLS() Option { return func(c *config) { c.startTLS = true } }

// WithImplicitTLS speaks TLS from the first byte (SMTPS), with the same
// certificate as WithSTARTTLS.
func WithImplicitTLS() Option { return func(c *config) { c.implicitTLS = true } }

// WithAuth requires AUTH PLAIN with these credentials before MAIL FROM;
// wrong ones get 535. With TLS, AUTH is offered only once TLS is up.
func WithAuth(username, password string) Option {
	return func(c *config) { c.user, c.pass = username, password }
}

// Server is a running test SMTP server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  config
	srv  *smtp.Server
	addr *net.TCPAddr
	pool *x509.CertPool

	mu       sync.Mutex
	msgs     []Received
	taken    map[int]bool  // indexes WaitFor has returned
	arrived  chan struct{} // closed and replaced on every new message
	failing  bool
	attempts int
}

// StartSMTP starts a server on 127.0.0.1 with a free port and stops it in
// tb.Cleanup. It fails the test if the server cannot start.
func StartSMTP(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{taken: map[int]bool{}, arrived: make(chan struct{})}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.startTLS && s.cfg.implicitTLS {
		tb.Fatal("notifytest: WithSTARTTLS and WithImplicitTLS exclude each other")
	}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ReadTimeout = testwait.D(10 * time.Second)
	srv.WriteTimeout = testwait.D(10 * time.Second)
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.ErrorLog = log.New(io.Discard, "", 0)
	// Plain-text AUTH is allowed only when the server has no TLS at all:
	// with TLS, AUTH must wait for it, as on a real submission server.
	srv.AllowInsecureAuth = !s.cfg.startTLS && !s.cfg.implicitTLS

	var tlsConf *tls.Config
	if s.cfg.startTLS || s.cfg.implicitTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			tb.Fatalf("notifytest: certificate: %v", err)
		}
		s.pool = pool
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		srv.TLSConfig = tlsConf
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("notifytest: listen: %v", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	if s.cfg.implicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	s.srv = srv
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return s
}

// Addr returns the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host returns "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the listening port.
func (s *Server) Port() int { return s.addr.Port }

// RootCAs returns a pool that trusts the server's certificate, or nil
// when the server has no TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

// SMTPConfig returns a configuration under which notify's SMTP transport
// reaches this server: its host and port, the matching TLS mode and
// RootCAs, the WithAuth credentials, and a From address.
func (s *Server) SMTPConfig() notify.SMTPConfig {
	mode := notify.TLSNone
	switch {
	case s.cfg.startTLS:
		mode = notify.TLSStartTLS
	case s.cfg.implicitTLS:
		mode = notify.TLSImplicit
	}
	return notify.SMTPConfig{
		Host:     s.Host(),
		Port:     s.Port(),
		Username: s.cfg.user,
		Password: s.cfg.pass,
		TLS:      mode,
		From:     "Portvakt <no-reply@portvakt.test>",
		Timeout:  testwait.D(10 * time.Second),
		RootCAs:  s.pool,
	}
}

// SetFailing makes the server answer every RCPT TO with 451 (a temporary
// failure, so a client keeps the mail and retries) until it is set back
// to false. Refused messages are not recorded.
func (s *Server) SetFailing(failing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = failing
}

// Attempts returns how many RCPT TO commands the server has seen,
// refused or not. A test can tell with it that a client really tried.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Messages returns every accepted message, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor returns the oldest message to the address to (compared without
// regard to case) that WaitFor has not returned before, waiting up to
// timeout (scaled by PORTVAKT_TEST_TIMEOUT_SCALE, internal/testwait) for
// it to arrive. It fails the test on timeout. Successive calls thus read
// a mailbox one message at a time.
func (s *Server) WaitFor(tb testing.TB, to string, timeout time.Duration) Received {
	tb.Helper()
	timeout = testwait.D(timeout) // a budget: scaled on a loaded machine
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if s.taken[i] {
				continue
			}
			for _, rcpt := range m.To {
				if strings.EqualFold(rcpt, to) {
					s.taken[i] = true
					s.mu.Unlock()
					return m
				}
			}
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline.C:
			tb.Fatalf("notifytest: no mail to %s within %s (%d messages received)", to, timeout, len(s.Messages()))
			return Received{}
		}
	}
}

func (s *Server) record(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, tls: isTLS}, nil
}

// session is one SMTP transaction sequence on a connection.
type session struct {
	srv  *Server
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.srv.cfg.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.srv.cfg.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		if username != ss.srv.cfg.user || password != ss.srv.cfg.pass {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.cfg.user != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.srv.mu.Lock()
	ss.srv.attempts++
	failing := ss.srv.failing
	ss.srv.mu.Unlock()
	if failing {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure (notifytest: SetFailing)"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "notifytest: unparsable message: " + err.Error()}
	}
	rec.From, rec.To, rec.TLS, rec.AuthUser = ss.from, append([]string(nil), ss.to...), ss.tls, ss.user
	ss.srv.record(rec)
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// parse reads a message's header and its text and HTML parts.
func parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("subject: %w", err)
	}
	r := Received{Raw: raw, Header: msg.Header, Subject: subject}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &r)
	return r, err
}

// walk decodes one MIME entity and, for multipart ones, its parts.
func walk(contentType, encoding string, body io.Reader, r *Received) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, r); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mt, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mt {
	case "text/plain":
		if r.Text == "" {
			r.Text = text
		}
	case "text/html":
		if r.HTML == "" {
			r.HTML = text
		}
	}
	return nil
}

// stripNewlines drops CR and LF, which base64 bodies wrap at 76 columns.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// selfSigned makes a P-256 certificate for the loopback names, valid for a
// day, that is its own CA.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "notifytest " + strconv.FormatInt(now.Unix(), 10)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
