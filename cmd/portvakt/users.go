package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
)

// userAdd creates an account, as an operator does for portals that hand
// out usernames (IDEP's numeric ones). Without --password-stdin and with
// --email, the account holder is mailed a link to choose a password.
func userAdd(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("user add", stderr)
	username := fs.String("username", "", "sign-in `name` (lower-case letters, digits, . _ -)")
	name := fs.String("name", "", "the person's full `name`")
	email := fs.String("email", "", "verified main email `address`")
	lang := fs.String("lang", "", "the person's `language`, en, nb or sv, for pages and mails from now on (default: none, so the browser and i18n.default_language decide; the invitation is then in i18n.default_language)")
	phone := fs.String("phone", "", "verified mobile `number` for SMS codes, such as +4791234567")
	requireMFA := fs.Bool("require-mfa", false, "make the person set up a second factor at the first sign-in")
	var groups listFlag
	fs.Var(&groups, "group", "a `group` the account belongs to (repeatable), for policies such as mfa.required_groups")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	hashStdin := fs.Bool("password-hash-stdin", false, "read an imported password hash (argon2id/argon2i PHC or bcrypt) from standard input")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	var pw, hash string
	if *hashStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintln(stderr, "portvakt: read password hash:", err)
			return 1
		}
		hash = strings.TrimSpace(line)
	} else if *pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintln(stderr, "portvakt: read password:", err)
			return 1
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			fmt.Fprintln(stderr, "portvakt: --password-stdin given but standard input is empty")
			return 2
		}
	}
	if *lang != "" && !slices.Contains(i18n.Languages, *lang) {
		fmt.Fprintf(stderr, "portvakt: --lang %q: choose one of %s, or leave it out for no preference\n", *lang, strings.Join(i18n.Languages, ", "))
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	acct, err := a.Flows.CreateAccount(ctx, flow.NewAccount{Username: *username, Name: *name, Email: *email, Password: pw, PasswordHash: hash, Phone: *phone, Groups: groups, MFARequired: *requireMFA,
		Lang: *lang, InviteLang: cfg.I18n.DefaultLanguage})
	if p, ok := problem.As(err); ok {
		printProblem(stderr, a.Catalog.Lang(cmp.Or(*lang, cfg.I18n.DefaultLanguage)), p)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	fmt.Fprintf(stdout, "created account %s", acct.ID)
	if acct.Username != "" {
		fmt.Fprintf(stdout, " (username %s)", acct.Username)
	}
	fmt.Fprintln(stdout)
	if pw == "" && hash == "" && *email != "" {
		fmt.Fprintf(stdout, "an invitation to choose a password is queued for %s\n", *email)
	}
	return 0
}

func printProblem(w io.Writer, lang *i18n.Lang, p *problem.Problem) {
	for _, d := range p.Details {
		if d.Field != "" {
			fmt.Fprintf(w, "%s: %s\n", d.Field, lang.T(d.Key, d.Args))
		} else {
			fmt.Fprintln(w, lang.T(d.Key, d.Args))
		}
	}
}

// policyCheck reads a password from standard input and prints one line per
// broken rule in the chosen language; it exits 1 if any rule is broken.
// The policy is a preset (--preset) or a configuration file's (--config).
func policyCheck(args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("policy check", stderr)
	preset := fs.String("preset", "", "policy `preset`: "+strings.Join(password.Presets(), ", "))
	lang := fs.String("lang", "en", "`language` of the messages: en, nb or sv")
	email := fs.String("email", "", "the account's email `address`, for the context-word rule")
	mfa := fs.Bool("mfa", false, "the account has a second factor (NIST allows 8 characters then)")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	pc := cfg.Password
	if *preset != "" {
		pc = password.Config{Preset: *preset}
	}
	policy, err := pc.Policy()
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 2
	}
	cat, err := i18n.New(nil)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if cat.Supported(*lang) == "" {
		fmt.Fprintf(stderr, "portvakt: --lang must be one of %s\n", strings.Join(i18n.Languages, ", "))
		return 2
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintln(stderr, "portvakt: read password:", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	err = policy.Check(pw, password.Context{Email: *email, HasMFA: *mfa, ServiceName: cfg.ServiceName})
	if p, ok := problem.As(err); ok {
		printProblem(stdout, cat.Lang(cat.Supported(*lang)), p)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	fmt.Fprintln(stdout, cat.Lang(cat.Supported(*lang)).T("password.ok"))
	return 0
}

// userRequireMFA makes an existing account set up a second factor at its
// next sign-in (or, with --off, lifts that).
func userRequireMFA(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := newFlags("user require-mfa", stderr)
	username := fs.String("username", "", "the account's `username`")
	email := fs.String("email", "", "or its email `address`")
	off := fs.Bool("off", false, "lift the requirement")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	var id string
	switch {
	case *username != "":
		acct, err := a.DB.GetAccountByUsername(ctx, strings.ToLower(*username))
		if err != nil {
			fmt.Fprintln(stderr, "portvakt: no account with that username")
			return 1
		}
		id = acct.ID
	case *email != "":
		e, err := a.DB.GetEmail(ctx, *email)
		if err != nil {
			fmt.Fprintln(stderr, "portvakt: no account with that address")
			return 1
		}
		id = e.AccountID
	default:
		fmt.Fprintln(stderr, "portvakt: give --username or --email")
		return 2
	}
	if err := a.Flows.RequireMFA(ctx, id, !*off); err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if *off {
		fmt.Fprintln(stdout, "a second factor is no longer required of", id)
	} else {
		fmt.Fprintln(stdout, "a second factor is required of", id, "from the next sign-in")
	}
	return 0
}
