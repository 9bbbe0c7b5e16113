package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/connectors"
)

// upstreamCmd is `portvakt upstream list` and `portvakt upstream check ID`.
func upstreamCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "check") {
		fmt.Fprint(stderr, usage())
		return 2
	}
	cfg, fs, ok := loadConfig(newFlags("upstream "+args[0], stderr), args[1:], environ, stderr)
	if !ok {
		return 2
	}
	if args[0] == "list" {
		if len(cfg.Upstreams) == 0 {
			fmt.Fprintln(stdout, "no upstreams configured")
			return 0
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTYPE\tISSUER\tFIRST LOGIN\tACR")
		for _, u := range cfg.Upstreams {
			kind := u.Kind()
			if u.Preset != "" {
				kind += "/" + u.Preset
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\n", u.ID, kind, u.Issuer, u.FirstLoginMode(), u.AcceptACR)
		}
		w.Flush()
		return 0
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "portvakt upstream check: name one upstream ID")
		return 2
	}
	id := fs.Arg(0)
	for i, u := range cfg.Upstreams {
		if u.ID != id {
			continue
		}
		if errs := upstream.Validate(cfg.Upstreams[i : i+1]); len(errs) > 0 {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			return 1
		}
		u, err := u.Resolve(envLookup(environ))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if u.ClientSecret == "" && u.PrivateKeyFile == "" {
			fmt.Fprintf(stderr, "warning: %s has no client secret or key (%s, client_secret_file or private_key_file)\n", id, upstream.EnvName(id))
		}
		conn, err := connectors.Open(u, cfg.PublicURL, nil)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if c, ok := conn.(upstream.Checker); ok {
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			if err := c.Check(ctx); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			fmt.Fprintf(stdout, "%s: discovery at %s answered and names the configured issuer\n", id, u.Issuer)
		}
		fmt.Fprintf(stdout, "%s: callback %s%s\n", id, cfg.PublicURL, connectors.CallbackPath(id))
		fmt.Fprintln(stdout, "upstream is valid")
		return 0
	}
	fmt.Fprintf(stderr, "portvakt upstream check: no upstream %q in the configuration\n", id)
	return 1
}

// envLookup reads environ (KEY=value lines) the way os.Getenv reads the
// process's, falling back to the process for a nil environ.
func envLookup(environ []string) func(string) string {
	if environ == nil {
		return os.Getenv
	}
	return func(k string) string {
		for _, kv := range environ {
			if len(kv) > len(k) && kv[:len(k)] == k && kv[len(k)] == '=' {
				return kv[len(k)+1:]
			}
		}
		return ""
	}
}
