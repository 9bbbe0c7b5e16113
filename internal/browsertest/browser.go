package browsertest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portvakt/portvakt/internal/testwait"
)

// EnvChromium names the environment variable that, when set, points to the
// chromium binary to use instead of searching for one.
const EnvChromium = "PORTVAKT_CHROMIUM"

// startTimeout bounds how long launching chromium may take. It is generous
// because the machines that run the tests are shared and small.
const startTimeout = 30 * time.Second

// The size of every browser window.
const windowWidth, windowHeight = 1280, 900

// closeTimeout bounds the graceful shutdown of chromium before it is killed.
const closeTimeout = 5 * time.Second

// candidates are the chromium binaries tried, in order, when EnvChromium is
// unset. Entries without a slash are looked up on PATH.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser"}

// errNoChromium is returned by findChromium when no binary was found.
var errNoChromium = errors.New("no chromium binary found (looked for $" + EnvChromium +
	", /usr/bin/chromium, and chromium and chromium-browser on PATH); " +
	"run the tests with `make test` as the README says, which installs chromium")

// A Browser is one headless chromium process. Pages opened with NewPage are
// isolated from each other, so one process can serve many tests.
type Browser struct {
	tb      testing.TB // nil for the shared browser
	exe     string
	dataDir string
	out     *tailBuffer
	logs    *logRing

	allocCancel context.CancelFunc
	ctx         context.Context // the first tab; carries the chromedp browser
	cancel      context.CancelFunc

	mu     sync.Mutex
	nextID int
	pages  map[*Page]struct{}
	closed bool
}

// Start launches a headless chromium for tb and stops it when tb's cleanup
// runs. If no chromium is installed, Start fails the test; it never skips.
func Start(tb testing.TB) *Browser {
	tb.Helper()
	b, err := launch()
	if err != nil {
		tb.Fatalf("browsertest.Start: %v", err)
		return nil
	}
	b.tb = tb
	tb.Cleanup(func() {
		if err := b.close(); err != nil {
			tb.Logf("browsertest: closing chromium: %v", err)
		}
	})
	return b
}

var shared struct {
	mu      sync.Mutex
	main    bool // Main is running the tests
	started bool
	b       *Browser
	err     error
}

// Shared returns the package's shared browser, launching it on first use.
// The package's TestMain must call Main, which stops the browser after the
// last test; Shared fails the test if it does not. Shared is safe to call from
// parallel tests.
func Shared(tb testing.TB) *Browser {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.main {
		tb.Fatalf("browsertest.Shared: the package's TestMain must call browsertest.Main(m); or use browsertest.Start(t)")
		return nil
	}
	if !shared.started {
		shared.started = true
		shared.b, shared.err = launch()
	}
	if shared.err != nil {
		tb.Fatalf("browsertest.Shared: %v", shared.err)
		return nil
	}
	return shared.b
}

// EnvParallel names the environment variable that bounds how many tests
// of a package that calls Main run at once (go test's -parallel), by
// default DefaultParallel. An explicit -parallel flag wins.
const EnvParallel = "PORTVAKT_BROWSER_PARALLEL"

// DefaultParallel is how many browser tests of a package run at once when
// neither -parallel nor PORTVAKT_BROWSER_PARALLEL says: each journey is a
// server, a tab and a renderer, and more than two at a time only make
// every one of them slower on the small shared machines the tests run on,
// whatever GOMAXPROCS says.
const DefaultParallel = 2

// boundParallel sets go test's -parallel to the browser bound, unless the
// command line set it.
func boundParallel() error {
	if !flag.Parsed() {
		flag.Parse()
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if explicit {
		return nil
	}
	n := DefaultParallel
	if v := os.Getenv(EnvParallel); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("%s=%q is not a positive number", EnvParallel, v)
		}
	}
	return flag.Set("test.parallel", strconv.Itoa(n))
}

// Main runs the tests and then stops the browser that Shared started, if
// any. It also bounds how many of them run at once (EnvParallel). Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
// Main does not return; it exits with the tests' exit code.
func Main(m *testing.M) {
	if err := boundParallel(); err != nil {
		fmt.Fprintf(os.Stderr, "browsertest: %v\n", err)
		os.Exit(2)
	}
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	b := shared.b
	shared.mu.Unlock()
	if b != nil {
		if err := b.close(); err != nil {
			fmt.Fprintf(os.Stderr, "browsertest: closing shared chromium: %v\n", err)
		}
	}
	os.Exit(code)
}

// findChromium returns the chromium binary to run.
func findChromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("$%s=%q: %w", EnvChromium, p, err)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("$%s=%q is not an executable file", EnvChromium, p)
		}
		return p, nil
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		} else if !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: %w", c, err)
		}
	}
	return "", errNoChromium
}

// launch starts chromium and attaches to its first tab.
func launch() (*Browser, error) {
	exe, err := findChromium()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "portvakt-chromium-")
	if err != nil {
		return nil, err
	}
	b := &Browser{
		exe:     exe,
		dataDir: dataDir,
		out:     &tailBuffer{max: 16 << 10},
		logs:    newLogRing(200),
		pages:   make(map[*Page]struct{}),
	}

	opts := append([]chromedp.ExecAllocatorOption(nil), chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// A fixed UI language, so the default Accept-Language does not
		// depend on the machine's $LANG.
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(windowWidth, windowHeight),
		chromedp.CombinedOutput(b.out),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(b.logs.printf),
		chromedp.WithBrowserOption(chromedp.WithBrowserErrorf(b.logs.printf)),
	)
	b.allocCancel, b.ctx, b.cancel = allocCancel, ctx, cancel

	// The first Run allocates the browser and must get the long-lived
	// context, so bound it with a watchdog instead of a deadline.
	watchdog := time.AfterFunc(testwait.D(startTimeout), cancel)
	err = chromedp.Run(ctx)
	if !watchdog.Stop() {
		err = fmt.Errorf("no answer within %v", testwait.D(startTimeout))
	}
	if err != nil {
		cancel()
		allocCancel()
		os.RemoveAll(dataDir)
		return nil, fmt.Errorf("starting %s: %w\nchromium output:\n%s", exe, err, b.out.String())
	}
	return b, nil
}

// close closes the pages still open, stops chromium and removes its data
// directory.
func (b *Browser) close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	pages := make([]*Page, 0, len(b.pages))
	for p := range b.pages {
		pages = append(pages, p)
	}
	b.mu.Unlock()

	for _, p := range pages {
		p.cleanup()
	}

	ctx, cancel := context.WithTimeout(b.ctx, testwait.D(closeTimeout))
	err := chromedp.Cancel(ctx)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil // killed below
	}
	b.cancel()
	b.allocCancel() // kills the process if it is still running and waits for it
	if rerr := removeAll(b.dataDir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// removeAll removes dir, retrying briefly because chromium's helper
// processes may still be writing to it right after the browser exits.
func removeAll(dir string) error {
	var err error
	for range 10 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// logRing keeps the last lines logged to it.
type logRing struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func newLogRing(max int) *logRing { return &logRing{max: max} }

func (r *logRing) printf(format string, args ...any) {
	r.add(fmt.Sprintf(format, args...))
}

func (r *logRing) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, time.Now().Format("15:04:05.000 ")+line)
	if over := len(r.lines) - r.max; over > 0 {
		r.lines = append(r.lines[:0], r.lines[over:]...)
	}
}

func (r *logRing) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s string
	for _, l := range r.lines {
		s += l + "\n"
	}
	return s
}
