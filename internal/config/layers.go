package config

import (
	"fmt"
	"os"
	"strings"
)

// LoadProfile is Load with a base layer under the file: the defaults,
// then profile (a seed profile's YAML, named name in errors; none if nil),
// then the file at path (none if ""), then the environment. A file given
// with a profile therefore holds only the overrides, such as the
// production public_url and database.
//
// Secrets may come from files, as containers mount them: for every
// PORTVAKT_X_FILE=/path in environ whose PORTVAKT_X is not set, the
// file's content (without a final newline) is the value of PORTVAKT_X.
func LoadProfile(name string, profile []byte, path string, environ []string) (Config, error) {
	cfg := Default()
	if profile != nil {
		if err := decodeYAML(profile, &cfg, environ); err != nil {
			return cfg, fmt.Errorf("profile %s: %w", name, err)
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := decodeYAML(b, &cfg, environ); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	environ, err := ExpandFileEnv(environ)
	if err != nil {
		return cfg, err
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// ExpandFileEnv returns environ with every PORTVAKT_X_FILE=path replaced
// by PORTVAKT_X=<the file's content>, the final newline trimmed. Setting
// both PORTVAKT_X and PORTVAKT_X_FILE is an error, as is a file that
// cannot be read; a _FILE variable that names no configuration key is
// left as it is.
func ExpandFileEnv(environ []string) ([]string, error) {
	keys := map[string]bool{}
	for _, k := range Keys() {
		keys[EnvName(k)] = true
	}
	set := map[string]bool{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	out := make([]string, 0, len(environ))
	var errs []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		name, isFile := strings.CutSuffix(k, "_FILE")
		if !isFile || !strings.HasPrefix(k, "PORTVAKT_") || !keys[name] {
			out = append(out, kv)
			continue
		}
		if set[name] {
			errs = append(errs, fmt.Sprintf("%s and %s are both set; set only one", name, k))
			continue
		}
		b, err := os.ReadFile(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", k, err))
			continue
		}
		out = append(out, name+"="+strings.TrimRight(string(b), "\r\n"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}
