package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
)

func TestUpstreamList_VismaConnectInButtonOrder(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"upstream", "list", "--profile", "visma-connect"}, nil, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("upstream list = %d: %s", code, errb.String())
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		ids = append(ids, strings.Fields(line)[0])
	}
	if got := strings.Join(ids, " "); got != "facebook github google linkedin idporten adfs" {
		t.Errorf("upstream list order = %s", got)
	}
}

func TestUpstreamCheck(t *testing.T) {
	idp := upstreamtest.New(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "portvakt.yaml")
	yaml := "database: {dsn: " + filepath.Join(dir, "p.db") + "}\nupstreams:\n" +
		"  - {id: idporten, preset: idporten, issuer: \"" + idp.Issuer + "\", client_id: portvakt}\n" +
		"  - {id: wrong, preset: google, issuer: \"" + idp.Issuer + "/\", client_id: portvakt}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PORTVAKT_UPSTREAMS_IDPORTEN_CLIENT_SECRET=s"}
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"upstream", "check", "--config", file, "idporten"}, env, strings.NewReader(""), &out, &errb); code != 0 || !strings.Contains(out.String(), "upstream is valid") {
		t.Errorf("check idporten = %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(t.Context(), []string{"upstream", "check", "--config", file, "wrong"}, env, strings.NewReader(""), &out, &errb); code != 1 || !strings.Contains(errb.String(), "discovery names issuer") {
		t.Errorf("check of an issuer with a trailing slash = %d\n%s%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := run(t.Context(), []string{"upstream", "check", "--config", file, "nobody"}, env, strings.NewReader(""), &out, &errb); code != 1 || !strings.Contains(errb.String(), `no upstream "nobody"`) {
		t.Errorf("check nobody = %d %s", code, errb.String())
	}
}
