package flow_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// What a sign-in costs besides its hash is mostly its round trips to the
// database: on PostgreSQL each is a wake-up of a backend, and PostgreSQL's
// CPU per sign-in was about proportional to their number (issue 12). The
// test below pins how many statements each journey sends; the benchmarks
// measure the CPU and allocations of a sign-in with a near-free hash.
//
//	go test -run '^$' -bench 'SignInOverhead' -benchmem ./internal/flow/

// stmtLog records the statements a store sends (sqlstore.Options.Trace).
type stmtLog struct {
	mu    sync.Mutex
	on    bool
	stmts []string
}

func (l *stmtLog) trace(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.stmts = append(l.stmts, strings.Join(strings.Fields(q), " "))
	}
}

// during returns the statements sent while fn ran.
func (l *stmtLog) during(fn func()) []string {
	l.mu.Lock()
	l.on, l.stmts = true, nil
	l.mu.Unlock()
	fn()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.stmts
}

// newTracedEnv is newEnvWith with every statement passed to log; it
// returns the DSN too.
func newTracedEnv(t testing.TB, driver string, h *password.Hasher, log *stmtLog) (*env, string) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "flow.db")
	if driver == "postgres" {
		dsn = pgtest.Shared(t).NewDatabase(t)
	}
	db, err := sqlstore.OpenWith(context.Background(), driver, dsn, sqlstore.Options{Trace: log.trace})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return newEnvOn(t, db, h), dsn
}

// withTOTPAccount makes the account of email use an authenticator (and
// the second step) and returns its secret.
func withTOTPAccount(t testing.TB, e *env, email string) string {
	t.Helper()
	withMFA(t, e, flow.MFAOptional, 0)
	res, err := e.svc.LoginPassword(t.Context(), browserA, mustStartLogin(t, e, browserA, email), goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	who := flow.Who{Account: res.Account, Session: res.Session}
	en, err := e.svc.StartTOTP(t.Context(), who)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.Code(en.Secret, e.clock.Now())
	if _, err := e.svc.ConfirmTOTP(t.Context(), browserA, who, en.FactorID, code); err != nil {
		t.Fatal(err)
	}
	return en.Secret
}

func mustStartLogin(t testing.TB, e *env, c flow.Client, email string) string {
	t.Helper()
	f, err := e.svc.StartLogin(t.Context(), c, email, false)
	if err != nil {
		t.Fatal(err)
	}
	return f.ID
}

// totpSignIn is a whole sign-in with an authenticator: the address, the
// password, the page of the second step, the code.
func totpSignIn(t testing.TB, e *env, c flow.Client, email, seed string) {
	t.Helper()
	e.clock.Advance(30 * time.Second) // a new TOTP step: each code works once
	res, err := e.svc.LoginPassword(t.Context(), c, mustStartLogin(t, e, c, email), goodPassword)
	if err != nil || res.Pending == "" {
		t.Fatalf("password step = %+v, %v; want a second step", res, err)
	}
	pf, err := e.svc.Factor(t.Context(), c, res.Pending)
	if err != nil {
		t.Fatal(err)
	}
	key := ""
	for _, o := range pf.Options {
		if o.Method == authn.TOTP {
			key = o.Key()
		}
	}
	code, _ := totp.Code(seed, e.clock.Now())
	if out, err := e.svc.VerifyFactor(t.Context(), c, res.Pending, key, code, false); err != nil || out.Token == "" {
		t.Fatalf("VerifyFactor = %+v, %v", out, err)
	}
}

// TestSignInRoundTrips pins the statements a password sign-in, a sign-in
// with an authenticator and a sign-up send, on both databases. A change
// that adds one should say why in this table.
func TestSignInRoundTrips(t *testing.T) {
	for _, c := range []struct {
		name string
		keys bool // WebAuthn on, as by default
		want map[string]int
	}{
		// PostgreSQL records the activity in one statement, SQLite in two
		// (sqlstore.MarkActive: its RETURNING sees only the new row). The
		// counters checked before the hash come with the account
		// (GetLoginCountingByEmail), those after it are read again
		// (throttle.Accept), and a known device is one UPDATE (SeeDevice).
		// A sign-up's first device is a transaction of its own. An unknown
		// address costs what a wrong password does.
		{"sqlite", false, map[string]int{"password": 10, "wrong": 4, "unknown": 4, "totp": 29, "signup": 35}},
		{"postgres", false, map[string]int{"password": 9, "wrong": 4, "unknown": 4, "totp": 28, "signup": 34}},
		{"sqlite", true, map[string]int{"password": 10, "wrong": 4, "unknown": 4, "totp": 32, "signup": 35}},
		{"postgres", true, map[string]int{"password": 9, "wrong": 4, "unknown": 4, "totp": 31, "signup": 34}},
	} {
		driver, want, name := c.name, c.want, c.name
		if c.keys {
			name += "/webauthn"
		}
		t.Run(name, func(t *testing.T) {
			log := &stmtLog{}
			e, _ := newTracedEnv(t, driver, fastHasher(t), log)
			if c.keys {
				w, err := webauthn.New(webauthn.Config{RPID: "localhost", RPName: "Portvakt", Origins: []string{"http://localhost:8080"}})
				if err != nil {
					t.Fatal(err)
				}
				e.svc.WebAuthn = w
			}
			if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Email: "kari@example.no", Name: "Kari", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Email: "ola@example.no", Name: "Ola", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			passwordSignIn := func() {
				e.clock.Advance(time.Minute) // time moves between sign-ins, as it does
				res, err := e.svc.LoginPassword(t.Context(), browserB, mustStartLogin(t, e, browserB, "kari@example.no"), goodPassword)
				if err != nil || res.Token == "" {
					t.Fatalf("LoginPassword = %+v, %v", res, err)
				}
			}
			passwordSignIn() // the browser is a known device from now on
			check := func(name string, stmts []string) {
				t.Helper()
				for i, s := range stmts {
					t.Logf("%s %2d %.140s", name, i+1, s)
				}
				t.Logf("%s: %d statements", name, len(stmts))
				if len(stmts) > want[name] {
					t.Errorf("%s: %d statements, want at most %d", name, len(stmts), want[name])
				}
			}
			check("password", log.during(passwordSignIn))
			wrong := log.during(func() {
				_, err := e.svc.LoginPassword(t.Context(), browserB, mustStartLogin(t, e, browserB, "kari@example.no"), "not the password at all")
				wantProblem(t, err, "login.wrong_credentials")
			})
			check("wrong", wrong)
			// An address no account has costs the statements a wrong
			// password does, so their number tells nothing.
			unknown := log.during(func() {
				_, err := e.svc.LoginPassword(t.Context(), browserB, mustStartLogin(t, e, browserB, "nobody@example.no"), "not the password at all")
				wantProblem(t, err, "login.wrong_credentials")
			})
			check("unknown", unknown)
			if len(unknown) != len(wrong) {
				t.Errorf("an unknown address: %d statements, a wrong password: %d; want as many", len(unknown), len(wrong))
			}
			seed := withTOTPAccount(t, e, "ola@example.no")
			if c.keys {
				e.svc.MFA.Methods = append(e.svc.MFA.Methods, authn.WebAuthn)
			}
			totpSignIn(t, e, browserB, "ola@example.no", seed) // a known device
			check("totp", log.during(func() { totpSignIn(t, e, browserB, "ola@example.no", seed) }))
			check("signup", log.during(func() {
				if res := signUp(t, e, "new@example.no"); res.Token == "" {
					t.Fatalf("sign-up = %+v", res)
				}
			}))
		})
	}
}

// processCPU is the user and system CPU this process has used (on SQLite
// the database's too: it runs inside the process).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgCPU is the CPU of the PostgreSQL cluster that serves dsn (found by
// its port): the postmaster, the backends it has reaped, and every live
// child. 0 for SQLite.
func pgCPU(dsn string) time.Duration {
	u, err := url.Parse(dsn)
	if err != nil || u.Port() == "" {
		return 0
	}
	procs, _ := os.ReadDir("/proc")
	stat := func(pid string) []string {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return nil
		}
		s := string(b)
		return strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	}
	ticks := func(f []string, idx ...int) (n int) {
		for _, i := range idx {
			v, _ := strconv.Atoi(f[i])
			n += v
		}
		return n
	}
	postmaster := ""
	for _, p := range procs {
		cmd, _ := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if args := strings.Split(string(cmd), "\x00"); strings.HasSuffix(args[0], "postgres") && slices.Contains(args, u.Port()) {
			postmaster = p.Name()
			break
		}
	}
	if postmaster == "" {
		return 0
	}
	// Fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
	total := ticks(stat(postmaster), 11, 12, 13, 14)
	for _, p := range procs {
		if f := stat(p.Name()); f != nil && f[1] == postmaster {
			total += ticks(f, 11, 12)
		}
	}
	return time.Duration(total) * 10 * time.Millisecond // USER_HZ is 100
}

