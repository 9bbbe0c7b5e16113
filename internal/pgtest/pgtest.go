package pgtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/portvakt/portvakt/internal/testwait"
)

// EnvDSN names the environment variable that points the tests at an
// existing PostgreSQL server instead of a throwaway cluster.
const EnvDSN = "PORTVAKT_TEST_POSTGRES_DSN"

// superuser is the role initdb creates; it owns the throwaway cluster.
const superuser = "portvakt"

// installHint ends every "PostgreSQL is missing" failure.
const installHint = "run the test command from the README, which installs Debian's postgresql package " +
	"(or: apt-get install -y --no-install-recommends postgresql), " +
	"or set " + EnvDSN + " to the DSN of an existing server"

// Cluster is a PostgreSQL server used by tests: either a throwaway cluster
// started by StartCluster, or the existing server named by
// PORTVAKT_TEST_POSTGRES_DSN.
//
// A Cluster is safe for concurrent use; tests running in parallel may call
// NewDatabase at the same time.
type Cluster struct {
	dsn      string // DSN of the maintenance database ("postgres")
	version  string // "PostgreSQL 15.14 (Debian …)"
	external bool   // true when the server came from EnvDSN
	admin    *sql.DB

	// Only for throwaway clusters.
	dir     string   // temp dir holding data/, log and the socket
	pgCtl   string   // absolute path of pg_ctl
	asOwner []string // "runuser -u postgres --" when running as root
	data    string   // data directory
	opts    string   // postgres options given to pg_ctl start
	logFile string
	watcher *exec.Cmd
	// watcherStdin is never written; the watcher acts when it closes.
	watcherStdin io.WriteCloser

	stopOnce sync.Once
	stopErr  error
}

// StartCluster starts a throwaway PostgreSQL cluster, or connects to the
// server named by PORTVAKT_TEST_POSTGRES_DSN when that is set. The caller
// must call Stop. Tests should use Start or Shared, which do that for them;
// StartCluster exists for code that has no testing.TB (such as TestMain).
//
// It returns an error, whose text says how to install PostgreSQL, if initdb
// and pg_ctl cannot be found.
func StartCluster() (*Cluster, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return connectExternal(dsn)
	}
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{pgCtl: filepath.Join(bin, "pg_ctl")}
	if err := c.start(bin); err != nil {
		c.removeDir()
		return nil, err
	}
	return c, nil
}

// DSN returns the URL of the cluster's maintenance database. On a
// throwaway cluster that database is empty and the role is a superuser.
func (c *Cluster) DSN() string { return c.dsn }

// Version returns the server's version, such as
// "PostgreSQL 15.14 (Debian 15.14-0+deb12u1)".
func (c *Cluster) Version() string { return c.version }

// String describes the cluster for logs.
func (c *Cluster) String() string {
	if c.external {
		return fmt.Sprintf("%s at %s (from %s)", c.version, redact(c.dsn), EnvDSN)
	}
	return fmt.Sprintf("%s, throwaway cluster in %s, DSN %s", c.version, c.dir, c.dsn)
}

// NewDatabase creates an empty database on the cluster and returns its
// DSN. The database is dropped (WITH (FORCE), so PostgreSQL 13 or newer) in
// tb.Cleanup; cleanups registered later, such as closing a connection pool,
// run before that.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, c.admin, c.dsn)
}

// Stop stops a throwaway cluster and removes its directory, or, for an
// existing server, closes the connection pgtest held to it. Only the first
// call does anything; later calls return the first call's result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

// StopServer stops the server of a throwaway cluster (a fast shutdown:
// sessions are ended, connections refused from then on) but keeps its data,
// so that a test can see how clients fare while the database is down.
// StartServer brings it back on the same port. A test that stops the
// server should own the cluster (Start or StartCluster), not share it.
func (c *Cluster) StopServer() error {
	if c.external {
		return errors.New("pgtest: cannot stop an existing server (" + EnvDSN + ")")
	}
	return c.pgCtlStop(c.data)
}

// StartServer starts the server StopServer stopped, with the same data,
// port and settings, and returns once it accepts connections.
func (c *Cluster) StartServer() error {
	if c.external {
		return errors.New("pgtest: cannot start an existing server (" + EnvDSN + ")")
	}
	out, err := c.run(c.pgCtl, "-D", c.data, "-o", c.opts, "-l", c.logFile, "-w", "-t", startWait(), "start")
	if err != nil {
		log, _ := os.ReadFile(c.logFile)
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s\nserver log:\n%s", err, out, log)
	}
	return nil
}

