package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/examples/profiles"
	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// An operator adds an organisation, makes a person its administrator and
// another a member with one right, and lists them; mistakes are told in
// the deployment's language (the Altinn profile: Bokmål).
func TestOrgCommands(t *testing.T) {
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "o.db")}
	base, err := profiles.Get("altinn")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadProfile("", base, "", env)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"01017012343", "15038512363"} {
		if _, err := a.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: u, Password: "Hemmeligordetmitt42"}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()

	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append(args, "--profile", "altinn"), env, nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cli("org", "add", "--number", "912 345 678", "--name", "Fjordkraft Regnskap AS"); code != 0 || !strings.Contains(out, "912345678 Fjordkraft Regnskap AS") {
		t.Errorf("org add = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("org", "add", "--number", "912345678", "--name", "Igjen AS"); code != 1 || !strings.Contains(errOut, "finnes allerede en organisasjon med nummer 912345678") {
		t.Errorf("org add (taken) = %d %q", code, errOut)
	}
	if code, _, errOut := cli("org", "add", "--number", "12ab", "--name", "X"); code != 1 || !strings.Contains(errOut, "6 til 20 sifre") {
		t.Errorf("org add (bad number) = %d %q", code, errOut)
	}
	if code, out, errOut := cli("org", "member", "add", "--org", "912345678", "--account", "01017012343", "--role", "admin"); code != 0 || !strings.Contains(out, "is admin of 912345678") {
		t.Errorf("org member add (admin) = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := cli("org", "member", "add", "--org", "912345678", "--account", "15038512363", "--rights", "altinn:submit"); code != 0 || !strings.Contains(out, "is member of 912345678 with rights: altinn:submit") {
		t.Errorf("org member add (member) = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("org", "member", "add", "--org", "912345678", "--account", "15038512363", "--rights", "altinn:everything"); code != 1 || !strings.Contains(errOut, "«altinn:everything» er ikke en rettighet") {
		t.Errorf("org member add (unknown right) = %d %q", code, errOut)
	}
	if code, _, errOut := cli("org", "member", "add", "--org", "999999999", "--account", "15038512363"); code != 1 || !strings.Contains(errOut, "ingen organisasjon med nummer 999999999") {
		t.Errorf("org member add (unknown org) = %d %q", code, errOut)
	}
	if code, out, errOut := cli("org", "list"); code != 0 || !strings.Contains(out, "912345678") || !strings.Contains(out, "Fjordkraft Regnskap AS  2") {
		t.Errorf("org list = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := cli("org", "list", "--org", "912345678"); code != 0 || !strings.Contains(out, "01017012343") || !strings.Contains(out, "admin") || !strings.Contains(out, "altinn:submit") {
		t.Errorf("org list --org = %d %q %q", code, out, errOut)
	}
}
