// Command benchload is Portvakt's load benchmark (make bench-load): it
// builds the server, starts it as its own process on loopback, seeds
// accounts, and drives each scenario at several client counts on SQLite
// and on a throwaway PostgreSQL, for a bounded number of operations. It
// reports per scenario ops/s, p50 and p99 latency, the server's CPU-ms per
// operation, PostgreSQL's own CPU-ms per operation (its postmaster and
// backends, from /proc), and the server's peak RSS; the raw argon2id rate
// measured in the same run, so that logins read as a share of the hash
// limit; and start to healthy and idle RSS. See docs/benchmarks.md.
//
// Nothing here asserts a time: it measures and prints.
//
//	go run ./cmd/benchload [-dbs sqlite,postgres] [-clients 2,8,64] [-scale 1]
//	go run ./cmd/benchload -seed-only -accounts 1000000 -driver postgres -dsn postgres://…
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
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	xargon2 "golang.org/x/crypto/argon2"

	"github.com/portvakt/portvakt/internal/argon2"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

var (
	flagDBs      = flag.String("dbs", "sqlite,postgres", "databases to run on")
	flagClients  = flag.String("clients", "2,8,64", "concurrent clients")
	flagScen     = flag.String("scenarios", "", "scenarios to run (default all)")
	flagScale    = flag.Float64("scale", 1, "multiplies every scenario's operation count")
	flagAccounts = flag.Int("accounts", 2000, "accounts to seed (password logins spread over them)")
	flagSizes    = flag.String("sizes", "", "account counts, e.g. 10000,100000,1000000: grow one database to each in turn and run the scenarios at each (default: just -accounts)")
	flagStartup  = flag.Bool("startup", true, "measure start to healthy and idle RSS")
	flagSeedOnly = flag.Bool("seed-only", false, "only seed -accounts accounts into -driver/-dsn and exit")
	flagDriver   = flag.String("driver", "postgres", "with -seed-only: sqlite or postgres")
	flagDSN      = flag.String("dsn", "", "with -seed-only: the database (migrated first)")
	flagOut      = flag.String("out", "", "also write the Markdown report to this file")
	flagBin      = flag.String("bin", "", "a portvakt binary to run (default: build ./cmd/portvakt)")
	flagFloor    = flag.Bool("floor", true, "also run the password login against the floor server (HTTP and the hash only, floor.go)")
	flagFloorSrv = flag.String("floor-serve", "", "internal: serve the floor server on this address")
)

const benchPassword = "bench correct horse battery 4711"

