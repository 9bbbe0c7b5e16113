package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/op"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// client manages the apps that sign in through Portvakt:
//
//	portvakt client add --name "Payroll" --redirect-uri https://pay.example.org/cb [--public] [--third-party]
//	portvakt client list
//	portvakt client remove ID
func client(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "add":
		fs := newFlags("client add", stderr)
		name := fs.String("name", "", "the app's `name`, shown on the consent page")
		id := fs.String("id", "", "client_id (made up when empty)")
		public := fs.Bool("public", false, "a public client (a browser or mobile app without a secret; PKCE required)")
		third := fs.Bool("third-party", false, "ask users for consent")
		alg := fs.String("signing-alg", "ES256", "ID token signing `algorithm`: ES256 or RS256")
		backchannel := fs.String("backchannel-logout-uri", "", "`URL` that receives logout tokens")
		format := fs.String("access-token-format", "", "access token `format`: opaque (looked up by introspection) or jwt (checked offline); default opaque for user tokens, jwt for client_credentials")
		var redirects, postLogout, grants, scopes listFlag
		fs.Var(&redirects, "redirect-uri", "allowed redirect `URI` (repeatable; matched exactly)")
		fs.Var(&postLogout, "post-logout-redirect-uri", "allowed post-logout redirect `URI` (repeatable)")
		fs.Var(&grants, "grant", "grant `type`: authorization_code, refresh_token, client_credentials (repeatable)")
		fs.Var(&scopes, "scope", "extra `scope` the client may ask for (repeatable)")
		cfg, _, ok := loadConfig(fs, args[1:], environ, stderr)
		if !ok {
			return 2
		}
		a, ok := openProvider(ctx, cfg, stderr)
		if !ok {
			return 1
		}
		defer a.Close()
		c, secret, err := a.OP.CreateClient(ctx, op.ClientConfig{ID: *id, Name: *name, Public: *public, ThirdParty: *third, SigningAlg: *alg,
			RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout, GrantTypes: grants, Scopes: scopes, BackChannelLogoutURI: *backchannel,
			AccessTokenFormat: *format})
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		fmt.Fprintf(stdout, "client_id:     %s\n", c.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client_secret: %s\n", secret)
			fmt.Fprintln(stdout, "The secret is shown only now; Portvakt keeps only its SHA-256 digest.")
		}
		fmt.Fprintf(stdout, "issuer:        %s\n", a.OP.Issuer())
		return 0
	case "list":
		cfg, _, ok := loadConfig(newFlags("client list", stderr), args[1:], environ, stderr)
		if !ok {
			return 2
		}
		a, ok := openProvider(ctx, cfg, stderr)
		if !ok {
			return 1
		}
		defer a.Close()
		clients, err := a.OP.ListClients(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tTYPE\tACCESS TOKENS\tREDIRECT URIS")
		for _, c := range clients {
			kind := "confidential"
			if c.Public {
				kind = "public"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, kind, op.AccessTokenFormatOf(c.Client), strings.Join(c.RedirectURIs, " "))
		}
		tw.Flush()
		return 0
	case "remove":
		fs := newFlags("client remove", stderr)
		cfg, fs, ok := loadConfig(fs, args[1:], environ, stderr)
		if !ok {
			return 2
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "portvakt: client remove takes one client_id")
			return 2
		}
		a, ok := openProvider(ctx, cfg, stderr)
		if !ok {
			return 1
		}
		defer a.Close()
		if err := a.OP.DeleteClient(ctx, fs.Arg(0)); err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return 1
		}
		fmt.Fprintln(stdout, "removed", fs.Arg(0))
		return 0
	}
	fmt.Fprint(stderr, usage())
	return 2
}

// openProvider builds the application for a client command; it says why
// on stderr when it cannot.
func openProvider(ctx context.Context, cfg config.Config, stderr io.Writer) (*app.App, bool) {
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return nil, false
	}
	if a.OP == nil {
		a.Close()
		fmt.Fprintln(stderr, "portvakt: oidc.enabled is false")
		return nil, false
	}
	return a, true
}
