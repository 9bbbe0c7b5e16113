package portvakt_test

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/portvakt/portvakt"
	"github.com/portvakt/portvakt/internal/config"
)

// keyComments returns every scalar key path of the YAML document with its
// comment (the lines above the key, or the one after its value).
func keyComments(t *testing.T, n *yaml.Node, prefix string, out map[string]string) {
	t.Helper()
	if n.Kind == yaml.DocumentNode {
		keyComments(t, n.Content[0], prefix, out)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		// A key whose value is a mapping of its own is a section, unless it
		// is a map-valued key such as mfa.actions.
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
			keyComments(t, v, path, out)
			continue
		}
		out[path] = strings.TrimSpace(k.HeadComment + " " + k.LineComment + " " + v.LineComment)
	}
}

// The example configuration names every key, each with a comment, and as
// written it is exactly the defaults: a key added to config.Config without
// a line here fails this test.
func TestExampleConfig(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(portvakt.ExampleConfig, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	keyComments(t, &doc, "", got)
	// Keys that share one comment block (the SMS hourly limits, the
	// sign-in failures and their window) are documented by the first.
	shared := map[string]string{"sms.per_account_hour": "sms.per_number_hour", "sms.per_ip_hour": "sms.per_number_hour",
		"sms.global_hour": "sms.per_number_hour", "login.window": "login.failures"}
	comments := maps.Clone(got)
	for _, k := range config.Keys() {
		c, ok := got[k]
		if !ok {
			t.Errorf("portvakt.example.yaml lacks the key %s", k)
			continue
		}
		if c == "" && comments[shared[k]] == "" {
			t.Errorf("portvakt.example.yaml: %s has no comment", k)
		}
		delete(got, k)
	}
	for k := range got {
		t.Errorf("portvakt.example.yaml has %s, which is no configuration key", k)
	}

	path := filepath.Join(t.TempDir(), "portvakt.yaml")
	os.WriteFile(path, portvakt.ExampleConfig, 0o600)
	cfg, err := config.LoadProfile("", nil, path, nil)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if _, err := cfg.Validate(); err != nil {
		t.Errorf("the example is not valid: %v", err)
	}
	have, _ := cfg.Marshal()
	want, _ := config.Default().Marshal()
	if !bytes.Equal(have, want) {
		t.Errorf("the example's values are not the defaults:\n%s\nwant\n%s", have, want)
	}
}
