package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// portvakt --help is made from the commands' own flag sets: every flag a
// command accepts is in its synopsis, and nothing else is.
func TestUsage_FromTheFlagSets(t *testing.T) {
	var out bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, nil, nil, &out, io.Discard); code != 0 {
		t.Fatalf("--help = %d", code)
	}
	text := out.String()
	for _, c := range commands {
		start := strings.Index(text, "  portvakt "+c.name+" ")
		if start < 0 {
			start = strings.Index(text, "  portvakt "+c.name+"\n")
		}
		if start < 0 {
			t.Errorf("--help lacks the command %q", c.name)
			continue
		}
		block := text[start:]
		block = block[:strings.Index(block, "\n      "+c.summary)]
		fs := flagSetOf(c.name)
		if fs == nil && c.name != "version" {
			t.Errorf("%s -h gave no flag set", c.name)
			continue
		}
		n := 0
		if fs != nil {
			fs.VisitAll(func(f *flag.Flag) {
				n++
				if !strings.Contains(block, "[--"+f.Name+" ") && !strings.Contains(block, "[--"+f.Name+"]") {
					t.Errorf("--help's %s lacks --%s:\n%s", c.name, f.Name, block)
				}
			})
		}
		if got := strings.Count(block, "[--"); got != n {
			t.Errorf("--help's %s names %d flags, the command has %d:\n%s", c.name, got, n, block)
		}
	}
	// The flags the issue found missing.
	for _, want := range []string{"--phone NUMBER", "--group GROUP", "--require-mfa", "--password-hash-stdin", "--profile NAME"} {
		if !strings.Contains(text, want) {
			t.Errorf("--help lacks %s", want)
		}
	}
	golden := filepath.Join("testdata", "usage.golden")
	if *update {
		os.WriteFile(golden, out.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if text != string(want) {
		t.Errorf("--help differs from %s (go test -update rewrites it):\n%s", golden, text)
	}

	// A command's own --help lists its flags with their meaning.
	var stderr bytes.Buffer
	run(t.Context(), []string{"user", "add", "--help"}, nil, nil, io.Discard, &stderr)
	for _, want := range []string{"portvakt user add [--config FILE]", "Create an account", "-phone number", "verified mobile number"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("user add --help lacks %q:\n%s", want, stderr.String())
		}
	}
}

// CLI commands print what they did and nothing of the OIDC library's
// chatter ("registered route …"), wherever the default logger pointed.
func TestCLI_NoLibraryLogs(t *testing.T) {
	var trap syncBuffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&trap, nil)))
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "cli.db")}
	for _, args := range [][]string{
		{"user", "add", "--username", "kari", "--email", "kari@example.no", "--name", "Kari"},
		{"client", "list"},
		{"user", "require-mfa", "--username", "kari"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), args, env, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("%v = %d:\n%s", args, code, stderr.String())
		}
		for name, s := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "the default logger": trap.String()} {
			if strings.Contains(s, "registered route") {
				t.Errorf("%v printed the OIDC library's logs to %s:\n%s", args, name, s)
			}
		}
		if stderr.Len() != 0 {
			t.Errorf("%v wrote to stderr:\n%s", args, stderr.String())
		}
	}
}
