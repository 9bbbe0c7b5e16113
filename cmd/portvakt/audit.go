package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// The audit log and roles at the command line (issue 15): export the
// log as JSON lines, and grant or revoke the support console's roles.
// Each command is recorded with the operator (the login in $SUDO_USER or
// $USER) as the actor.

// operator is the actor of a command: the login that ran it.
func operator(environ []string) audit.Actor {
	who := ""
	for _, name := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, name+"="); ok && v != "" && who == "" {
				who = v
			}
		}
	}
	return audit.Operator("cli:" + who)
}

// parseSince reads --since: an RFC 3339 time, a date (YYYY-MM-DD), or a
// duration back from now ("24h", "30d", "13mo" is not: use 9504h).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n >= 0 && fmt.Sprint(n) == d {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q is neither a time (2026-12-01 or 2026-12-01T10:00:00Z) nor a duration (24h, 30d)", s)
}

func auditCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprint(stderr, usage())
		return 2
	}
	fs := newFlags("audit export", stderr)
	since := fs.String("since", "", "export the events from this `time` on: 2026-12-01, 2026-12-01T10:00:00Z, or a duration back from now (24h, 30d); required")
	user := fs.String("user", "", "only the events about this account: its ID, email `address`, username or national identity number")
	kind := fs.String("kind", "", "only the events of this `kind` (login.failed, account.locked, …)")
	cfg, _, ok := loadConfig(fs, args[1:], environ, stderr)
	if !ok {
		return 2
	}
	if *since == "" {
		fmt.Fprintln(stderr, "portvakt: give --since")
		return 2
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 2
	}
	if *kind != "" && !audit.Kind(*kind).Valid() {
		fmt.Fprintf(stderr, "portvakt: %q is not an audit event kind\n", *kind)
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	f := store.AuditFilter{Since: from, Limit: store.AuditEventLimit}
	if *kind != "" {
		f.Kinds = []string{*kind}
	}
	if *user != "" {
		id, err := a.Web.Support.Resolve(ctx, *user)
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", describe(a, err))
			return 1
		}
		f.Subject = id
	}
	// The export is itself an event, written first so that it is in
	// what it exports when --since reaches now.
	if err := a.Audit.Record(ctx, audit.Event{Kind: audit.AuditExported, Actor: operator(environ), Subject: f.Subject,
		Data: map[string]string{"since": from.UTC().Format(time.RFC3339), "kind": *kind}}); err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	n := 0
	for {
		list, next, err := a.DB.ListAuditEvents(ctx, f)
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		for _, e := range list {
			if err := enc.Encode(web.AuditEventOf(e)); err != nil {
				fmt.Fprintln(stderr, "portvakt:", err)
				return 1
			}
			n++
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	fmt.Fprintf(stderr, "%d events, newest first\n", n)
	return 0
}

// describe is an error as the operator reads it: a problem in English.
func describe(a *app.App, err error) string {
	if p, ok := problem.As(err); ok && len(p.Details) > 0 {
		return a.Catalog.Lang("en").T(p.Details[0].Key, p.Details[0].Args)
	}
	return err.Error()
}

// userRole grants (grant true) or revokes a role.
func userRole(ctx context.Context, grant bool, args, environ []string, stdout, stderr io.Writer) int {
	name := "user revoke-role"
	if grant {
		name = "user grant-role"
	}
	fs := newFlags(name, stderr)
	user := fs.String("user", "", "the account: its ID, email `address`, username or national identity number")
	role := fs.String("role", "", "the `role`: support (the support console) or admin (also roles and apps)")
	reason := fs.String("reason", "", "why: the `reason`, for the audit log (at least 4 characters)")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	if *user == "" || *role == "" || *reason == "" {
		fmt.Fprintln(stderr, "portvakt: give --user, --role and --reason")
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	id, err := a.Web.Support.Resolve(ctx, *user)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", describe(a, err))
		return 1
	}
	if grant {
		err = a.Web.Support.GrantRole(ctx, operator(environ), *reason, id, *role)
	} else {
		err = a.Web.Support.RevokeRole(ctx, operator(environ), *reason, id, *role)
	}
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", describe(a, err))
		return 1
	}
	if grant {
		fmt.Fprintf(stdout, "%s has the role %s\n", id, *role)
	} else {
		fmt.Fprintf(stdout, "%s no longer has the role %s\n", id, *role)
	}
	return 0
}
