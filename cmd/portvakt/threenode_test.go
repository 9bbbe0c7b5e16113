package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/portvakt/portvakt/internal/notify/notifytest"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/testwait"
)

// nodeEnv marks a child process of this test binary that runs the real
// command line (serve) instead of the tests: the three-node test starts
// real, separate server processes, and kills them with SIGKILL.
const nodeEnv = "PORTVAKT_TEST_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// node is one `portvakt serve` process.
type node struct {
	name, addr, cfg string
	cmd             *exec.Cmd
	log             *os.File
}

func (n *node) start() error {
	n.cmd = exec.Command(os.Args[0], "serve", "--config", n.cfg, "--listen", n.addr)
	n.cmd.Env = append(os.Environ(), nodeEnv+"=1")
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", n.name, err)
	}
	// Ready within a budget of 10 s (scaled: testwait).
	if testwait.Until(10*time.Second, func() bool {
		resp, err := http.Get("http://" + n.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}) {
		return nil
	}
	return fmt.Errorf("%s did not get ready; its log:\n%s", n.name, readFile(n.log.Name()))
}

// kill ends the process at once (SIGKILL): no drain, no clean shutdown.
func (n *node) kill() {
	n.cmd.Process.Kill()
	n.cmd.Wait()
}

// stop asks for a graceful shutdown and expects exit status 0.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	if err := n.cmd.Wait(); err != nil {
		t.Errorf("%s: SIGTERM gave %v, want exit 0; its log:\n%s", n.name, err, readFile(n.log.Name()))
	}
}

func readFile(path string) string { b, _ := os.ReadFile(path); return string(b) }

// rrProxy spreads requests over the nodes in turn. A node that refuses
// the connection (it is dead) is skipped: only then is the request sent
// elsewhere, since it never reached the dead node. Any other failure is a
// 502, an answer the client cannot count on.
type rrProxy struct {
	addrs  []string
	next   atomic.Uint64
	served []atomic.Int64
	tr     *http.Transport
}

func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for range len(p.addrs) {
		i := int(p.next.Add(1) % uint64(len(p.addrs)))
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://"+p.addrs[i]+r.URL.RequestURI(), bytes.NewReader(body))
		out.Header = r.Header.Clone()
		out.Host = r.Host
		resp, err := p.tr.RoundTrip(out)
		if err != nil {
			if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
				continue
			}
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		p.served[i].Add(1)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "proxy: no node answers", http.StatusBadGateway)
}

// user is one person of the workload, with what the cluster acknowledged.
type user struct {
	email, password string
	jar             http.CookieJar
	startAcked      bool   // sign-up start answered 201: a code mail is owed
	accountID       string // sign-up completion answered 200
	sessions        []*http.Cookie
}

var sessionCookie = regexp.MustCompile(`^portvakt_session$`)

