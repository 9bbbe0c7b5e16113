package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// portvakt user grant-role and revoke-role take an account by its email
// address and are audited with the operator's login; portvakt audit
// export writes the log as JSON lines, newest first, from --since on.
func TestAuditExportAndRoles(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "a.db")
	env := []string{"PORTVAKT_DATABASE_DSN=" + dsn, "USER=ops-kari"}
	runOK := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(t.Context(), args, env, strings.NewReader(stdin), &out, &errOut); code != 0 {
			t.Fatalf("%v = %d\n%s%s", args, code, out.String(), errOut.String())
		}
		return out.String()
	}
	runOK("correct horse battery staple\n", "user", "add", "--email", "sup@example.no", "--name", "Sup Port", "--password-stdin")
	runOK("", "user", "grant-role", "--user", "SUP@example.no", "--role", "support", "--reason", "ticket 1: new colleague")
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"user", "grant-role", "--user", "sup@example.no", "--role", "root", "--reason", "just because"}, env, strings.NewReader(""), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "support, admin") {
		t.Errorf("grant-role --role root = %d %q", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run(t.Context(), []string{"user", "grant-role", "--user", "nobody@example.no", "--role", "admin", "--reason", "ticket 2"}, env, strings.NewReader(""), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "account") {
		t.Errorf("grant-role for an unknown address = %d %q", code, errOut.String())
	}
	runOK("", "user", "revoke-role", "--user", "sup@example.no", "--role", "support", "--reason", "ticket 3: left")

	lines := strings.Split(strings.TrimSpace(runOK("", "audit", "export", "--since", "1h")), "\n")
	var kinds []string
	for _, l := range lines {
		var e struct {
			Kind, ActorKind, ActorID, Reason string
			At                               time.Time
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		kinds = append(kinds, e.Kind)
		if strings.HasPrefix(e.Kind, "role.") && (e.ActorKind != "" && e.ActorKind != "operator") {
			t.Errorf("role event by %q", e.ActorKind)
		}
	}
	want := []string{"audit.exported", "role.revoked", "role.granted", "account.created"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("export kinds = %v, want %v", kinds, want)
	}
	if !strings.Contains(lines[1], `"actor_id":"cli:ops-kari"`) || !strings.Contains(lines[1], `"reason":"ticket 3: left"`) {
		t.Errorf("revoke event = %s", lines[1])
	}
	if out := runOK("", "audit", "export", "--since", "2999-01-01"); strings.TrimSpace(out) != "" {
		t.Errorf("export from the future = %q", out)
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"audit", "export", "--since", "yesterday"}, env, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Errorf("--since yesterday = %d, want 2", code)
	}
}