// Start starts a PostgreSQL cluster for this test alone and returns the DSN
// of an empty database on it; the cluster is stopped and removed in
// tb.Cleanup. With PORTVAKT_TEST_POSTGRES_DSN set it returns a fresh
// database on that server instead.
//
// Start never skips: if PostgreSQL is not installed the test fails with
// instructions. A package with several PostgreSQL tests should share one
// cluster through Main and Shared, which is much cheaper.
func Start(tb testing.TB) (dsn string) {
	tb.Helper()
	began := time.Now()
	c, err := StartCluster()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	tb.Logf("pgtest: %s (ready in %v)", c, time.Since(began).Round(time.Millisecond))
	if c.external {
		return c.NewDatabase(tb)
	}
	return c.DSN()
}

// CreateDatabase creates an empty database on the running server that dsn
// points to and returns the new database's DSN (dsn with the database name
// replaced). The role in dsn needs the CREATEDB privilege. The database is
// dropped in tb.Cleanup.
func CreateDatabase(tb testing.TB, dsn string) string {
	tb.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("pgtest: open %s: %v", redact(dsn), err)
	}
	// Registered first, so it runs after the DROP DATABASE cleanup.
	tb.Cleanup(func() { admin.Close() })
	return newDatabase(tb, admin, dsn)
}

// The shared cluster of this test binary; see Main and Shared.
var (
	mainRunning atomic.Bool
	shared      struct {
		once sync.Once
		c    *Cluster
		err  error
		took time.Duration
	}
)

// Main runs the tests of a package that uses Shared and then stops the
// shared cluster, if one was started. Call it as the whole body of
// TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Main does not return: it exits with the tests' status, or 1 if stopping
// the cluster failed.
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	if shared.c != nil {
		if err := shared.c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Shared returns the cluster shared by every test of this test binary,
// starting it on first use. Tests should take a database of their own with
// NewDatabase rather than use the cluster's maintenance database.
//
// Shared fails the test if the package's TestMain does not run Main (which
// stops the cluster when the tests end) or if the cluster cannot be
// started. It is safe for concurrent use.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	if !mainRunning.Load() {
		tb.Fatal("pgtest.Shared needs pgtest.Main to stop the cluster after the tests: " +
			"add func TestMain(m *testing.M) { pgtest.Main(m) } to the package's tests")
	}
	started := false
	shared.once.Do(func() {
		began := time.Now()
		shared.c, shared.err = StartCluster()
		shared.took, started = time.Since(began), true
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	if started {
		tb.Logf("pgtest: %s (ready in %v, shared by this test binary)",
			shared.c, shared.took.Round(time.Millisecond))
	}
	return shared.c
}

// debianBinaries is where Debian's postgresql-N packages put the server
// programs. A variable so that a test can pretend they are missing.
var debianBinaries = "/usr/lib/postgresql/*/bin"

// findBinaries returns the directory holding initdb and pg_ctl: the one on
// PATH if there is one, else the newest /usr/lib/postgresql/N/bin (Debian
// keeps the server binaries off PATH).
func findBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	debian, _ := filepath.Glob(debianBinaries)
	major := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(debian, func(a, b string) int { return cmp.Compare(major(b), major(a)) })
	dirs = append(dirs, debian...)
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: PostgreSQL server binaries not found "+
		"(looked for initdb and pg_ctl on PATH and in /usr/lib/postgresql/*/bin); %s", installHint)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// start runs initdb and pg_ctl start, retrying on a new port if another
// process took the chosen one in between.
func (c *Cluster) start(bin string) error {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	c.dir = dir
	if os.Geteuid() == 0 {
		// initdb refuses to run as root, so the cluster belongs to the
		// postgres system user that Debian's package creates.
		if err := c.runAsPostgres(); err != nil {
			return err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", superuser,
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}

	logFile := filepath.Join(dir, "log")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		// The cluster is thrown away, so durability is traded for speed.
		opts := fmt.Sprintf("-p %d -k %s -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
			port, shellQuote(dir))
		out, err := c.run(c.pgCtl, "-D", data, "-o", opts, "-l", logFile, "-w", "-t", startWait(), "start")
		if err == nil {
			c.dsn = fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", superuser, port)
			c.data, c.opts, c.logFile = data, opts, logFile
			break
		}
		log, _ := os.ReadFile(logFile)
		if attempt < 3 && strings.Contains(string(log), "could not bind") {
			continue // lost the race for the port
		}
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s\nserver log:\n%s", err, out, log)
	}
	if err := c.startWatcher(data); err != nil {
		c.pgCtlStop(data)
		return err
	}
	if err := c.connect(); err != nil {
		c.stop()
		return err
	}
	return nil
}

