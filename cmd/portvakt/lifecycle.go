package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/lifecycle"
)

// lifecycleCmd is "portvakt lifecycle run": the account lifecycle's job
// (inactivity warnings and deletions, requested deletions; package
// lifecycle) once, now. The server runs the same job every hour under a
// lease; running it here as well is safe, since each warning and deletion
// happens once whoever runs it. --dry-run lists what would happen and
// changes nothing.
func lifecycleCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprint(stderr, usage())
		return 2
	}
	fs := newFlags("lifecycle run", stderr)
	dry := fs.Bool("dry-run", false, "list what would happen; change and send nothing")
	cfg, _, ok := loadConfig(fs, args[1:], environ, stderr)
	if !ok {
		return 2
	}
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	acts, err := a.Lifecycle().Run(ctx, *dry)
	printActions(stdout, acts, *dry)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if !*dry {
		// Send the mails now rather than leave them to a server's outbox.
		if _, _, err := a.Worker.DeliverDue(ctx); err != nil {
			fmt.Fprintln(stderr, "portvakt: mail queued but not yet sent:", err)
		}
	}
	return 0
}

// printActions writes one line per action and a summary.
func printActions(w io.Writer, acts []lifecycle.Action, dry bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	verb := map[string]string{
		lifecycle.ActWarn:            "warn",
		lifecycle.ActDeleteInactive:  "delete (inactive)",
		lifecycle.ActDeleteRequested: "delete (requested)",
	}
	if dry {
		fmt.Fprintln(tw, "WOULD\tACCOUNT\tLAST ACTIVE\tDELETION\tDETAIL")
	} else {
		fmt.Fprintln(tw, "DID\tACCOUNT\tLAST ACTIVE\tDELETION\tDETAIL")
	}
	done := 0
	for _, x := range acts {
		detail := ""
		if x.Kind == lifecycle.ActWarn {
			detail = fmt.Sprintf("warning %d", x.Warning)
		}
		if !dry && !x.Done {
			detail += " (skipped: the account changed meanwhile)"
		} else {
			done++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", verb[x.Kind], x.AccountID, x.LastActive.UTC().Format("2006-01-02"), x.DeleteAt.UTC().Format("2006-01-02"), detail)
	}
	tw.Flush()
	if dry {
		fmt.Fprintf(w, "%d action(s) would be taken; nothing was changed.\n", len(acts))
	} else {
		fmt.Fprintf(w, "%d action(s) taken.\n", done)
	}
}
