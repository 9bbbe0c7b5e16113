package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal: what serve writes to tty, the test
// reads from pty.
func openPTY(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { pty.Close() })
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return pty, tty
}

// On a terminal, serve says in one line for a person
// where to open the browser, where mail goes and where the data is; the
// OIDC library's route list is not printed. In a pipe (a log collector)
// the line is left out.
func TestServe_TerminalLine(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	pty, tty := openPTY(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--profile", "udi", "--listen", addr}, nil, nil, io.Discard, tty)
	}()
	defer func() {
		cancel()
		<-done
	}()

	// Read what the terminal shows until the serving log line, at most
	// 64 reads.
	var shown strings.Builder
	buf := make([]byte, 4096)
	for i := 0; i < 64 && !strings.Contains(shown.String(), `"msg":"serving"`); i++ {
		n, err := pty.Read(buf)
		if err != nil {
			t.Fatalf("reading the terminal: %v\n%s", err, shown.String())
		}
		shown.Write(buf[:n])
	}
	out := shown.String()
	// The person's line is the one that is no JSON, before "serving".
	var first string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "{") {
			first = l
			break
		}
	}
	if strings.Index(out, first) > strings.Index(out, `"msg":"serving"`) {
		t.Errorf("the line for a person comes after the serving log line:\n%s", out)
	}
	db, _ := filepath.EvalSymlinks(filepath.Join(dir))
	for _, want := range []string{"UDI Min side is running", "open http://localhost:8080 in your browser",
		"mail and SMS codes: http://localhost:8080/dev/mail", "data in "} {
		if !strings.Contains(first, want) {
			t.Errorf("the terminal's line for a person lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(first, filepath.Join(dir, "udi.db")) && !strings.Contains(first, filepath.Join(db, "udi.db")) {
		t.Errorf("the first line does not say where the data is (%s):\n%s", filepath.Join(dir, "udi.db"), first)
	}
	if strings.Count(out, "is running") != 1 || strings.Contains(out, "registered route") {
		t.Errorf("the terminal shows more than one line for a person, or the library's routes:\n%s", out)
	}
}

// The library's logs go through Portvakt's logger: JSON, tagged, and a
// level lower (debug), so they show only when asked for.
func TestServe_LibraryLogsThroughOurLogger(t *testing.T) {
	for _, tt := range []struct {
		level  string
		routes bool
	}{{"info", false}, {"debug", true}} {
		t.Run("log.level "+tt.level, func(t *testing.T) {
			env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "l.db"), "PORTVAKT_LOG_LEVEL=" + tt.level}
			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(t.Context())
			stderr := new(syncBuffer)
			done := make(chan int, 1)
			go func() { done <- run(ctx, []string{"serve", "--listen", addr}, env, nil, io.Discard, stderr) }()
			waitGet(t, "http://"+addr+"/healthz", stderr)
			cancel()
			<-done
			out := stderr.String()
			got := strings.Contains(out, `{"time":`) && strings.Contains(out, `"level":"DEBUG","msg":"registered route","component":"library"`)
			if got != tt.routes || (!tt.routes && strings.Contains(out, "registered route")) {
				t.Errorf("at log.level %s, library route lines as JSON debug = %v, want %v:\n%s", tt.level, got, tt.routes, out)
			}
			if strings.Contains(out, "is running") {
				t.Errorf("serve printed the terminal line into a pipe:\n%s", out)
			}
		})
	}
}
