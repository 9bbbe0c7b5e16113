package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

func TestLoadProfile_Layers(t *testing.T) {
	profile := []byte("service_name: Altinn\ndatabase: {driver: sqlite, dsn: altinn.db}\nlogin: {methods: [username]}\n")
	path := filepath.Join(t.TempDir(), "production.yaml")
	os.WriteFile(path, []byte("public_url: https://altinn.example.no\ndatabase: {dsn: /var/lib/portvakt/altinn.db}\n"), 0o600)
	cfg, err := config.LoadProfile("altinn", profile, path, []string{"PORTVAKT_LISTEN=0.0.0.0:9000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"service_name (profile)", cfg.ServiceName, "Altinn"},
		{"login.methods (profile)", strings.Join(cfg.Login.Methods, ","), "username"},
		{"public_url (file over profile)", cfg.PublicURL, "https://altinn.example.no"},
		{"database.dsn (file over profile)", cfg.Database.DSN, "/var/lib/portvakt/altinn.db"},
		{"database.driver (profile, kept beside the file's dsn)", cfg.Database.Driver, "sqlite"},
		{"listen (environment over all)", cfg.Listen, "0.0.0.0:9000"},
		{"mail.transport (default)", cfg.Mail.Transport, "dev"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, err := config.LoadProfile("altinn", []byte("login: {method: [username]}\n"), "", nil); err == nil || !strings.Contains(err.Error(), "profile altinn") {
		t.Errorf("LoadProfile with an unknown key = %v, want an error naming the profile", err)
	}
}

func TestLoadProfile_SecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "smtp-password")
	os.WriteFile(pw, []byte("s3cret with spaces\n"), 0o600)
	cfg, err := config.LoadProfile("", nil, "", []string{"PORTVAKT_MAIL_SMTP_PASSWORD_FILE=" + pw, "PORTVAKT_NOT_A_KEY_FILE=/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.SMTP.Password != "s3cret with spaces" {
		t.Errorf("mail.smtp.password from PORTVAKT_MAIL_SMTP_PASSWORD_FILE = %q, want the file's content without the newline", cfg.Mail.SMTP.Password)
	}
	for _, tt := range []struct {
		name    string
		environ []string
		want    string
	}{
		{"both the value and the file", []string{"PORTVAKT_MAIL_SMTP_PASSWORD=x", "PORTVAKT_MAIL_SMTP_PASSWORD_FILE=" + pw}, "set only one"},
		{"a file that is not there", []string{"PORTVAKT_SECRETS_KEY_FILE=" + filepath.Join(dir, "missing")}, "PORTVAKT_SECRETS_KEY_FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := config.LoadProfile("", nil, "", tt.environ); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadProfile(%v) = %v, want an error with %q", tt.environ, err, tt.want)
			}
		})
	}
}