func main() {
	flag.Parse()
	ctx := context.Background()
	if *flagFloorSrv != "" {
		floorServe(*flagFloorSrv)
		return
	}
	if *flagSeedOnly {
		db, err := sqlstore.OpenAndMigrate(ctx, *flagDriver, *flagDSN)
		check(err)
		start := time.Now()
		check(seed(ctx, db, 0, *flagAccounts, 0, nil))
		fmt.Printf("seeded %d accounts in %v\n", *flagAccounts, time.Since(start).Round(time.Millisecond))
		return
	}
	dir, err := os.MkdirTemp("", "portvakt-bench-")
	check(err)
	defer os.RemoveAll(dir)
	bin := *flagBin
	if bin == "" {
		bin = filepath.Join(dir, "portvakt")
		// Built as the release is (make dist): static, without symbols,
		// so start-up and RSS are those of the binary users run.
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/portvakt")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		check(build.Run())
	}
	var rep report
	rep.cores = runtime.NumCPU()
	raw := argon2Rate(false, 3)
	rep.argon2Before, rep.hashCPU = raw.perSec(), raw.cpuMS()
	raw = argon2Rate(true, 3)
	rep.xcrypto, rep.xcryptoCPU = raw.perSec(), raw.cpuMS()
	if *flagStartup {
		rep.startup = measureStartup(dir, bin)
	}
	if *flagFloor && (*flagScen == "" || slices.Contains(strings.Split(*flagScen, ","), "password login")) {
		rep.rows = append(rep.rows, runFloor(parseInts(*flagClients))...)
	}
	for _, db := range strings.Split(*flagDBs, ",") {
		rep.rows = append(rep.rows, runDB(ctx, dir, bin, db)...)
	}
	rep.argon2After = argon2Rate(false, 3).perSec()
	out := rep.markdown()
	fmt.Print(out)
	if *flagOut != "" {
		check(os.WriteFile(*flagOut, []byte(out), 0o644))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

// rawRate is a count of raw argon2id hashes, the wall time they took with
// one hash per core at once, and this process's CPU in that time.
type rawRate struct {
	hashes       int
	elapsed, cpu time.Duration
}

func (r rawRate) plus(o rawRate) rawRate {
	return rawRate{r.hashes + o.hashes, r.elapsed + o.elapsed, r.cpu + o.cpu}
}

// perSec is the rate, hashes a second; cpuMS the CPU-ms of one hash.
func (r rawRate) perSec() float64 { return float64(r.hashes) / r.elapsed.Seconds() }
func (r rawRate) cpuMS() float64  { return ms(r.cpu) / float64(r.hashes) }

// rawMemory is the kept hash memory of argon2Rate's hashes, one per core,
// kept for the whole run as the server keeps its own.
var (
	rawMemory     []argon2.Memory
	rawMemoryOnce sync.Once
)

// argon2Rate measures the raw argon2id rate at the default parameters with
// one hash per core at once (the ceiling for password logins and
// sign-ups), and the CPU one hash takes, from this process's rusage, in
// rounds of 6 hashes per core.
//
// The hashes are the server's own: internal/argon2 in memory kept from the
// last hash, one Memory per core, as the server's pool does. That is the
// machine's best rate, so a login rate near it leaves nothing beside the
// hash. xcrypto measures golang.org/x/crypto/argon2.IDKey instead (fresh
// memory per hash), reported for comparison.
//
// It is the steady rate: the first call (and every call for x/crypto, whose
// memory is new each hash) first runs a round that is not counted, since a
// process's first hashes fault in fresh pages and cost about twice the CPU.
// The rounds are summed, not the best one taken: a cell's logins a second
// are a mean over the cell, so the rate they are a share of is the mean
// over rounds run just before and just after it (runCell), on the machine
// as it was then. Session 4 took the best of three rounds before the cell,
// which on this VM (whose speed drifts by ±5 % within a minute) set each
// cell against the machine's luckiest moment.
func argon2Rate(xcrypto bool, rounds int) rawRate {
	p := password.DefaultArgon2Params()
	cores := runtime.GOMAXPROCS(0)
	salt := make([]byte, p.SaltLen)
	warm := xcrypto
	rawMemoryOnce.Do(func() { rawMemory, warm = make([]argon2.Memory, cores), true })
	round := func(n int) rawRate {
		var next atomic.Int64
		cpu0 := selfCPU()
		start := time.Now()
		var wg sync.WaitGroup
		for i := range cores {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if xcrypto {
						xargon2.IDKey([]byte(benchPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
					} else {
						argon2.IDKey(&rawMemory[i], []byte(benchPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
					}
				}
			})
		}
		wg.Wait()
		return rawRate{n, time.Since(start), selfCPU() - cpu0}
	}
	if warm {
		round(2 * cores)
	}
	var sum rawRate
	for range rounds {
		sum = sum.plus(round(6 * cores))
	}
	return sum
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// --- server processes ------------------------------------------------

type server struct {
	cmd  *exec.Cmd
	addr string
	base string
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().String()
}

func startServer(bin, cfg, addr string) (*server, time.Duration) {
	s := &server{addr: addr}
	s.base = "http://" + s.addr
	s.cmd = exec.Command(bin, "serve", "--config", cfg, "--listen", s.addr)
	logf, err := os.Create(cfg + ".log")
	check(err)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	start := time.Now()
	check(s.cmd.Start())
	if !s.waitHealthy() {
		b, _ := os.ReadFile(cfg + ".log")
		check(fmt.Errorf("server did not get healthy:\n%s", b))
	}
	return s, time.Since(start)
}

// waitHealthy polls /healthz every 0.5 ms until it answers 200, for at
// most 30 s in all (a server that accepts and never answers ends it too).
func (s *server) waitHealthy() bool {
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if resp, err := c.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	return false
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
}

// procCPU is a process's user+system CPU time; with children, also that
// of its children it has waited for (PostgreSQL's postmaster reaps its
// backends, so their CPU lands there).
func procCPU(pid int, children bool) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// Fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
	sum := 0
	for i, idx := range []int{11, 12, 13, 14} {
		if i >= 2 && !children {
			break
		}
		n, _ := strconv.Atoi(f[idx])
		sum += n
	}
	return time.Duration(sum) * time.Second / 100 // USER_HZ is 100 on Linux
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	n, _ := strconv.Atoi(f[1])
	return n
}

// pgCPU is the CPU of a PostgreSQL cluster: the postmaster (with the
// backends it has reaped) and every live child.
func pgCPU(postmaster int) time.Duration {
	if postmaster <= 0 {
		return 0
	}
	total := procCPU(postmaster, true)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || ppid(pid) != postmaster {
			continue
		}
		total += procCPU(pid, false)
	}
	return total
}

// postmasterOf finds the postmaster listening on the DSN's port.
func postmasterOf(dsn string) int {
	u, err := url.Parse(dsn)
	if err != nil {
		return -1
	}
	port := u.Port()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || !strings.HasSuffix(args[0], "postgres") {
			continue
		}
		for i, a := range args {
			if (a == "-p" && i+1 < len(args) && args[i+1] == port) || a == "-p"+port || strings.Contains(a, "port="+port) {
				return pid
			}
		}
	}
	return -1
}

func rssKiB(pid int, field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS(pid int) {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// --- start-up ----------------------------------------------------------

type startup struct {
	first, again time.Duration // start to /healthz 200: a new database, and the same one again
	idleRSS      int           // KiB, after start and three idle seconds
}

func measureStartup(dir, bin string) startup {
	var firsts, agains []time.Duration
	var rss []int
	for i := range 5 {
		d := filepath.Join(dir, fmt.Sprintf("startup%d", i))
		check(os.MkdirAll(d, 0o755))
		cfg := filepath.Join(d, "portvakt.yaml")
		check(os.WriteFile(cfg, []byte("database: {dsn: "+filepath.Join(d, "p.db")+"}\nlog: {level: warn}\n"), 0o600))
		s, took := startServer(bin, cfg, freeAddr())
		firsts = append(firsts, took)
		s.stop()
		s, took = startServer(bin, cfg, freeAddr())
		agains = append(agains, took)
		time.Sleep(3 * time.Second)
		rss = append(rss, rssKiB(s.cmd.Process.Pid, "VmRSS"))
		s.stop()
	}
	slices.Sort(firsts)
	slices.Sort(agains)
	slices.Sort(rss)
	return startup{first: firsts[2], again: agains[2], idleRSS: rss[2]}
}

// --- seeding -----------------------------------------------------------

func accountEmail(i int) string { return fmt.Sprintf("bench%07d@example.org", i) }
func totpEmail(i int) string    { return fmt.Sprintf("totp%05d@example.org", i) }

// totpSecret is the TOTP seed of every seeded TOTP account.
const totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// seed registers accounts from to n-1 with one password hash (computed
// once: the hash a login verifies is as costly as any), and totpN accounts
// with a TOTP factor sealed with sealer.
func seed(ctx context.Context, db *sqlstore.DB, from, n, totpN int, sealer *secret.Sealer) error {
	h, err := password.NewHasher(password.Argon2Params{}, 0)
	if err != nil {
		return err
	}
	hash, err := h.Hash(ctx, benchPassword)
	if err != nil {
		return err
	}
	now := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n+totpN {
					return
				}
				email := accountEmail(i)
				if i >= n {
					email = totpEmail(i - n)
				}
				a := store.Account{ID: secret.ID(), Name: "Bench Person", CreatedAt: now, UpdatedAt: now}
				err := db.Register(ctx, a, []store.Email{{Address: email, Primary: true, VerifiedAt: now, CreatedAt: now}},
					&store.Password{Hash: hash, ChangedAt: now})
				if err == nil && i >= n {
					id := secret.ID()
					err = db.CreateFactor(ctx, store.Factor{ID: id, AccountID: a.ID, Kind: store.FactorTOTP, Name: "app",
						Secret: sealer.Seal([]byte(totpSecret), []byte("totp:"+id)), ConfirmedAt: now, CreatedAt: now})
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	return nil
}

// --- scenarios ---------------------------------------------------------

// client is one simulated user agent.
type client struct {
	http *http.Client
	base string
	n    int // its number in the cell
	// state a scenario keeps between operations
	session *http.Cookie
	refresh string
}

func newClient(base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, http: &http.Client{Jar: jar, Transport: &connTransport{addr: strings.TrimPrefix(base, "http://")},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// from makes the client's requests come from ip, as a load balancer on
// loopback (server.trusted_proxies) says in X-Forwarded-For.
func (c *client) from(ip string) *client {
	c.http.Transport.(*connTransport).xff = ip
	return c
}

func (c *client) json(method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s = %d %.200s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *client) form(path string, v url.Values, user, pass string, out any) error {
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST %s = %d %.200s", path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type flowJSON struct {
	FlowID    string `json:"flow_id"`
	FlowToken string `json:"flow_token"`
	Next      string `json:"next"`
}

type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// signedOut forgets the client's session cookie and keeps its browser
// cookie: a person signing in has no live session (it ended, or they
// signed out), and signs in from a browser. Without this each login of
// the password scenarios was made while signed in as the account of the
// client's last login, which Portvakt first loads and ends (a session
// read and delete a login, 0.3 CPU-ms on the 2-core VM): an account
// switch, not what a login storm is made of.
func (c *client) signedOut() {
	u, _ := url.Parse(c.base)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "portvakt_session", Path: "/", MaxAge: -1}})
}

func (c *client) passwordLogin(email string) (flowJSON, error) {
	var f flowJSON
	if err := c.json("POST", "/api/v1/login", map[string]string{"email": email}, &f, 201); err != nil {
		return f, err
	}
	var out flowJSON
	err := c.json("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": benchPassword}, &out, 200)
	if out.Next == "" {
		out.FlowToken = f.FlowToken
	}
	if out.FlowToken == "" {
		out.FlowToken = f.FlowToken
	}
	return out, err
}

type env struct {
	base       string
	accounts   int
	totpUsed   atomic.Int64
	totpN      int
	signups    atomic.Int64
	db         *sqlstore.DB
	outbox     store.Outbox // db's outbox, opened with the server's key
	svcSecret  string
	introToken string
}

type scenario struct {
	name  string
	ops   int
	setup func(e *env, c *client) error
	op    func(e *env, c *client, i int) error
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func onePasswordLogin(c *client, email string) error {
	f, err := c.passwordLogin(email)
	if err == nil && f.Next == "factor" {
		return errors.New("a password login asked for a second factor")
	}
	return err
}

var scenarios = []scenario{
	// A browser signing in as another account each time: nearly every
	// login is from a new browser for its account (a device to record, a
	// new-browser alert mail to queue and send), the costlier path.
	{name: "password login", ops: 96, op: func(e *env, c *client, i int) error {
		c.signedOut()
		return onePasswordLogin(c, accountEmail(i%e.accounts))
	}},
	// Each client is one person on their own browser, signing in again
	// after their session ended: after the warm-up, every login is from a
	// known browser (no alert mail).
	{name: "password login (known browser)", ops: 96, op: func(e *env, c *client, i int) error {
		c.signedOut()
		return onePasswordLogin(c, accountEmail(c.n%e.accounts))
	}},
	{name: "TOTP login", ops: 48, op: func(e *env, c *client, i int) error {
		n := int(e.totpUsed.Add(1)) - 1
		if n >= e.totpN {
			return errors.New("out of TOTP accounts (each can sign in once per 30 s step)")
		}
		f, err := c.passwordLogin(totpEmail(n))
		if err != nil {
			return err
		}
		if f.Next != "factor" {
			return fmt.Errorf("a TOTP account was not asked for its second factor (next %q)", f.Next)
		}
		var opts struct {
			Options []struct{ Key, Method string } `json:"options"`
		}
		if err := c.json("GET", "/api/v1/factor?"+url.Values{"flow_id": {f.FlowID}, "flow_token": {f.FlowToken}}.Encode(), nil, &opts, 200); err != nil {
			return err
		}
		key := ""
		for _, o := range opts.Options {
			if o.Method == "totp" {
				key = o.Key
			}
		}
		code, err := totp.Code(totpSecret, time.Now())
		if err != nil {
			return err
		}
		return c.json("POST", "/api/v1/factor/verify", map[string]any{"flow_id": f.FlowID, "flow_token": f.FlowToken, "method": key, "code": code}, nil, 200)
	}},
	{name: "sign-up", ops: 48, op: func(e *env, c *client, i int) error {
		// One domain per address: the mail budget is per address and
		// domain, and a benchmark is not one domain signing up thousands.
		// Each sign-up comes from its own network: the mail budget allows
		// 30 mails an hour per client address, and a benchmark from one
		// address is not thousands of people signing up.
		n := e.signups.Add(1)
		email := fmt.Sprintf("signup%06d@d%06d.example.org", n, n)
		c2 := newClient(e.base).from(fmt.Sprintf("10.%d.%d.1", n/250%250, n%250))
		defer c2.http.Transport.(*connTransport).drop()
		var f flowJSON
		if err := c2.json("POST", "/api/v1/signup", map[string]string{"email": email}, &f, 201); err != nil {
			return err
		}
		msgs, err := e.outbox.ListMessages(context.Background(), store.MessageFilter{To: email, Limit: 1})
		if err != nil || len(msgs) == 0 {
			return fmt.Errorf("no code mail to %s (%v)", email, err)
		}
		code := codeRE.FindString(msgs[0].Text)
		if err := c2.json("POST", "/api/v1/signup/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil, 200); err != nil {
			return err
		}
		return c2.json("POST", "/api/v1/signup/complete", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "name": "New Person", "password": benchPassword}, nil, 200)
	}},
	{name: "client_credentials", ops: 600, op: func(e *env, c *client, i int) error {
		var t tokenJSON
		return c.form("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "svc", e.svcSecret, &t)
	}},
	{name: "refresh", ops: 400, setup: func(e *env, c *client) error {
		if _, err := c.passwordLogin(accountEmail(0)); err != nil {
			return err
		}
		rt, err := codeFlow(c, e.svcSecret)
		c.refresh = rt
		return err
	}, op: func(e *env, c *client, i int) error {
		var t tokenJSON
		if err := c.form("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}}, "app", e.svcSecret, &t); err != nil {
			return err
		}
		c.refresh = t.RefreshToken
		return nil
	}},
	{name: "introspection", ops: 600, op: func(e *env, c *client, i int) error {
		var out struct {
			Active bool `json:"active"`
		}
		if err := c.form("/oauth/introspect", url.Values{"token": {e.introToken}}, "svc-opaque", e.svcSecret, &out); err != nil {
			return err
		}
		if !out.Active {
			return errors.New("introspection: token not active")
		}
		return nil
	}},
	{name: "session check", ops: 800, setup: func(e *env, c *client) error {
		_, err := c.passwordLogin(accountEmail(1))
		return err
	}, op: func(e *env, c *client, i int) error {
		return c.json("GET", "/api/v1/session", nil, nil, 200)
	}},
	{name: "JWKS", ops: 800, op: func(e *env, c *client, i int) error {
		resp, err := c.http.Get(c.base + "/keys")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /keys = %d", resp.StatusCode)
		}
		return nil
	}},
}

// codeFlow runs the authorization code flow with PKCE for client "app"
// with the client's session and returns a refresh token.
func codeFlow(c *client, appSecret string) (string, error) {
	verifier := base64.RawURLEncoding.EncodeToString([]byte(secret.ID() + secret.ID()))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"app"}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "response_type": {"code"},
		"scope": {"openid offline_access"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	next := c.base + "/authorize?" + q.Encode()
	for range 10 {
		resp, err := c.http.Get(next)
		if err != nil {
			return "", err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return "", fmt.Errorf("authorize: %d without a redirect at %s", resp.StatusCode, next)
		}
		if strings.HasPrefix(loc.String(), "http://127.0.0.1:9/cb") {
			code := loc.Query().Get("code")
			var t tokenJSON
			err := c.form("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {verifier}}, "app", appSecret, &t)
			if err == nil && t.RefreshToken == "" {
				err = errors.New("no refresh token")
			}
			return t.RefreshToken, err
		}
		next = loc.String()
	}
	return "", errors.New("authorize: too many redirects")
}

// --- running -------------------------------------------------------------

type row struct {
	db, scenario       string
	clients, ops, errs int
	opsPerSec          float64
	p50, p99           time.Duration
	cpuMS, pgMS        float64 // per successful operation
	clientMS           float64 // this process's CPU (the clients) per successful operation
	argon2             float64 // raw argon2id hashes/s in rounds just before and after a hashing scenario
	hashCPU            float64 // and the CPU-ms of one raw hash in them
	peakRSS            int     // KiB
	firstErr           string
}

func runDB(ctx context.Context, dir, bin, db string) []row {
	d := filepath.Join(dir, db)
	check(os.MkdirAll(d, 0o755))
	key := make([]byte, 32)
	rand.Read(key)
	svcSecret := "bench-service-secret-0123456789abcdefghijklmn"
	sum := sha256.Sum256([]byte(svcSecret))
	sh := hex.EncodeToString(sum[:])
	var driver, dsn string
	postmaster := -1
	switch db {
	case "sqlite":
		driver, dsn = "sqlite", filepath.Join(d, "portvakt.db")
	case "postgres":
		cl, err := pgtest.StartCluster()
		check(err)
		defer cl.Stop()
		driver, dsn = "postgres", cl.DSN()
		postmaster = postmasterOf(dsn)
	default:
		check(fmt.Errorf("unknown database %q", db))
	}
	clients := parseInts(*flagClients)
	totpN := 0
	for _, s := range selected() {
		if s.name == "TOTP login" {
			for _, n := range clients {
				totpN += max(scaled(s.ops), n)
			}
		}
	}
	addr := freeAddr()
	cfg := filepath.Join(d, "portvakt.yaml")
	check(os.WriteFile(cfg, []byte(fmt.Sprintf(`public_url: http://%s
database: {driver: %s, dsn: %q}
secrets: {key: %s}
log: {level: error}
server: {trusted_proxies: [127.0.0.1/32]}
oidc:
  clients:
    - {id: svc, secret_sha256: %s, grant_types: [client_credentials]}
    - {id: svc-opaque, secret_sha256: %s, grant_types: [client_credentials], access_token_format: opaque}
    - {id: app, secret_sha256: %s, redirect_uris: ["http://127.0.0.1:9/cb"], grant_types: [authorization_code, refresh_token]}
`, addr, driver, dsn, base64.StdEncoding.EncodeToString(key), sh, sh, sh)), 0o600))

	store, err := sqlstore.OpenAndMigrate(ctx, driver, dsn)
	check(err)
	defer store.Close()
	sealer, err := secret.NewSealer(key)
	check(err)
	sizes := []int{*flagAccounts}
	if *flagSizes != "" {
		sizes = parseInts(*flagSizes)
	}
	var rows []row
	seeded := 0
	for k, size := range sizes {
		began := time.Now()
		tn := 0
		if k == 0 {
			tn = totpN
		}
		check(seed(ctx, store, seeded, size, tn, sealer))
		seeded = max(seeded, size)
		if driver == "postgres" {
			// The bulk load leaves autovacuum work behind, whose CPU
			// would land on the first cells' PostgreSQL CPU per
			// operation (9.5 ms a login at 1M accounts, 3.9 at 10k):
			// do it now, as a steady server would have.
			check(vacuum(ctx, dsn))
		}
		fmt.Fprintf(os.Stderr, "%s: seeded up to %d accounts and %d TOTP accounts in %v\n", db, seeded, totpN, time.Since(began).Round(time.Millisecond))
		label := ""
		if *flagSizes != "" {
			label = fmt.Sprintf(" (%d accounts)", seeded)
		}
		rows = append(rows, runScenarios(ctx, store, sealer, bin, cfg, addr, db, postmaster, seeded, totpN, svcSecret, label, clients)...)
	}
	return rows
}

// vacuum runs VACUUM ANALYZE on the PostgreSQL database.
func vacuum(ctx context.Context, dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "VACUUM ANALYZE")
	return err
}

// runScenarios starts a server on the seeded database and runs every
// selected scenario at each client count.
func runScenarios(ctx context.Context, store *sqlstore.DB, sealer *secret.Sealer, bin, cfg, addr, db string, postmaster, accounts, totpN int, svcSecret, label string, clients []int) []row {
	srv, _ := startServer(bin, cfg, addr)
	defer srv.stop()
	e := &env{base: srv.base, accounts: accounts, totpN: totpN, db: store, outbox: notify.SealedOutbox{Outbox: store, Sealer: sealer}, svcSecret: svcSecret}
	var t tokenJSON
	check(newClient(srv.base).form("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "svc-opaque", svcSecret, &t))
	e.introToken = t.AccessToken

	var rows []row
	for _, s := range selected() {
		for _, n := range clients {
			r := runCell(e, srv, postmaster, s, n)
			r.db = db
			r.scenario += label
			fmt.Fprintf(os.Stderr, "%-8s %-18s %3d clients: %5d ops %7.1f/s p50 %6.1fms p99 %6.1fms cpu %.2fms pg %.2fms rss %d MiB errors %d %s\n",
				db, r.scenario, n, r.ops, r.opsPerSec, ms(r.p50), ms(r.p99), r.cpuMS, r.pgMS, r.peakRSS/1024, r.errs, r.firstErr)
			rows = append(rows, r)
		}
	}
	return rows
}

// hashing scenarios cost one argon2id hash per operation.
func hashing(name string) bool { return strings.Contains(name, "login") || name == "sign-up" }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func scaled(n int) int { return max(1, int(float64(n)**flagScale)) }

func selected() []scenario {
	if *flagScen == "" {
		return scenarios
	}
	var out []scenario
	for _, s := range scenarios {
		if slices.Contains(strings.Split(*flagScen, ","), s.name) {
			out = append(out, s)
		}
	}
	return out
}

func parseInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		out = append(out, n)
	}
	return out
}

func runCell(e *env, srv *server, postmaster int, s scenario, n int) row {
	ops := max(scaled(s.ops), n)
	r := row{scenario: s.name, clients: n, ops: ops}
	var raw rawRate
	if hashing(s.name) {
		raw = argon2Rate(false, 3) // and as many after the cell
	}
	cs := make([]*client, n)
	for i := range cs {
		// Each client is its own network, as n people signing in would
		// be (X-Forwarded-For through the trusted loopback proxy): the
		// hashing pool refuses one network that queues many hashes at
		// once (the flood of docs/security/abuse.md), not many people.
		cs[i] = newClient(srv.base).from(fmt.Sprintf("10.201.%d.1", i%250))
		cs[i].n = i
		if s.setup != nil {
			if err := s.setup(e, cs[i]); err != nil {
				r.errs, r.firstErr = ops, "setup: "+err.Error()
				return r
			}
		}
	}
	// A warm-up of a quarter of the operations (one per client at least),
	// not measured: a cell right after the server started would otherwise
	// carry the first use of each pooled connection (a new PostgreSQL
	// backend loads its catalog caches and plans each statement once: 4.6–5.9
	// PostgreSQL CPU-ms a login over 192 logins, 3.1 over 768). TOTP logins
	// are not warmed up: each seeded TOTP account signs in once.
	if s.name != "TOTP login" {
		warm := max(ops/4, n)
		var next atomic.Int64
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < warm; i = int(next.Add(1)) - 1 {
					s.op(e, c, ops+i)
				}
			})
		}
		wg.Wait()
	}
	pid := srv.cmd.Process.Pid
	resetPeakRSS(pid)
	cpu0, pg0, self0 := procCPU(pid, false), pgCPU(postmaster), selfCPU()
	lat := make([]time.Duration, ops)
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= ops {
					return
				}
				t0 := time.Now()
				if err := s.op(e, c, i); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, pg1, self1 := procCPU(pid, false), pgCPU(postmaster), selfCPU()
	if hashing(s.name) {
		raw = raw.plus(argon2Rate(false, 3))
		r.argon2, r.hashCPU = raw.perSec(), raw.cpuMS()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ok := max(ops-int(errs.Load()), 1)
	r.opsPerSec = float64(ops-int(errs.Load())) / elapsed.Seconds()
	r.p50, r.p99 = lat[ops/2], lat[min(ops-1, ops*99/100)]
	r.cpuMS = ms(cpu1-cpu0) / float64(ok)
	r.pgMS = ms(pg1-pg0) / float64(ok)
	r.clientMS = ms(self1-self0) / float64(ok)
	r.peakRSS = rssKiB(pid, "VmHWM")
	r.errs = int(errs.Load())
	if v, ok := firstErr.Load().(string); ok {
		r.firstErr = v
	}
	return r
}