// Issue 12: three serve processes on one PostgreSQL behind a round-robin
// proxy; a bounded mixed workload (sign-ups with mailed codes over SMTP,
// sign-ins, session checks, client_credentials); one node is killed with
// SIGKILL mid-run and started again. No acknowledged account, session or
// mail is lost or duplicated, and a code's attempt limit, the sign-in
// throttle (issue 10: 10 wrong passwords spread over the three nodes count
// as 10) and the mail jobs hold once across the nodes. Bounded in count;
// nothing is timed.
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three server processes")
	}
	dsn := pgtest.Start(t)
	sink := notifytest.StartSMTP(t)
	dir := t.TempDir()

	key := make([]byte, 32)
	rand.Read(key)
	const svcSecret = "three-node-service-secret-0123456789abcdefgh"
	svcSum := sha256.Sum256([]byte(svcSecret))
	proxy := &rrProxy{tr: &http.Transport{MaxIdleConnsPerHost: 16}}
	front := httptest.NewUnstartedServer(proxy)
	front.Start()
	defer front.Close()

	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = &node{name: fmt.Sprintf("node%d", i+1), addr: freeAddr(t)}
		proxy.addrs = append(proxy.addrs, nodes[i].addr)
	}
	proxy.served = make([]atomic.Int64, len(nodes))
	cfg := fmt.Sprintf(`public_url: %s
database:
  driver: postgres
  dsn: %q
secrets:
  key: %s
log:
  level: warn
mail:
  transport: smtp
  from: "Portvakt <no-reply@example.org>"
  smtp: {host: %s, port: %d, tls: none}
password:
  argon2: {memory_kib: 4096, time: 1}
flows:
  code_attempts: 5
oidc:
  clients:
    - id: svc
      secret_sha256: %s
      grant_types: [client_credentials]
`, front.URL, dsn, base64.StdEncoding.EncodeToString(key), sink.Host(), sink.Port(), hex.EncodeToString(svcSum[:]))
	cfgPath := filepath.Join(dir, "portvakt.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var migrateOut bytes.Buffer
	if code := run(t.Context(), []string{"migrate", "--config", cfgPath}, nil, nil, &migrateOut, &migrateOut); code != 0 {
		t.Fatalf("migrate = %d: %s", code, migrateOut.String())
	}
	for _, n := range nodes {
		n.cfg = cfgPath
		f, err := os.Create(filepath.Join(dir, n.name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		n.log = f
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, n := range nodes {
			if n.cmd.ProcessState == nil {
				n.cmd.Process.Kill()
				n.cmd.Wait()
			}
		}
	}()

	// The calls of the workload. unexpected counts answers that are
	// neither what the step expects nor the proxy's 502 for a request
	// cut off by the kill.
	var unexpected, cutOff atomic.Int64
	var report sync.Mutex
	call := func(u *user, method, path string, in any, want int, out any) bool {
		var body io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			body = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, front.URL+path, body)
		req.Header.Set("Content-Type", "application/json")
		c := &http.Client{Jar: u.jar}
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode == want:
			if out != nil {
				json.Unmarshal(b, out)
			}
			return true
		case resp.StatusCode == http.StatusBadGateway:
			cutOff.Add(1)
		default:
			unexpected.Add(1)
			report.Lock()
			t.Errorf("%s %s for %s = %d %s, want %d", method, path, u.email, resp.StatusCode, b, want)
			report.Unlock()
		}
		return false
	}
	codeRE := regexp.MustCompile(`\b\d{6}\b`)
	// mailTo waits for the mails to addr whose subject contains what,
	// for a budget of 30 s, scaled (the outbox lease a dead node held runs
	// out within about 25 s).
	mailTo := func(addr, what string) []notifytest.Received {
		var got []notifytest.Received
		testwait.Until(30*time.Second, func() bool {
			got = nil
			for _, m := range sink.Messages() {
				if len(m.To) == 1 && m.To[0] == addr && strings.Contains(m.Subject, what) {
					got = append(got, m)
				}
			}
			return len(got) > 0
		})
		return got
	}
	sessionOf := func(u *user) *http.Cookie {
		base, _ := url.Parse(front.URL)
		for _, c := range u.jar.Cookies(base) {
			if sessionCookie.MatchString(c.Name) {
				return c
			}
		}
		return nil
	}

	// One journey: sign up with the mailed code, check the session, sign
	// out and in again, check that session, and get a service token.
	type flowJSON struct {
		FlowID    string `json:"flow_id"`
		FlowToken string `json:"flow_token"`
	}
	var tokens atomic.Int64
	journey := func(u *user) {
		var f flowJSON
		if !call(u, "POST", "/api/v1/signup", map[string]string{"email": u.email}, 201, &f) {
			return
		}
		u.startAcked = true
		mails := mailTo(u.email, "confirmation code")
		if len(mails) == 0 {
			t.Errorf("no code mail to %s", u.email)
			return
		}
		code := codeRE.FindString(mails[0].Text)
		if !call(u, "POST", "/api/v1/signup/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, 200, nil) {
			return
		}
		var sess struct {
			AccountID string `json:"account_id"`
		}
		if !call(u, "POST", "/api/v1/signup/complete", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "name": "Node Person", "password": u.password}, 200, &sess) {
			return
		}
		u.accountID = sess.AccountID
		if c := sessionOf(u); c != nil {
			u.sessions = append(u.sessions, c)
		}
		call(u, "GET", "/api/v1/account", nil, 200, nil)
		// A second browser signs in: a new session beside the first.
		second := &user{email: u.email}
		second.jar, _ = cookiejar.New(nil)
		if call(second, "POST", "/api/v1/login", map[string]string{"email": u.email}, 201, &f) &&
			call(second, "POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": u.password}, 200, nil) {
			if c := sessionOf(second); c != nil {
				u.sessions = append(u.sessions, c)
			}
			call(second, "GET", "/api/v1/account", nil, 200, nil)
		}
		// client_credentials.
		form := url.Values{"grant_type": {"client_credentials"}}
		req, _ := http.NewRequest("POST", front.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc", svcSecret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				tokens.Add(1)
			case http.StatusBadGateway:
				cutOff.Add(1)
			default:
				unexpected.Add(1)
				t.Errorf("client_credentials = %d", resp.StatusCode)
			}
		}
	}

	// The workload: 18 people, 3 at a time. After the 6th finishes, node2
	// is killed; after the 12th, it is started again.
	const people, workers = 18, 3
	users := make([]*user, people)
	for i := range users {
		users[i] = &user{email: fmt.Sprintf("person%02d@example.org", i), password: fmt.Sprintf("three node passphrase %02d qv7", i)}
		users[i].jar, _ = cookiejar.New(nil)
	}
	work := make(chan *user)
	var done, atRestart atomic.Int64
	atRestart.Store(-1)
	// restarted holds the last people back until node2 is up again, so
	// that some of the workload is left for it however fast the others
	// finish (a count, not a clock).
	restarted := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for u := range work {
				journey(u)
				switch done.Add(1) {
				case 6:
					nodes[1].kill()
				case 12:
					if err := nodes[1].start(); err != nil {
						t.Error(err)
					}
					atRestart.Store(proxy.served[1].Load())
					close(restarted)
				}
			}
		})
	}
	for i, u := range users {
		if i == people-4 {
			<-restarted
		}
		work <- u
	}
	close(work)
	wg.Wait()
	if n := atRestart.Load(); n < 0 || proxy.served[1].Load() <= n {
		t.Errorf("node2 served no request of the workload after its restart (%d before, %d after)", n, proxy.served[1].Load())
	}

	// A code's attempt limit holds once across the nodes: five wrong
	// codes in turn on the three nodes kill the flow, and the right code
	// is then refused too.
	thr := &user{email: "throttle@example.org"}
	thr.jar, _ = cookiejar.New(nil)
	var f flowJSON
	if !call(thr, "POST", "/api/v1/signup", map[string]string{"email": thr.email}, 201, &f) {
		t.Fatal("sign-up for the throttle check failed")
	}
	thrMail := mailTo(thr.email, "confirmation code")
	if len(thrMail) == 0 {
		t.Fatal("no code mail for the throttle check")
	}
	right := codeRE.FindString(thrMail[0].Text)
	wrongCode := "000000"
	if right == wrongCode {
		wrongCode = "111111"
	}
	outcomes := map[string]int{}
	for range 8 {
		req, _ := http.NewRequest("POST", front.URL+"/api/v1/signup/code", strings.NewReader(fmt.Sprintf(`{"flow_id":%q,"flow_token":%q,"code":%q}`, f.FlowID, f.FlowToken, wrongCode)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Jar: thr.jar}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, k := range []string{"code.wrong", "code.too_many"} {
			if strings.Contains(string(b), `"`+k+`"`) {
				outcomes[k]++
			}
		}
	}
	if outcomes["code.wrong"] != 4 || outcomes["code.too_many"] != 4 {
		t.Errorf("8 wrong codes across 3 nodes gave %v, want 4 code.wrong then 4 code.too_many (5 attempts, counted once)", outcomes)
	}
	req, _ := http.NewRequest("POST", front.URL+"/api/v1/signup/code", strings.NewReader(fmt.Sprintf(`{"flow_id":%q,"flow_token":%q,"code":%q}`, f.FlowID, f.FlowToken, right)))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := (&http.Client{Jar: thr.jar}).Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode == 200 {
		t.Error("the right code was accepted after the attempt limit")
	}

	// Every acknowledged account exists once, with the acknowledged ID.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var accounts, completed, started, sessions int
	for _, u := range users {
		if u.startAcked {
			started++
		}
		if u.accountID == "" {
			continue
		}
		completed++
		rows, err := db.QueryContext(t.Context(), "SELECT account_id FROM emails WHERE address_key = $1", strings.ToLower(u.email))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) != 1 || ids[0] != u.accountID {
			t.Errorf("%s: acknowledged account %s, the database has %v", u.email, u.accountID, ids)
		}
	}
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM accounts").Scan(&accounts); err != nil {
		t.Fatal(err)
	}
	if accounts < completed || accounts > people {
		t.Errorf("%d accounts in the database for %d acknowledged completions of %d people", accounts, completed, people)
	}

	// The sign-in throttle holds once across the nodes (issue 10): ten
	// wrong passwords for one account, sent to the three nodes in turn,
	// count as ten. Each is answered as wrong; the 11th try, with the right
	// password, is refused as throttled (login.failures is 10 per
	// identifier), and the database holds ten failures on the account's
	// counter, not three or four per node.
	var victim *user
	for _, u := range users {
		if u.accountID != "" {
			victim = u
			break
		}
	}
	if victim == nil {
		t.Fatal("no acknowledged account for the sign-in throttle check")
	}
	frontURL, _ := url.Parse(front.URL)
	tryPassword := func(i int, pw string) (int, string) {
		att := &user{email: victim.email}
		att.jar, _ = cookiejar.New(nil)
		var f flowJSON
		if !call(att, "POST", "/api/v1/login", map[string]string{"email": victim.email}, 201, &f) {
			t.Fatalf("try %d: sign-in start failed", i)
		}
		b, _ := json.Marshal(map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw})
		n := nodes[i%len(nodes)]
		req, _ := http.NewRequest("POST", "http://"+n.addr+"/api/v1/login/password", bytes.NewReader(b))
		req.Host = frontURL.Host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("try %d on %s: %v", i, n.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	const wrongPasswords = 10
	for i := range wrongPasswords {
		if code, body := tryPassword(i, fmt.Sprintf("wrong passphrase number %02d xq", i)); code != http.StatusUnauthorized || !strings.Contains(body, `"login.wrong_credentials"`) {
			t.Errorf("wrong password %d on %s = %d %s, want 401 login.wrong_credentials", i+1, nodes[i%len(nodes)].name, code, body)
		}
	}
	if code, body := tryPassword(wrongPasswords, victim.password); code != http.StatusTooManyRequests || !strings.Contains(body, `"login.throttled"`) {
		t.Errorf("the right password after %d wrong ones across 3 nodes = %d %s, want 429 login.throttled (the failures counted once, not per node)", wrongPasswords, code, body)
	}
	var acctFailures int
	if err := db.QueryRowContext(t.Context(), "SELECT failures FROM counters WHERE name = $1", "t:acct:"+victim.accountID).Scan(&acctFailures); err != nil {
		t.Errorf("the account's failure counter: %v", err)
	} else if acctFailures != wrongPasswords {
		t.Errorf("the account's failure counter is %d after %d wrong passwords across 3 nodes, want %d", acctFailures, wrongPasswords, wrongPasswords)
	}

	// Every acknowledged session works on every node, including the one
	// that was killed and started again.
	for _, u := range users {
		for _, c := range u.sessions {
			sessions++
			for i := range nodes {
				req, _ := http.NewRequest("GET", "http://"+nodes[i].addr+"/api/v1/account", nil)
				req.AddCookie(c)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s: an acknowledged session gets %d from %s", u.email, resp.StatusCode, nodes[i].name)
				}
			}
		}
	}

	// Every owed mail arrives once: one code for every acknowledged
	// sign-up start and one welcome for every account, told apart by
	// Message-ID (a mail the SMTP server accepted just before a node died
	// may be delivered again under the same Message-ID, which receivers
	// drop; that is counted and logged, not a second message).
	redelivered := 0
	for _, u := range users {
		kinds := map[string]bool{"confirmation code": u.startAcked}
		var exists int
		db.QueryRowContext(t.Context(), "SELECT count(*) FROM emails WHERE address_key = $1", strings.ToLower(u.email)).Scan(&exists)
		kinds["is ready"] = exists > 0
		for subject, owed := range kinds {
			if !owed {
				continue
			}
			mails := mailTo(u.email, subject)
			ids := map[string]bool{}
			for _, m := range mails {
				ids[m.Header.Get("Message-Id")] = true
			}
			if len(ids) != 1 {
				t.Errorf("%s: %d distinct %q mails (of %d deliveries), want exactly 1", u.email, len(ids), subject, len(mails))
			}
			redelivered += len(mails) - len(ids)
		}
	}

	if n := cutOff.Load(); n > 2*workers {
		t.Errorf("%d requests were cut off; only those in flight at the kill may be", n)
	}
	t.Logf("%d people: %d sign-ups acknowledged, %d accounts acknowledged (%d in the database), %d sessions checked on 3 nodes, %d service tokens; %d requests cut off by the kill, %d redelivered mails; requests per node %d/%d/%d",
		people, started, completed, accounts, sessions, tokens.Load(), cutOff.Load(), redelivered,
		proxy.served[0].Load(), proxy.served[1].Load(), proxy.served[2].Load())
	if unexpected.Load() != 0 {
		t.Errorf("%d unexpected answers", unexpected.Load())
	}
	for _, n := range nodes {
		n.stop(t)
	}
	if t.Failed() {
		for _, n := range nodes {
			t.Logf("%s log:\n%s", n.name, readFile(n.log.Name()))
		}
	}
}
