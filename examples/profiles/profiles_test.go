// Package profiles holds one configuration per seed portal; this test
// keeps each valid as the configuration grows.
package profiles

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

func TestProfilesAreValid(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	if len(files) != 5 {
		t.Fatalf("found %d profiles, want the five seed portals", len(files))
	}
	for _, f := range files {
		cfg, err := config.Load(f, nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		warnings, err := cfg.Validate()
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		// The seed policies deviate from NIST on purpose; config check
		// must say so, and say nothing else.
		for _, w := range warnings {
			if !strings.HasPrefix(w, "password:") && !strings.HasPrefix(w, "sms.sender") {
				t.Errorf("%s: unexpected warning %q", f, w)
			}
		}
	}
}

// TestProfilesCarryTheirBrand: each seed portal, as `serve --profile`
// loads it, has its own name and primary colour in the theme.
func TestProfilesCarryTheirBrand(t *testing.T) {
	want := map[string]string{"altinn": "Altinn", "idep": "IDEP.WEB", "udi": "UDI Min side", "visma": "Visma.net", "visma-connect": "Visma Connect"}
	for _, name := range Names() {
		b, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.LoadProfile(name, b, "", nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cfg.ServiceName != want[name] {
			t.Errorf("%s: service_name %q, want %q", name, cfg.ServiceName, want[name])
		}
		assets, errs := cfg.Branding.Load()
		if len(errs) > 0 || cfg.Branding.Colors.Primary == "" {
			t.Errorf("%s: branding.colors.primary %q: %v", name, cfg.Branding.Colors.Primary, errs)
			continue
		}
		if !strings.Contains(string(assets.Theme), "--accent:"+cfg.Branding.Colors.Primary+";") {
			t.Errorf("%s: the theme lacks the primary colour:\n%s", name, assets.Theme)
		}
	}
}
