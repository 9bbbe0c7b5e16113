package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/problem"
)

// representation is the operator's side of acting on behalf of others
// (docs/representation.md):
//
//	portvakt representation pending
//	portvakt representation approve ID
//	portvakt representation revoke ID
func representation(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	cmd := args[0]
	switch cmd {
	case "pending", "approve", "revoke":
	default:
		fmt.Fprint(stderr, usage())
		return 2
	}
	cfg, fs, ok := loadConfig(newFlags("representation "+cmd, stderr), args[1:], environ, stderr)
	if !ok {
		return 2
	}
	if want := map[string]int{"pending": 0, "approve": 1, "revoke": 1}[cmd]; fs.NArg() != want {
		fmt.Fprintf(stderr, "portvakt: representation %s takes %d argument(s)\n", cmd, want)
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	reps := a.Web.Representation
	if reps == nil {
		fmt.Fprintln(stderr, "portvakt: representation.enabled is false")
		return 1
	}
	switch cmd {
	case "pending":
		list, err := reps.Pending(ctx, 1000)
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tAGENT\tPERSON\tSHOWN\tRIGHTS\tRECORDED")
		for _, d := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.AgentID, d.PrincipalName, d.PrincipalMasked,
				strings.Join(d.Rights, " "), d.CreatedAt.UTC().Format(time.DateTime))
		}
		tw.Flush()
	case "approve":
		d, err := reps.Approve(ctx, fs.Arg(0), "cli")
		if p, ok := problem.As(err); ok {
			printProblem(stderr, a.Catalog.Lang(cfg.I18n.DefaultLanguage), p)
			return 1
		}
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		fmt.Fprintf(stdout, "approved %s: %s may act for %s\n", d.ID, d.AgentID, d.PrincipalName)
	case "revoke":
		d, err := reps.RevokeAsOperator(ctx, fs.Arg(0))
		if p, ok := problem.As(err); ok {
			printProblem(stderr, a.Catalog.Lang(cfg.I18n.DefaultLanguage), p)
			return 1
		}
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		fmt.Fprintf(stdout, "revoked %s\n", d.ID)
	}
	return 0
}
