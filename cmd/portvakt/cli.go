package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// commands lists every command for the usage text, in the order shown.
// The flags are not written here: usage asks each command for its flag
// set, so the text cannot drift from what the commands accept.
var commands = []struct {
	name    string // as typed: "user add"
	args    string // positional arguments after the flags, if any
	summary string
}{
	{"serve", "", "run the server"},
	{"migrate", "", "apply database migrations"},
	{"config check", "", "validate a configuration, and open its database (--online: and check that SMTP and SMS answer)"},
	{"config init", "", "write an example configuration with every key commented"},
	{"user add", "", "create an account (without a password: mail an invitation to choose one)"},
	{"user require-mfa", "", "make an account set up a second factor at its next sign-in"},
	{"user grant-role", "", "give an account the support or admin role (the support console at /admin)"},
	{"user revoke-role", "", "take a role away"},
	{"client add", "", "register an app; prints its client_id and secret (once)"},
	{"client list", "", "list the apps"},
	{"client remove", "CLIENT_ID", "remove an app"},
	{"representation pending", "", "list the persons without an account, recorded by someone who acts for them, that wait for approval"},
	{"representation approve", "ID", "approve that someone acts for a person without an account (representation.require_approval)"},
	{"representation revoke", "ID", "end a representation"},
	{"org add", "", "add an organisation (number and name) whose members act for it through systems and rights"},
	{"org member add", "", "add an account to an organisation, or change its role and rights"},
	{"org list", "", "list the organisations, or one organisation's members (--org)"},
	{"policy check", "< password", "print every rule the password on standard input breaks"},
	{"upstream list", "", "list the upstream identity providers, in the order of the sign-in buttons"},
	{"upstream check", "ID", "validate an upstream's configuration and fetch its discovery document"},
	{"lifecycle run", "", "warn and delete unused accounts, delete those whose user asked, now (--dry-run: only list)"},
	{"audit export", "", "write the audit log as JSON lines, newest first (--since 30d)"},
	{"healthcheck", "", "exit 0 when the server's /readyz answers 200 (for a container HEALTHCHECK)"},
	{"version", "", "print the version"},
}

// flagCollector is the stderr usage passes to a command asked for -h: the
// command's flag set records itself instead of printing.
type flagCollector struct {
	io.Writer
	fs *flag.FlagSet
}

// newFlags returns a command's flag set. Asked for -h or --help it
// prints the command's usage and its flags to stderr (or, for usage,
// hands itself over).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if c, ok := stderr.(*flagCollector); ok {
			c.fs = fs
			return
		}
		fmt.Fprintf(stderr, "Usage:\n  %s\n\n", wrap(synopsis(name, fs), 6))
		for _, c := range commands {
			if c.name == name {
				fmt.Fprintf(stderr, "%s.\n\n", upperFirst(c.summary))
			}
		}
		fs.PrintDefaults()
	}
	return fs
}

// flagSetOf returns the flag set of the named command, by running it with
// -h; nil for a command without flags.
func flagSetOf(name string) *flag.FlagSet {
	c := &flagCollector{Writer: io.Discard}
	args := append(strings.Fields(name), "-h")
	run(context.Background(), args, nil, strings.NewReader(""), io.Discard, c)
	return c.fs
}

// synopsis is "portvakt NAME [--flag VALUE]… ARGS" for a flag set.
func synopsis(name string, fs *flag.FlagSet) string {
	parts := []string{"portvakt", name}
	if fs != nil {
		fs.VisitAll(func(f *flag.Flag) {
			value, _ := flag.UnquoteUsage(f)
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				parts = append(parts, "[--"+f.Name+"]")
				return
			}
			if value == "" {
				value = "value"
			}
			parts = append(parts, "[--"+f.Name+" "+strings.ToUpper(value)+"]")
		})
	}
	for _, c := range commands {
		if c.name == name && c.args != "" {
			parts = append(parts, c.args)
		}
	}
	return strings.Join(parts, " ")
}

// usage is the text of portvakt --help, made from the commands' flag sets.
func usage() string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n      %s\n", wrap(synopsis(c.name, flagSetOf(c.name)), 6), c.summary)
	}
	b.WriteString(`
Run "portvakt COMMAND --help" for what each flag means.

--profile runs one of the seed portals (examples/profiles) on this machine;
--config is read over it. Every configuration key can be set with an
environment variable (database.dsn is PORTVAKT_DATABASE_DSN), and read
from a file with _FILE (PORTVAKT_MAIL_SMTP_PASSWORD_FILE=/run/secrets/smtp).
`)
	return b.String()
}

// wrap breaks a synopsis before a flag so that no line is longer than
// 100 characters, indenting continuation lines by indent spaces.
func wrap(s string, indent int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.SplitAfter(s, "] ") {
		if i > 0 && line+len(w) > 100-2 {
			trimmed := strings.TrimRight(b.String(), " ")
			b.Reset()
			b.WriteString(trimmed + "\n" + strings.Repeat(" ", indent))
			line = indent
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
