package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/config"
)

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := cfg.Validate()
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Validate(defaults) = %v, %v; want no errors or warnings", warnings, err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.PublicURL != "http://localhost:8080" || cfg.Database.Driver != "sqlite" || cfg.Database.DSN != "portvakt.db" || cfg.Mail.Transport != "dev" {
		t.Errorf("defaults = %+v", cfg)
	}
	if !cfg.DevMailbox() {
		t.Error("DevMailbox() = false on localhost, want true")
	}
	if cfg.Session.IdleTimeout.D() != 30*time.Minute || cfg.Session.AbsoluteTimeout.D() != 12*time.Hour {
		t.Errorf("session timeouts = %s/%s, want 30m/12h", cfg.Session.IdleTimeout, cfg.Session.AbsoluteTimeout)
	}
}

func TestLoadFileAndEnvironment(t *testing.T) {
	cfg, err := config.Load("testdata/good.yaml", []string{
		"PORTVAKT_SESSION_IDLE_TIMEOUT=15m",
		"PORTVAKT_MAIL_SMTP_PORT=2525",
		"PORTVAKT_METRICS_ENABLED=false",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	if cfg.ServiceName != "Example ID" || cfg.I18n.DefaultLanguage != "nb" {
		t.Errorf("file values not loaded: %+v", cfg)
	}
	if cfg.Session.IdleTimeout.D() != 15*time.Minute {
		t.Errorf("idle_timeout = %s, want the environment's 15m", cfg.Session.IdleTimeout)
	}
	if cfg.Session.AbsoluteTimeout.D() != 8*time.Hour {
		t.Errorf("absolute_timeout = %s, want the file's 8h", cfg.Session.AbsoluteTimeout)
	}
	if cfg.Mail.SMTP.Port != 2525 || cfg.Metrics.Enabled {
		t.Errorf("environment not applied: port %d, metrics %v", cfg.Mail.SMTP.Port, cfg.Metrics.Enabled)
	}
	if cfg.DevMailbox() {
		t.Error("DevMailbox() = true on a public host with auto, want false")
	}
	out, _ := cfg.Marshal()
	if strings.Contains(string(out), "s3cret") {
		t.Error("Marshal leaks the SMTP password")
	}
}

func TestEveryKeyHasAnEnvironmentVariable(t *testing.T) {
	for _, k := range config.Keys() {
		if got := config.EnvName(k); !strings.HasPrefix(got, "PORTVAKT_") || strings.ContainsAny(got, ".-") {
			t.Errorf("EnvName(%q) = %q", k, got)
		}
	}
	if got, want := config.EnvName("database.dsn"), "PORTVAKT_DATABASE_DSN"; got != want {
		t.Errorf("EnvName(database.dsn) = %q, want %q", got, want)
	}
}

func TestBadEnvironmentValueNamesTheVariable(t *testing.T) {
	_, err := config.Load("", []string{"PORTVAKT_SESSION_IDLE_TIMEOUT=soon", "PORTVAKT_MAIL_SMTP_PORT=x"})
	if err == nil {
		t.Fatal("Load with bad values succeeded")
	}
	for _, want := range []string{"PORTVAKT_SESSION_IDLE_TIMEOUT", "soon", "PORTVAKT_MAIL_SMTP_PORT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	cfg, err := config.Load("testdata/bad.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Validate()
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("Validate = %v, want config.Errors", err)
	}
	want := map[string]string{
		"listen":                   "host:port",
		"public_url":               "https",
		"database.driver":          "sqlite, postgres",
		"database.dsn":             "must be set",
		"session.idle_timeout":     "between 1m and 24h",
		"mail.smtp.host":           "must be set",
		"mail.smtp.port":           "between 1 and 65535",
		"mail.smtp.tls":            "starttls, implicit, none",
		"log.level":                "debug, info, warn, error",
		"session.absolute_timeout": "at least",
	}
	got := map[string]string{}
	for _, e := range es {
		got[e.Path] = e.Message
	}
	for path, frag := range want {
		if !strings.Contains(got[path], frag) {
			t.Errorf("error for %s = %q, want it to contain %q", path, got[path], frag)
		}
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	_, err := config.Load("testdata/unknown.yaml", nil)
	if err == nil || !strings.Contains(err.Error(), "sesion") {
		t.Errorf("Load(unknown key) = %v, want an error naming the key", err)
	}
}

func TestNISTWarnings(t *testing.T) {
	cfg := config.Default()
	cfg.Session.IdleTimeout = config.Duration(2 * time.Hour)
	cfg.Session.AbsoluteTimeout = config.Duration(48 * time.Hour)
	warnings, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 {
		t.Errorf("warnings = %q, want two NIST warnings", warnings)
	}
}
