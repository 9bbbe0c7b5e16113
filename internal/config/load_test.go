package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

// write puts content in a new file in dir and returns its path.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// value reads the key at a dotted path from cfg.
func value(t *testing.T, cfg config.Config, path string) string {
	t.Helper()
	v := reflect.ValueOf(cfg)
	for _, part := range strings.Split(path, ".") {
		typ := v.Type()
		found := false
		for i := range typ.NumField() {
			if strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0] == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return "<no key " + path + ">"
		}
	}
	return v.String()
}

// yamlFor nests key (dotted) = val as YAML.
func yamlFor(key, val string) string {
	parts := strings.Split(key, ".")
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i == len(parts)-1 {
			b.WriteString(" " + val)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestSecretsFromFiles: every secret key can be read from a file, from
// YAML (<key>_file) and from the environment (PORTVAKT_<KEY>_FILE); the
// final newline is dropped; setting a key and its file is refused, as is
// a file that cannot be read. A key that is not a secret has no _file.
func TestSecretsFromFiles(t *testing.T) {
	for _, key := range config.SecretKeys {
		t.Run(key, func(t *testing.T) {
			dir := t.TempDir()
			secretFile := write(t, dir, "secret", "s3cret value for "+key+"\n")
			want := "s3cret value for " + key

			cfg, err := config.Load(write(t, dir, "a.yaml", yamlFor(key+"_file", secretFile)), nil)
			if err != nil {
				t.Fatalf("YAML %s_file: %v", key, err)
			}
			if got := value(t, cfg, key); got != want {
				t.Errorf("YAML %s_file: %s = %q, want %q", key, key, got, want)
			}

			env := config.EnvName(key) + "_FILE=" + secretFile
			cfg, err = config.Load("", []string{env})
			if err != nil {
				t.Fatalf("%s: %v", env, err)
			}
			if got := value(t, cfg, key); got != want {
				t.Errorf("%s: %s = %q, want %q", env, key, got, want)
			}

			both := yamlFor(key, "inline")
			both += strings.Repeat("  ", strings.Count(key, ".")) + key[strings.LastIndex(key, ".")+1:] + "_file: " + secretFile + "\n"
			if _, err := config.Load(write(t, dir, "both.yaml", both), nil); err == nil || !strings.Contains(err.Error(), "set only one") {
				t.Errorf("YAML with %s and %s_file: err = %v, want set only one\n%s", key, key, err, both)
			}
			if _, err := config.Load("", []string{config.EnvName(key) + "=x", env}); err == nil {
				t.Errorf("%s and its _FILE both set: no error", config.EnvName(key))
			}
			if _, err := config.Load(write(t, dir, "gone.yaml", yamlFor(key+"_file", filepath.Join(dir, "missing"))), nil); err == nil || !strings.Contains(err.Error(), key+"_file") {
				t.Errorf("YAML %s_file naming no file: err = %v, want one naming the key", key, err)
			}
		})
	}
	dir := t.TempDir()
	if _, err := config.Load(write(t, dir, "a.yaml", "service_name_file: "+write(t, dir, "n", "x")+"\n"), nil); err == nil {
		t.Error("service_name_file (not a secret) was accepted")
	}
}

// TestEnvironmentInLists: ${NAME} in a list item is the environment
// variable; an unset one is an error naming it and the line; a bare $ and
// scalars outside lists are left alone.
func TestEnvironmentInLists(t *testing.T) {
	dir := t.TempDir()
	yml := `service_name: "Cost ${NOT_EXPANDED}"
oidc:
  clients:
    - id: payroll
      public: true
      redirect_uris: ["${APP_URL}/callback", "https://static.example/cb$1"]
`
	cfg, err := config.Load(write(t, dir, "a.yaml", yml), []string{"APP_URL=https://payroll.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.OIDC.Clients[0].RedirectURIs; !reflect.DeepEqual(got, []string{"https://payroll.example.org/callback", "https://static.example/cb$1"}) {
		t.Errorf("redirect_uris = %q", got)
	}
	if cfg.ServiceName != "Cost ${NOT_EXPANDED}" {
		t.Errorf("a scalar outside a list was expanded: %q", cfg.ServiceName)
	}
	_, err = config.Load(write(t, dir, "b.yaml", yml), nil)
	if err == nil || !strings.Contains(err.Error(), "APP_URL") || !strings.Contains(err.Error(), "line 6") {
		t.Errorf("unset APP_URL: err = %v, want one naming the variable and line 6", err)
	}
}
