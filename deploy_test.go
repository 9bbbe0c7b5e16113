package portvakt_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/portvakt/portvakt/internal/config"
)

// The deployment files say what the issue asks of them, and name only
// what exists: the probes use /readyz and /healthz, the image checks
// itself with portvakt healthcheck, the systemd unit is hardened, and
// secrets come from files.
func TestDeployFiles(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	docker := read("Dockerfile")
	for _, want := range []string{"FROM scratch", `HEALTHCHECK`, `CMD ["/portvakt", "healthcheck"]`, "USER 65532:65532", "COPY dist/portvakt-linux-${TARGETARCH} /portvakt", "COPY dist/ca-certificates.crt"} {
		if !strings.Contains(docker, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	makefile := read("Makefile")
	for _, want := range []string{"dist/portvakt-linux-$$arch", "-X main.version=$(VERSION)", "dist/ca-certificates.crt", "RELEASE_ARCHES ?= amd64 arm64"} {
		if !strings.Contains(makefile, want) {
			t.Errorf("make release lacks %q, which the Dockerfile needs", want)
		}
	}

	unit := read("deploy/systemd/portvakt.service")
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=portvakt", "ProtectSystem=strict", "NoNewPrivileges=yes", "PORTVAKT_DATABASE_DSN=/var/lib/portvakt/", "_FILE=%d/"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the systemd unit lacks %q", want)
		}
	}

	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(read("deploy/compose/compose.yaml")), &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	pv, db := compose.Services["portvakt"], compose.Services["db"]
	if !strings.HasPrefix(db.Image, "docker.io/library/postgres:") || pv.Environment["PORTVAKT_DATABASE_DRIVER"] != "postgres" ||
		!strings.HasSuffix(pv.Environment["PORTVAKT_SECRETS_KEY_FILE"], "portvakt_key") || strings.Join(pv.Healthcheck.Test, " ") != "CMD /portvakt healthcheck" {
		t.Errorf("compose.yaml: portvakt = %+v, db = %+v", pv, db)
	}

	dec := yaml.NewDecoder(bytes.NewReader([]byte(read("deploy/kubernetes/portvakt.yaml"))))
	kinds := map[string]bool{}
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("portvakt.yaml: %v", err)
		}
		kinds[doc["kind"].(string)] = true
	}
	if !kinds["Deployment"] || !kinds["Service"] {
		t.Errorf("the Kubernetes manifests hold %v, want a Deployment and a Service", kinds)
	}
	k8s := read("deploy/kubernetes/portvakt.yaml")
	if !regexp.MustCompile(`readinessProbe:\s+httpGet: \{path: /readyz`).MatchString(k8s) || !regexp.MustCompile(`livenessProbe:\s+httpGet: \{path: /healthz`).MatchString(k8s) {
		t.Error("the Deployment's probes are not /readyz (readiness) and /healthz (liveness)")
	}
	// Every PORTVAKT_ variable the files set names a configuration key.
	for _, f := range []string{docker, unit, k8s, read("deploy/compose/compose.yaml")} {
		for _, m := range regexp.MustCompile(`PORTVAKT_[A-Z0-9_]+`).FindAllString(f, -1) {
			if !knownEnv(m) {
				t.Errorf("%s names no configuration key", m)
			}
		}
	}
}

// knownEnv reports whether name is PORTVAKT_<key> or PORTVAKT_<key>_FILE
// for a configuration key.
func knownEnv(name string) bool {
	name = strings.TrimSuffix(name, "_FILE")
	for _, k := range config.Keys() {
		if config.EnvName(k) == name {
			return true
		}
	}
	return false
}
