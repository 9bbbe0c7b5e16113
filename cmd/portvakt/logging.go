package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/portvakt/portvakt/internal/config"
)

// libraryHandler carries the logs of libraries that write to slog's
// default logger (zitadel/oidc announces each route it registers at
// info) into Portvakt's own handler, one level lower: their info is
// debug here, so a server at log.level info prints only Portvakt's lines,
// and their warnings and errors stay warnings and errors.
type libraryHandler struct{ h slog.Handler }

func demote(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return l - 4
	}
	return l
}

func (l libraryHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, demote(level))
}

func (l libraryHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return l.h.Handle(ctx, r)
}

func (l libraryHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return libraryHandler{l.h.WithAttrs(as)}
}

func (l libraryHandler) WithGroup(name string) slog.Handler {
	return libraryHandler{l.h.WithGroup(name)}
}

// setLibraryLogger sends libraries' slog output to h (see libraryHandler),
// tagged component=library.
func setLibraryLogger(h slog.Handler) {
	slog.SetDefault(slog.New(libraryHandler{h.WithAttrs([]slog.Attr{slog.String("component", "library")})}))
}

// isTerminal reports whether w is a terminal (a character device), where
// a person reads rather than a log collector.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && fi.Mode()&os.ModeDevice != 0
}

// startLine is the one line serve prints for a person at a terminal:
// where to open the browser, where mail goes and where data lives.
func startLine(cfg config.Config) string {
	mail := "mail goes out through " + cfg.Mail.SMTP.Host
	if cfg.DevMailbox() {
		mail = "mail and SMS codes: " + cfg.PublicURL + "/dev/mail"
	} else if cfg.Mail.Transport == "dev" {
		mail = "mail is kept, not sent (mail.transport dev, dev.mailbox off)"
	}
	data := cfg.Database.DSN
	switch cfg.Database.Driver {
	case "sqlite":
		if file, ok := sqliteFile(cfg.Database.DSN); ok {
			data, _ = filepath.Abs(file)
		} else {
			data = "memory (gone at exit)"
		}
	case "postgres":
		data = "PostgreSQL"
		if u, err := url.Parse(cfg.Database.DSN); err == nil && u.Host != "" {
			data += " at " + u.Host + u.Path
		}
	}
	return fmt.Sprintf("%s is running: open %s in your browser · %s · data in %s", cfg.ServiceName, cfg.PublicURL, mail, data)
}