// BenchmarkSignInOverhead is a password sign-in by address (StartLogin
// and LoginPassword) with a near-free hash, on each database: the CPU and
// allocations a sign-in costs in Portvakt besides its hash, and the
// statements it sends.
func BenchmarkSignInOverhead(b *testing.B) {
	h, err := password.NewHasher(password.Argon2Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run(driver+"/password", func(b *testing.B) {
			log := &stmtLog{}
			e, dsn := newTracedEnv(b, driver, h, log)
			if _, err := e.svc.CreateAccount(b.Context(), flow.NewAccount{Email: "kari@example.no", Name: "Kari", Password: goodPassword}); err != nil {
				b.Fatal(err)
			}
			var n int
			b.ReportAllocs()
			cpu, pg := processCPU(), pgCPU(dsn)
			for b.Loop() {
				e.clock.Advance(time.Second) // so the sign-in has activity to record
				n += len(log.during(func() {
					if _, err := e.svc.LoginPassword(b.Context(), browserA, mustStartLogin(b, e, browserA, "kari@example.no"), goodPassword); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			if driver == "postgres" {
				b.ReportMetric(float64((pgCPU(dsn)-pg).Microseconds())/float64(b.N), "pg-cpu-µs/op")
			}
			b.ReportMetric(float64(n)/float64(b.N), "stmts/op")
		})
		b.Run(driver+"/totp", func(b *testing.B) {
			log := &stmtLog{}
			e, dsn := newTracedEnv(b, driver, h, log)
			if _, err := e.svc.CreateAccount(b.Context(), flow.NewAccount{Email: "ola@example.no", Name: "Ola", Password: goodPassword}); err != nil {
				b.Fatal(err)
			}
			seed := withTOTPAccount(b, e, "ola@example.no")
			var n int
			b.ReportAllocs()
			cpu, pg := processCPU(), pgCPU(dsn)
			for b.Loop() {
				n += len(log.during(func() { totpSignIn(b, e, browserA, "ola@example.no", seed) }))
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			if driver == "postgres" {
				b.ReportMetric(float64((pgCPU(dsn)-pg).Microseconds())/float64(b.N), "pg-cpu-µs/op")
			}
			b.ReportMetric(float64(n)/float64(b.N), "stmts/op")
		})
	}
}