// --- report --------------------------------------------------------------

type report struct {
	cores                     int
	argon2Before, argon2After float64
	hashCPU                   float64 // CPU-ms of one raw argon2id hash
	xcrypto, xcryptoCPU       float64 // the same for x/crypto's IDKey
	startup                   startup
	rows                      []row
}

func (rep report) markdown() string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Run %s on %s: %d cores, %s, Go %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, rep.cores, runtime.GOOS+"/"+runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&b, "Raw argon2id (m=19 MiB, t=2, p=1, one hash per core, internal/argon2 in kept memory as the server hashes): %.1f hashes/s at the start, %.1f at the end; one hash takes %.1f CPU-ms. golang.org/x/crypto/argon2.IDKey (fresh memory per hash): %.1f hashes/s, %.1f CPU-ms a hash.\n\n", rep.argon2Before, rep.argon2After, rep.hashCPU, rep.xcrypto, rep.xcryptoCPU)
	if rep.startup.first > 0 {
		fmt.Fprintf(&b, "Start to /healthz 200 (median of 5, SQLite): %.0f ms with a new database (migrations, first keys), %.0f ms with an existing one; idle RSS %.1f MiB.\n\n",
			ms(rep.startup.first), ms(rep.startup.again), float64(rep.startup.idleRSS)/1024)
	}
	b.WriteString("ops/s counts successful operations; CPU-ms are per successful operation. For the hashing scenarios, \"argon2id/s\" is the raw rate over rounds just before and just after the cell (their mean), \"% of argon2id\" the successful operations per second as a share of it, and \"beyond hash\" the server's CPU-ms per operation less one raw hash's CPU in those rounds. \"client CPU-ms/op\" is the benchmark's own (the HTTP clients), on the same cores.\n\n")
	b.WriteString("| database | scenario | clients | ops | errors | ops/s | argon2id/s | % of argon2id | p50 ms | p99 ms | server CPU-ms/op | beyond hash | PostgreSQL CPU-ms/op | client CPU-ms/op | peak RSS MiB |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.rows {
		rate, share, beyond := "", "", ""
		if r.argon2 > 0 {
			rate = fmt.Sprintf("%.1f", r.argon2)
			share = fmt.Sprintf("%.0f %%", 100*r.opsPerSec/r.argon2)
			beyond = fmt.Sprintf("%.1f", r.cpuMS-r.hashCPU)
		}
		pg := "–"
		if r.db == "postgres" {
			pg = fmt.Sprintf("%.2f", r.pgMS)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %.1f | %s | %s | %.1f | %.1f | %.2f | %s | %s | %.2f | %.0f |\n",
			r.db, r.scenario, r.clients, r.ops, r.errs, r.opsPerSec, rate, share, ms(r.p50), ms(r.p99), r.cpuMS, beyond, pg, r.clientMS, float64(r.peakRSS)/1024)
	}
	for _, r := range rep.rows {
		if r.firstErr != "" {
			fmt.Fprintf(&b, "\n%s %s %d clients, first error: `%s`", r.db, r.scenario, r.clients, strings.ReplaceAll(r.firstErr, "\n", " "))
		}
	}
	b.WriteString("\n")
	return b.String()
}
