// Command portvakt is the Portvakt identity provider: one binary that
// serves the login portal, migrates its database and checks its
// configuration. `portvakt --help` lists the commands; each command's
// usage is made from its flag set (see cli.go), so it cannot drift.
//
//	portvakt serve [--profile NAME] [--config FILE] [--listen ADDR]
//	portvakt config check|init
//	portvakt user add|require-mfa, client add|list|remove, policy check
//	portvakt healthcheck, migrate, version
//
// With no configuration file it runs on SQLite in ./portvakt.db at
// http://localhost:8080 with mail kept in the development mailbox
// (/dev/mail); --profile runs one of the seed portals the same way.
// Every configuration key can also be set with a PORTVAKT_… environment
// variable, or read from a file with PORTVAKT_…_FILE (see package config).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/portvakt/portvakt/examples/profiles"
	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code, so tests
// call it directly.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Libraries' own logs (zitadel/oidc's "registered route") are no
	// business of a CLI command; their warnings still reach stderr.
	setLibraryLogger(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], environ, stderr)
	case "migrate":
		return migrate(ctx, args[1:], environ, stdout, stderr)
	case "config":
		switch {
		case len(args) >= 2 && args[1] == "check":
			return configCheck(ctx, args[2:], environ, stdout, stderr)
		case len(args) >= 2 && args[1] == "init":
			return configInit(args[2:], stdout, stderr)
		}
		fmt.Fprint(stderr, usage())
		return 2
	case "user":
		switch {
		case len(args) >= 2 && args[1] == "add":
			return userAdd(ctx, args[2:], environ, stdin, stdout, stderr)
		case len(args) >= 2 && args[1] == "require-mfa":
			return userRequireMFA(ctx, args[2:], environ, stdout, stderr)
		case len(args) >= 2 && (args[1] == "grant-role" || args[1] == "revoke-role"):
			return userRole(ctx, args[1] == "grant-role", args[2:], environ, stdout, stderr) // audit.go
		}
		fmt.Fprint(stderr, usage())
		return 2
	case "client":
		return client(ctx, args[1:], environ, stdout, stderr)
	case "representation":
		return representation(ctx, args[1:], environ, stdout, stderr)
	case "org":
		return org(ctx, args[1:], environ, stdout, stderr)
	case "policy":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprint(stderr, usage())
			return 2
		}
		return policyCheck(args[2:], environ, stdin, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args[1:], environ, stdout, stderr)
	case "upstream":
		return upstreamCmd(ctx, args[1:], environ, stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], environ, stdout, stderr)
	case "lifecycle":
		return lifecycleCmd(ctx, args[1:], environ, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "portvakt", versionString())
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage())
		return 0
	default:
		fmt.Fprintf(stderr, "portvakt: unknown command %q\n\n%s", args[0], usage())
		return 2
	}
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " (" + bi.GoVersion + ")"
	}
	return v
}

// loadConfig parses --config and returns the loaded configuration.
func loadConfig(fs *flag.FlagSet, args, environ []string, stderr io.Writer) (config.Config, *flag.FlagSet, bool) {
	path := fs.String("config", "", "configuration `file` (YAML), read over the profile; defaults apply when omitted")
	profile := fs.String("profile", "", "run as the seed portal `name`: "+strings.Join(profiles.Names(), ", ")+" (see examples/profiles)")
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, fs, false
	}
	var base []byte
	if *profile != "" {
		var err error
		if base, err = profiles.Get(*profile); err != nil {
			fmt.Fprintln(stderr, "portvakt:", err)
			return config.Config{}, fs, false
		}
	}
	cfg, err := config.LoadProfile(*profile, base, *path, environ)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return cfg, fs, false
	}
	return cfg, fs, true
}

func serve(ctx context.Context, args, environ []string, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	listen := fs.String("listen", "", "listen `address`, overriding the configuration (e.g. 127.0.0.1:8080)")
	skipOnline := fs.Bool("skip-online-checks", false, "start without checking that the SMTP server and the SMS provider answer (server.online_checks)")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	warnings, err := cfg.Validate()
	if err != nil {
		fmt.Fprintf(stderr, "portvakt: invalid configuration:\n%v\n", err)
		return 2
	}
	if err := checkDatabaseDir(cfg.Database); err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if cfg.Server.OnlineChecks && !*skipOnline {
		if err := app.CheckOnline(ctx, cfg); err != nil {
			fmt.Fprintf(stderr, "portvakt: not starting: a service does not answer as configured:\n  %v\n"+
				"Fix the configuration, or start anyway with --skip-online-checks (or server.online_checks: false).\n",
				strings.ReplaceAll(err.Error(), "\n", "\n  "))
			return 1
		}
	}
	// One log stream: libraries that log through slog's default logger
	// (zitadel/oidc does) write through Portvakt's handler, a level lower.
	logger := app.NewLogger(cfg.Log, stderr)
	setLibraryLogger(logger.Handler())
	a, err := app.New(ctx, cfg, app.Options{Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer a.Close()
	for _, w := range warnings {
		a.Logger.Warn("configuration warning", "warning", w)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if isTerminal(stderr) {
		fmt.Fprintln(stderr, startLine(cfg))
	}
	tuneMemory(cfg)
	releaseStartupMemory()
	if err := a.Serve(ctx, ln); err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cfg, _, ok := loadConfig(newFlags("migrate", stderr), args, environ, stderr)
	if !ok {
		return 2
	}
	if _, err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "portvakt: invalid configuration:\n%v\n", err)
		return 2
	}
	db, err := sqlstore.Open(ctx, cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	return 0
}

func configCheck(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := newFlags("config check", stderr)
	online := fs.Bool("online", false, "also check that the SMTP server and the SMS provider answer, as serve does at start")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 1
	}
	warnings, err := cfg.Validate()
	for _, w := range warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	var es config.Errors
	if errors.As(err, &es) {
		fmt.Fprintf(stderr, "%d error(s):\n", len(es))
		for _, e := range es {
			fmt.Fprintln(stderr, "  "+e.String())
		}
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// A file can be valid and still not run: try the database as serve
	// would, without creating or migrating anything.
	note, err := checkDatabase(ctx, cfg.Database)
	if err != nil {
		fmt.Fprintf(stderr, "1 error(s):\n  %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, note)
	if *online {
		if err := app.CheckOnline(ctx, cfg); err != nil {
			fmt.Fprintf(stderr, "1 error(s):\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
			return 1
		}
		fmt.Fprintln(stdout, "mail and SMS: the configured services answer")
	}
	fmt.Fprintln(stdout, "configuration is valid")
	return 0
}
