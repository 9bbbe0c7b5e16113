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

// org manages organisations and their members (docs/systems.md):
//
//	portvakt org add --number 912345678 --name "Fjordkraft Regnskap AS"
//	portvakt org member add --org 912345678 --account 01017012343 --role admin
//	portvakt org member add --org 912345678 --account kari --rights altinn:submit
//	portvakt org list [--org 912345678]
func org(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	name := ""
	switch {
	case len(args) >= 1 && (args[0] == "add" || args[0] == "list"):
		name, args = "org "+args[0], args[1:]
	case len(args) >= 2 && args[0] == "member" && args[1] == "add":
		name, args = "org member add", args[2:]
	default:
		fmt.Fprint(stderr, usage())
		return 2
	}
	fs := newFlags(name, stderr)
	var number, orgName, orgID, account, role *string
	var rights listFlag
	switch name {
	case "org add":
		number = fs.String("number", "", "the organisation `number` (digits)")
		orgName = fs.String("name", "", "the organisation's `name`")
	case "org member add":
		orgID = fs.String("org", "", "the organisation `number`")
		account = fs.String("account", "", "the member's account `ID or username`")
		role = fs.String("role", "member", "`role`: admin (manages members and systems, holds every right) or member")
		fs.Var(&rights, "rights", "a `right` the member holds for the organisation (repeatable, or comma-separated)")
	case "org list":
		orgID = fs.String("org", "", "list this organisation's members (`number`) instead of the organisations")
	}
	cfg, fs, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "portvakt: %s takes no arguments\n", name)
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	sys := a.Web.Systems
	if sys == nil {
		fmt.Fprintln(stderr, "portvakt: systems.enabled is false (organisations act through systems and rights)")
		return 1
	}
	fail := func(err error) int {
		if p, ok := problem.As(err); ok {
			printProblem(stderr, a.Catalog.Lang(cfg.I18n.DefaultLanguage), p)
		} else {
			fmt.Fprintln(stderr, "portvakt:", err)
		}
		return 1
	}
	switch name {
	case "org add":
		o, err := sys.CreateOrg(ctx, *number, *orgName)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "added organisation %s %s\n", o.ID, o.Name)
	case "org member add":
		var list []string
		for _, r := range rights {
			list = append(list, strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ' ' })...)
		}
		m, err := sys.PutMember(ctx, *orgID, *account, *role, list)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s is %s of %s with rights: %s\n", m.AccountID, m.Role, m.OrgID, strings.Join(m.Rights, " "))
	case "org list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		if *orgID == "" {
			orgs, err := sys.Store.ListOrgs(ctx)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintln(tw, "NUMBER\tNAME\tMEMBERS\tADDED")
			for _, o := range orgs {
				ms, err := sys.Store.ListOrgMembers(ctx, o.ID)
				if err != nil {
					return fail(err)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", o.ID, o.Name, len(ms), o.CreatedAt.UTC().Format(time.DateOnly))
			}
		} else {
			if _, err := sys.Store.GetOrg(ctx, *orgID); err != nil {
				return fail(problem.New(problem.NotFound, "", "orgs.not_found", problem.Args{"id": *orgID}))
			}
			ms, err := sys.Store.ListOrgMembers(ctx, *orgID)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintln(tw, "ACCOUNT\tUSERNAME\tROLE\tRIGHTS")
			for _, m := range ms {
				acct, _ := a.DB.GetAccount(ctx, m.AccountID)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.AccountID, acct.Username, m.Role, strings.Join(m.Rights, " "))
			}
		}
		tw.Flush()
	}
	return 0
}
