package portvakt_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README starts with exactly two commands (serve, test), and states
// the Go version go.mod needs and that apt needs root; the install script
// checks the same Go version.
func TestREADME_Prerequisites(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	gomod, _ := os.ReadFile("go.mod")
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(gomod))
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	goVersion := m[1] + "." + m[2]

	top := regexp.MustCompile("(?s)^# Portvakt\n\n```sh\n(.*?)```\n(.*?)\n\n").FindStringSubmatch(string(readme))
	if top == nil {
		t.Fatal("the README does not start with a sh block")
	}
	if cmds := strings.Split(strings.TrimSpace(top[1]), "\n"); len(cmds) != 2 || cmds[0] != "go run ./cmd/portvakt serve" || cmds[1] != "make test" {
		t.Errorf("the README's first block = %q, want the two commands go run ./cmd/portvakt serve and make test", cmds)
	}
	for _, want := range []string{"Go " + goVersion + " or newer", "root or sudo", "Node.js 20"} {
		if !strings.Contains(top[2], want) {
			t.Errorf("the README's first paragraph does not say %q:\n%s", want, top[2])
		}
	}
	script, _ := os.ReadFile("scripts/install-test-deps.sh")
	if !strings.Contains(string(script), "needs Go "+goVersion+" or newer") || !strings.Contains(string(script), "$4 >= "+m[2]) {
		t.Errorf("scripts/install-test-deps.sh does not check for Go %s", goVersion)
	}
}
