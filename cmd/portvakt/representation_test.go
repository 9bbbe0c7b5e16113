package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// An operator who must approve persons without an account lists what
// waits, approves it (once), and can end it.
func TestRepresentationCommands(t *testing.T) {
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "r.db"),
		"PORTVAKT_REPRESENTATION_ENABLED=true", "PORTVAKT_REPRESENTATION_REQUIRE_APPROVAL=true"}
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kari, err := a.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari Nordmann", Email: "kari@example.no"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Web.Representation.AddPerson(t.Context(), kari, account.DelegationRequest{Name: "Ola Nordmann", BirthDate: "2019-03-14"})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, env, nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cli("representation", "pending"); code != 0 || !strings.Contains(out, d.ID) || !strings.Contains(out, "Ola Nordmann") || !strings.Contains(out, "2019-03-14") {
		t.Errorf("representation pending = %d %q %q, want Ola's delegation", code, out, errOut)
	}
	if code, out, errOut := cli("representation", "approve", d.ID); code != 0 || !strings.Contains(out, "approved "+d.ID) {
		t.Errorf("representation approve = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("representation", "approve", d.ID); code != 1 || !strings.Contains(errOut, "does not wait for approval") {
		t.Errorf("a second approve = %d %q, want 1 and why", code, errOut)
	}
	if code, out, _ := cli("representation", "pending"); code != 0 || strings.Contains(out, d.ID) {
		t.Errorf("after approval pending lists %q", out)
	}
	if code, out, errOut := cli("representation", "revoke", d.ID); code != 0 || !strings.Contains(out, "revoked "+d.ID) {
		t.Errorf("representation revoke = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("representation", "approve"); code != 2 || !strings.Contains(errOut, "takes 1") {
		t.Errorf("approve without an ID = %d %q, want 2", code, errOut)
	}
}