// runAsPostgres makes c.dir belong to the postgres user and makes c.run go
// through runuser.
func (c *Cluster) runAsPostgres() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the postgres system user: %w; %s", err, installHint)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs runuser (util-linux): %w", err)
	}
	c.asOwner = []string{runuser, "-u", "postgres", "--"}
	return nil
}

// run runs a PostgreSQL program as the cluster's owner and returns its
// combined output.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	argv := append(slices.Clone(c.asOwner), name)
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.dir // the postgres user may not be able to read our working directory
	return cmd.CombinedOutput()
}

// startWatcher starts a shell that waits for its stdin to reach EOF, which
// happens when this process exits for whatever reason, and then stops the
// server and removes the directory. Stop kills it after doing the same.
func (c *Cluster) startWatcher(data string) error {
	stop := append(slices.Clone(c.asOwner), c.pgCtl, "-D", data, "-m", "fast", "-w", "stop")
	cmd := exec.Command("/bin/sh", "-c", `read line; "$@" >/dev/null 2>&1; rm -rf "$PGTEST_DIR"`, "pgtest-watcher")
	cmd.Args = append(cmd.Args, stop...)
	cmd.Env = append(os.Environ(), "PGTEST_DIR="+c.dir)
	// Its own process group, so a Ctrl-C aimed at go test does not kill
	// the watcher before it has cleaned up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("pgtest: watcher: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: watcher: %w", err)
	}
	c.watcher, c.watcherStdin = cmd, stdin
	return nil
}

func (c *Cluster) pgCtlStop(data string) error {
	out, err := c.run(c.pgCtl, "-D", data, "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (c *Cluster) stop() error {
	var errs []error
	if c.admin != nil {
		errs = append(errs, c.admin.Close())
	}
	if c.external {
		return errors.Join(errs...)
	}
	errs = append(errs, c.pgCtlStop(filepath.Join(c.dir, "data")))
	if c.watcher != nil {
		// The server is down; the watcher has nothing left to do.
		c.watcher.Process.Kill()
		c.watcher.Wait()
	}
	errs = append(errs, c.removeDir())
	return errors.Join(errs...)
}

func (c *Cluster) removeDir() error {
	if c.dir == "" {
		return nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// startWait is how many seconds pg_ctl start waits for the server: a
// minute, scaled by PORTVAKT_TEST_TIMEOUT_SCALE (internal/testwait).
func startWait() string { return strconv.Itoa(int(testwait.D(time.Minute).Seconds())) }

// connect opens the admin pool and reads the server version.
func (c *Cluster) connect() error {
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		return fmt.Errorf("pgtest: open %s: %w", redact(c.dsn), err)
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), testwait.D(30*time.Second))
	defer cancel()
	var v string
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		db.Close()
		return fmt.Errorf("pgtest: connect to %s: %w", redact(c.dsn), err)
	}
	c.admin, c.version = db, "PostgreSQL "+v
	return nil
}

func connectExternal(dsn string) (*Cluster, error) {
	c := &Cluster{dsn: dsn, external: true}
	if err := c.connect(); err != nil {
		return nil, fmt.Errorf("%w (%s is set)", err, EnvDSN)
	}
	return c, nil
}

// newDatabase creates database t_<random> through admin, drops it in
// tb.Cleanup and returns dsn pointed at it.
func newDatabase(tb testing.TB, admin *sql.DB, dsn string) string {
	tb.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), testwait.D(time.Minute))
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: CREATE DATABASE %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testwait.D(time.Minute))
		defer cancel()
		// FORCE ends sessions a test forgot to close.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: DROP DATABASE %s: %v", name, err)
		}
	})
	newDSN, err := withDatabase(dsn, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return newDSN
}

// withDatabase returns dsn with its database name replaced. dsn is either a
// URL (postgres://…) or libpq keyword/value pairs, where a later dbname
// overrides an earlier one.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN %s: %w", redact(dsn), err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	return strings.TrimSpace(dsn) + " dbname=" + name, nil
}

// redact hides the password of a URL DSN so that it can be logged.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s for the sh -c that pg_ctl starts postgres with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
