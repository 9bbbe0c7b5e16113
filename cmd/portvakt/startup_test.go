package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestNoHeavyPackageInit: starting the binary (any command: serve, or a
// CLI command) runs no heavy package init. zxcvbn's dictionaries used to
// be built in init, 10 MB and about 60 ms of every start, though the
// default policy never scores; they are now built on first use (see
// third_party/zxcvbn/PORTVAKT.md). Measured in allocated bytes, which
// GODEBUG=inittrace reports exactly, not in time.
func TestNoHeavyPackageInit(t *testing.T) {
	if os.Getenv("PORTVAKT_INITTRACE_CHILD") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoHeavyPackageInit$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "PORTVAKT_INITTRACE_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run the test binary with inittrace: %v\n%s", err, stderr.String())
	}
	// The test binary also holds what only tests import (kin-openapi's
	// JSON Schema compiler for openapitest): count the binary's packages.
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	shipped := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		shipped[p] = true
	}
	const perPackage, total = 1 << 20, 4 << 20
	var sum int64
	sc := bufio.NewScanner(&stderr)
	seen := false
	for sc.Scan() {
		// init github.com/x/y @5.0 ms, 6.0 ms clock, 1524112 bytes, 8 allocs
		f := strings.Fields(sc.Text())
		if len(f) < 9 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		seen = true
		if !shipped[f[1]] {
			continue
		}
		n, err := strconv.ParseInt(f[7], 10, 64)
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		sum += n
		if n > perPackage && !strings.HasPrefix(f[1], "runtime") {
			t.Errorf("package init of %s allocates %d bytes, more than %d: load it on first use", f[1], n, perPackage)
		}
		if strings.HasPrefix(f[1], "github.com/trustelem/zxcvbn/matching") && n > 64<<10 {
			t.Errorf("zxcvbn's dictionaries are built in package init (%d bytes)", n)
		}
	}
	if !seen {
		t.Fatalf("no inittrace lines in:\n%s", stderr.String())
	}
	if sum > total {
		t.Errorf("package init allocates %d bytes in all, more than %d", sum, total)
	}
}
